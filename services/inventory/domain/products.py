"""Products: the catalog entries stock is kept of."""

from __future__ import annotations

from dataclasses import dataclass

from services.common.money import Money, is_currency_code
from services.common.validation import Violations
from services.inventory.domain.locations import MAX_TEXT


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Money
    returnable_days: int


def check_product(product: Product, violations: Violations, prefix: str = "product") -> None:
    violations.check_id(f"{prefix}.sku", product.sku)
    violations.check_text(f"{prefix}.name", product.name, required=True, max_length=MAX_TEXT)
    if product.price.amount_minor <= 0:
        violations.add(f"{prefix}.price.amount_minor", "must be > 0")
    if not is_currency_code(product.price.currency):
        violations.add(f"{prefix}.price.currency", "must be a 3-letter ISO 4217 code, e.g. USD")
    if product.returnable_days < 0:
        violations.add(f"{prefix}.returnable_days", "must be >= 0")
