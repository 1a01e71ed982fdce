"""What the journeys may record about an order or a return (RecordOrderProgress,
RecordReturnProgress)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from omni.words import FulfillmentStatus, FulfillmentType, OrderStatus, ReturnStatus
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.common.validation import Violations
from services.orders.domain.records import (
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderRecord,
    RefundRecord,
)

# Every status but PENDING, which only the orders service itself sets.
RECORDABLE_ORDER_STATUSES = frozenset(OrderStatus) - {OrderStatus.PENDING}
# A return that ends in one of these gives its quantities back to the order.
RETURN_STATUSES_RELEASING = frozenset({ReturnStatus.REJECTED, ReturnStatus.EXPIRED})


@dataclass(frozen=True)
class FulfillmentProgress:
    """A fulfillment as a journey reports it; empty or None parts keep what is stored."""

    fulfillment_id: str
    type: FulfillmentType | None
    location_id: str
    status: FulfillmentStatus | None
    lines: list[FulfillmentLineRecord]
    pickup_code: str = ""
    carrier: str = ""
    tracking_number: str = ""
    overdue: bool = False


@dataclass(frozen=True)
class OrderProgress:
    event_id: str
    order_id: str
    # None: unchanged.
    status: OrderStatus | None
    fulfillments: list[FulfillmentProgress] = field(default_factory=list)
    event: Event | None = None


@dataclass(frozen=True)
class ReturnProgress:
    event_id: str
    return_id: str
    # None: unchanged.
    status: ReturnStatus | None
    # Replace the return's refunds when not empty.
    refunds: list[RefundRecord] = field(default_factory=list)
    event: Event | None = None


def validate_order_progress(progress: OrderProgress) -> None:
    bad = Violations()
    bad.require("event_id", progress.event_id)
    bad.require("order_id", progress.order_id)
    if progress.status is not None and progress.status not in RECORDABLE_ORDER_STATUSES:
        bad.add("status", "must be one of " + ", ".join(sorted(RECORDABLE_ORDER_STATUSES)))
    for index, f in enumerate(progress.fulfillments):
        bad.require(f"fulfillments[{index}].fulfillment_id", f.fulfillment_id)
        if f.status is None:
            bad.add(f"fulfillments[{index}].status", "is required")
    bad.raise_if_any()


def validate_return_progress(progress: ReturnProgress) -> None:
    bad = Violations()
    bad.require("event_id", progress.event_id)
    bad.require("return_id", progress.return_id)
    bad.raise_if_any()


def releases_quantities(status: ReturnStatus | None) -> bool:
    return status in RETURN_STATUSES_RELEASING


def fulfillment_of(
    order: OrderRecord, reported: FulfillmentProgress, now: datetime
) -> FulfillmentRecord:
    """The fulfillment to store for a validated report; a new one needs its location."""
    known = any(f.fulfillment_id == reported.fulfillment_id for f in order.fulfillments)
    if not reported.location_id and not known:
        raise InvalidArgument.field("fulfillments.location_id", "is required")
    if reported.status is None:  # validate_order_progress names it first
        raise InvalidArgument.field("fulfillments.status", "is required")
    return FulfillmentRecord(
        fulfillment_id=reported.fulfillment_id,
        order_id=order.order_id,
        type=reported.type or order.fulfillment_type,
        location_id=reported.location_id,
        status=reported.status,
        lines=reported.lines,
        pickup_code=reported.pickup_code,
        carrier=reported.carrier,
        tracking_number=reported.tracking_number,
        updated_at=now,
        overdue=reported.overdue,
    )


def in_currency(refunds: list[RefundRecord], currency: str) -> list[RefundRecord]:
    """The refunds, those that do not say their currency in `currency` (the return's)."""
    return [
        replace(r, amount=Money(r.amount.amount_minor, r.amount.currency or currency))
        for r in refunds
    ]
