"""One cart per customer, the same on every device. No I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from omni.words import Channel
from services.common.errors import Conflict
from services.common.validation import Violations
from services.customers.domain.customers import MAX_TEXT_LENGTH

MAX_CART_LINES = 100
MAX_LINE_QUANTITY = 999
MAX_SKU_LENGTH = 64

CART_VERSION_MISMATCH = "CART_VERSION_MISMATCH"


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Cart:
    customer_id: str
    lines: list[CartLine] = field(default_factory=list)
    channel: Channel | None = None
    version: int = 0
    updated_at: datetime | None = None

    @property
    def items(self) -> int:
        return sum(line.quantity for line in self.lines)


def version_mismatch(expected_version: int, current: Cart) -> Conflict:
    """A conditional write that lost: somebody changed the cart since `expected_version`."""
    return Conflict(
        CART_VERSION_MISMATCH,
        f"the cart changed since version {expected_version}; it is at {current.version}",
        {"expected_version": str(expected_version), "current_version": str(current.version)},
    )


def _check_sku(violations: Violations, index: int, sku: str) -> None:
    if not sku or len(sku) > MAX_SKU_LENGTH:
        violations.add(f"lines[{index}].sku", f"must be 1 to {MAX_SKU_LENGTH} characters")


def validate_cart_lines(lines: list[CartLine]) -> list[CartLine]:
    violations = Violations()
    if len(lines) > MAX_CART_LINES:
        violations.add("lines", f"may hold at most {MAX_CART_LINES} lines")
    seen: set[str] = set()
    for index, line in enumerate(lines):
        _check_sku(violations, index, line.sku)
        if line.sku in seen:
            violations.add(f"lines[{index}].sku", "is listed twice")
        seen.add(line.sku)
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            violations.add(f"lines[{index}].quantity", f"must be 1 to {MAX_LINE_QUANTITY}")
    violations.raise_if_any()
    return lines


def validate_checkout(order_id: str, ordered_skus: list[str]) -> None:
    violations = Violations()
    if not order_id or len(order_id) > MAX_TEXT_LENGTH:
        violations.add("order_id", f"must be 1 to {MAX_TEXT_LENGTH} characters")
    for index, sku in enumerate(ordered_skus):
        _check_sku(violations, index, sku)
    violations.raise_if_any()


def without_ordered(lines: list[CartLine], ordered_skus: Iterable[str]) -> list[CartLine]:
    """The cart after checkout: the ordered skus leave it, whatever their
    quantities; what was not ordered stays for later."""
    gone = set(ordered_skus)
    return [line for line in lines if line.sku not in gone]


def merge_cart_lines(kept: list[CartLine], incoming: list[CartLine]) -> list[CartLine]:
    """The union of two carts, the larger quantity per sku: the same item put in
    the cart on two devices is one item, and merging twice changes nothing."""
    quantities = {line.sku: line.quantity for line in kept}
    for line in incoming:
        quantities[line.sku] = max(quantities.get(line.sku, 0), line.quantity)
    return [CartLine(sku, quantity) for sku, quantity in quantities.items()][:MAX_CART_LINES]
