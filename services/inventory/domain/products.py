"""Products: the catalog entries stock is kept of, and the price each channel pays."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from omni.words import Channel
from services.common.money import Money, is_currency_code
from services.common.validation import Violations
from services.inventory.domain.locations import MAX_TEXT


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Money
    returnable_days: int
    # An inactive product cannot be ordered; its orders and returns still work.
    active: bool = True
    # A channel's own price; a channel without one pays `price`.
    channel_prices: dict[Channel, Money] = field(default_factory=dict)

    def price_for(self, channel: Channel | None) -> Money:
        if channel is None:
            return self.price
        return self.channel_prices.get(channel, self.price)

    def as_seen_in(self, channel: Channel | None) -> Product:
        """The product with `price` the channel's."""
        return replace(self, price=self.price_for(channel))


@dataclass(frozen=True)
class ProductChanges:
    """A PATCH: None leaves the field as it is."""

    name: str | None = None
    price: Money | None = None
    returnable_days: int | None = None
    active: bool | None = None


def check_price(price: Money, violations: Violations, prefix: str) -> None:
    if price.amount_minor <= 0:
        violations.add(f"{prefix}.amount_minor", "must be > 0")
    if not is_currency_code(price.currency):
        violations.add(f"{prefix}.currency", "must be a 3-letter ISO 4217 code, e.g. USD")


def check_product(product: Product, violations: Violations, prefix: str = "product") -> None:
    violations.check_id(f"{prefix}.sku", product.sku)
    violations.check_text(f"{prefix}.name", product.name, required=True, max_length=MAX_TEXT)
    check_price(product.price, violations, f"{prefix}.price")
    if product.returnable_days < 0:
        violations.add(f"{prefix}.returnable_days", "must be >= 0")


def changed_product(product: Product, changes: ProductChanges) -> Product:
    """The product after a PATCH; check it with check_product. A price may not
    change currency while channel prices in the old one remain."""
    return Product(
        sku=product.sku,
        name=product.name if changes.name is None else changes.name,
        price=product.price if changes.price is None else changes.price,
        returnable_days=(
            product.returnable_days if changes.returnable_days is None else changes.returnable_days
        ),
        active=product.active if changes.active is None else changes.active,
        channel_prices=product.channel_prices,
    )


def check_channel_price(
    product: Product, channel: Channel | None, price: Money, violations: Violations
) -> None:
    if channel is None:
        violations.add("channel", "must be one of " + ", ".join(Channel))
    check_price(price, violations, "price")
    if price.currency != product.price.currency:
        violations.add(
            "price.currency", f"must be the product's currency, {product.price.currency}"
        )


def check_currency_kept(product: Product, changed: Product, violations: Violations) -> None:
    if changed.price.currency != product.price.currency and product.channel_prices:
        violations.add(
            "price.currency", "cannot change while channel prices in the old currency remain"
        )
