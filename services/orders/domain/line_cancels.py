"""Line cancels (issue 11): what the orders service hands the journey. The
journey decides whether the units may still be cancelled (workflows/order/
line_cancels.py); here each line gets its paid shares from the one pricing
function, so the journey gives back exactly what those units cost."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from services.common.validation import Violations
from services.orders.domain import pricing
from services.orders.domain.records import OrderRecord

MAX_CANCEL_LINES = 200


@dataclass(frozen=True)
class CancelledLine:
    sku: str
    quantity: int
    # pricing.paid_upto of the order's line; empty for a sku the order lacks
    # (the journey refuses it: 422).
    paid_upto: tuple[int, ...] = ()


def lines_to_cancel(order: OrderRecord, asked: Sequence[tuple[str, int]]) -> list[CancelledLine]:
    """The asked (sku, quantity) lines with their paid shares; InvalidArgument
    for a malformed request (no lines, a quantity below 1, a sku twice)."""
    bad = Violations()
    if not asked:
        bad.add("lines", "name at least one line to cancel")
    if len(asked) > MAX_CANCEL_LINES:
        bad.add("lines", f"at most {MAX_CANCEL_LINES} lines")
    seen: set[str] = set()
    for index, (sku, quantity) in enumerate(asked):
        bad.require(f"lines[{index}].sku", sku)
        if quantity < 1:
            bad.add(f"lines[{index}].quantity", "must be at least 1")
        if sku in seen:
            bad.add(f"lines[{index}].sku", f"{sku} is listed twice")
        seen.add(sku)
    bad.raise_if_any()
    bought = {line.sku: line for line in order.lines}
    cancelled: list[CancelledLine] = []
    for sku, quantity in asked:
        line = bought.get(sku)
        shares: tuple[int, ...] = ()
        if line is not None:
            shares = tuple(
                pricing.paid_upto(
                    pricing.PaidLine(
                        line.sku,
                        line.quantity,
                        line.subtotal_minor,
                        line.discount_minor,
                        line.tax_minor,
                    )
                )
            )
        cancelled.append(CancelledLine(sku, quantity, shares))
    return cancelled
