"""Returns: what a valid return is, what it refunds, and what a mail return's
parcel may hold. Whether anything of the order can be returned yet is the
order's rule (workflows/order/rules.py)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    RefundMethod,
    ReturnMethod,
    ReturnStatus,
    TenderType,
)
from services.common.errors import BusinessRuleViolation, Conflict, FieldViolation, InvalidArgument
from services.common.money import Money
from services.common.validation import Violations
from services.orders.domain import placing, pricing
from services.orders.domain.placing import OrderRequest, RequestedLine, RequestedTender
from services.orders.domain.records import (
    Address,
    OrderRecord,
    ReturnLineRecord,
    ReturnRecord,
)
from workflows.order import rules

# A mail return's journey takes its parcel from the moment it starts.
RECEIVABLE_RETURN_STATUSES = frozenset({ReturnStatus.REQUESTED, ReturnStatus.AWAITING_RECEIPT})


def new_return_id() -> str:
    return "ret_" + secrets.token_urlsafe(15)


@dataclass(frozen=True)
class ReturnRequestLine:
    sku: str
    quantity: int
    # None: a word the request does not name.
    condition: ItemCondition | None


@dataclass(frozen=True)
class ExchangeRequest:
    """What an exchange gets instead of (part of) the refund (issue 11): its
    own order, for the original order's customer, in its channel."""

    lines: list[RequestedLine]
    fulfillment_type: FulfillmentType | None
    location_id: str
    address: Address | None
    shipping_method: str = ""


@dataclass(frozen=True)
class ReturnRequest:
    order_id: str
    lines: list[ReturnRequestLine]
    method: ReturnMethod | None
    location_id: str
    # None: the order's channel.
    channel: Channel | None = None
    # None: the original tenders.
    refund_method: RefundMethod | None = None
    # An exchange: the replacement, reserved before the return is made.
    exchange: ExchangeRequest | None = None


@dataclass(frozen=True)
class BoughtLine:
    sku: str
    quantity: int
    returned_quantity: int
    unit_price_minor: int
    returnable_days: int
    # As priced at placement: the line's discount and tax.
    discount_minor: int = 0
    tax_minor: int = 0
    # Units line cancels gave up (never delivered: never returned).
    quantity_cancelled: int = 0


@dataclass(frozen=True)
class ReturnPlan:
    lines: list[ReturnRequestLine]
    refund_minor: int
    unit_prices: dict[str, int] = field(default_factory=dict)


def returnable_quantity(bought: int, already_returned: int) -> int:
    return max(bought - already_returned, 0)


def return_window_closes(reference: datetime, returnable_days: int) -> datetime:
    return reference + timedelta(days=returnable_days)


def _check_lines(lines: list[ReturnRequestLine], bad: Violations) -> None:
    if not lines:
        bad.add("lines", "at least one line is required")
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if not line.sku:
            bad.add(f"lines[{index}].sku", "is required")
        elif line.sku in seen:
            bad.add(f"lines[{index}].sku", "is listed twice")
        seen.add(line.sku)
        if line.quantity < 1:
            bad.add(f"lines[{index}].quantity", "must be at least 1")
        if line.condition is None:
            bad.add(f"lines[{index}].condition", "must be sellable or damaged")


def validate_return_shape(
    method: ReturnMethod | None, location_id: str, lines: list[ReturnRequestLine]
) -> None:
    bad = Violations()
    if method is None:
        bad.add("method", "must be in_store or mail")
    elif method == ReturnMethod.IN_STORE and not location_id:
        bad.add("location_id", "is required for an in-store return")
    _check_lines(lines, bad)
    bad.raise_if_any()


def validate_return_request(request: ReturnRequest) -> None:
    bad = Violations()
    bad.require("order_id", request.order_id)
    if request.exchange is not None and request.refund_method == RefundMethod.STORE_CREDIT:
        bad.add("refund_method", "an exchange pays with the refund; leave it out")
    bad.raise_if_any()
    validate_return_shape(request.method, request.location_id, request.lines)
    if request.exchange is not None:
        replacement_request(request.exchange, customer_id="-", channel=Channel.WEB)


# A tender only to check the replacement's shape: placing it names its own.
_SHAPE_ONLY = RequestedTender(TenderType.CARD, token="exchange")


def replacement_request(
    exchange: ExchangeRequest, *, customer_id: str, channel: Channel, exchange_for: str = ""
) -> OrderRequest:
    """The replacement as an order of the original's customer and channel
    (priced by the one pricing function), checked like any order; its field
    errors name `exchange.<field>`. Its tenders are the return's refund and
    the original card, named when it is placed (use_cases.place_exchange)."""
    if exchange.fulfillment_type not in (FulfillmentType.PICKUP, FulfillmentType.SHIP):
        # A till sale (carry_out) is paid and taken at once: not a replacement.
        raise InvalidArgument.field("exchange.fulfillment.type", "must be pickup or ship")
    wanted = OrderRequest(
        customer_id=customer_id,
        channel=channel,
        lines=exchange.lines,
        fulfillment_type=exchange.fulfillment_type,
        location_id=exchange.location_id,
        address=exchange.address,
        tenders=[_SHAPE_ONLY],
        shipping_method=exchange.shipping_method,
        exchange_for=exchange_for,
    )
    try:
        checked = placing.validate_order_request(wanted)
    except InvalidArgument as bad:
        named = [FieldViolation(f"exchange.{v.field}", v.message) for v in bad.violations]
        message = "; ".join(f"{v.field}: {v.message}" for v in named)
        raise InvalidArgument(message, named) from None
    return replace(checked, tenders=[])


def bought_lines(order: OrderRecord) -> dict[str, BoughtLine]:
    return {
        line.sku: BoughtLine(
            line.sku,
            line.quantity,
            line.returned_quantity,
            line.unit_price_minor,
            line.returnable_days,
            line.discount_minor,
            line.tax_minor,
            line.quantity_cancelled,
        )
        for line in order.lines
    }


def plan_return(
    *,
    order_status: OrderStatus,
    fulfillment_statuses: Iterable[FulfillmentStatus],
    bought: dict[str, BoughtLine],
    lines: list[ReturnRequestLine],
    window_reference: datetime,
    now: datetime,
    shipping_with_tax_minor: int = 0,
) -> ReturnPlan:
    """Checks a well-formed return against the order; returns the refund due:
    what was paid for those units after discounts plus their tax, and the
    shipping (with its tax) when this return brings the whole order back
    (services/orders/domain/pricing.py)."""
    if not rules.may_return(order_status, fulfillment_statuses):
        raise Conflict(
            "INVALID_STATE",
            f"an order that is {order_status} has nothing to return yet",
            {"status": order_status},
        )
    unknown = Violations()
    for index, line in enumerate(lines):
        if line.sku not in bought:
            unknown.add(f"lines[{index}].sku", f"{line.sku} was not bought in this order")
    unknown.raise_if_any()
    for line in lines:
        item = bought[line.sku]
        closes = return_window_closes(window_reference, item.returnable_days)
        if now > closes:
            raise BusinessRuleViolation(
                "RETURN_WINDOW_CLOSED",
                f"{line.sku} could be returned until {closes.isoformat()}",
                {"sku": line.sku, "closed_at": closes.isoformat()},
            )
        left = returnable_quantity(item.quantity - item.quantity_cancelled, item.returned_quantity)
        if line.quantity > left:
            raise return_quantity_exceeded(line.sku, line.quantity, left)
    refund = pricing.refund_for_return(
        [
            pricing.PaidLine(
                item.sku,
                item.quantity,
                item.unit_price_minor * item.quantity,
                item.discount_minor,
                item.tax_minor,
            )
            for item in bought.values()
        ],
        # The cancelled units' shares came first (the line cancel gave them
        # back): a return's start after them, so together they are the line.
        {item.sku: item.quantity_cancelled + item.returned_quantity for item in bought.values()},
        {line.sku: line.quantity for line in lines},
        shipping_with_tax_minor,
    )
    prices = {line.sku: bought[line.sku].unit_price_minor for line in lines}
    return ReturnPlan(lines=lines, refund_minor=refund, unit_prices=prices)


def plan_return_of(order: OrderRecord, lines: list[ReturnRequestLine], now: datetime) -> ReturnPlan:
    """plan_return for a stored order: its window counts from completion."""
    return plan_return(
        order_status=order.status,
        fulfillment_statuses=[f.status for f in order.fulfillments],
        bought=bought_lines(order),
        lines=lines,
        window_reference=order.completed_at or order.created_at,
        now=now,
        shipping_with_tax_minor=order.shipping_minor + order.shipping_tax_minor,
    )


def new_return(
    request: ReturnRequest,
    order: OrderRecord,
    plan: ReturnPlan,
    *,
    return_id: str,
    workflow_id: str,
    now: datetime,
) -> ReturnRecord:
    """The return as first stored: requested, its lines at the prices the order paid."""
    return ReturnRecord(
        return_id=return_id,
        order_id=order.order_id,
        customer_id=order.customer_id,
        channel=request.channel or order.channel,
        status=ReturnStatus.REQUESTED,
        method=request.method or ReturnMethod.IN_STORE,
        location_id=request.location_id if request.method == ReturnMethod.IN_STORE else "",
        refund=Money(plan.refund_minor, order.total.currency),
        lines=[
            ReturnLineRecord(
                line.sku,
                line.quantity,
                line.condition or ItemCondition.SELLABLE,
                plan.unit_prices[line.sku],
            )
            for line in plan.lines
        ],
        refunds=[],
        workflow_id=workflow_id,
        created_at=now,
        refund_method=request.refund_method or RefundMethod.ORIGINAL,
    )


def return_quantity_exceeded(sku: str, asked: int, left: int | None) -> BusinessRuleViolation:
    """`left` is None when a concurrent return took the rest and the figure is stale."""
    if left is None:
        return BusinessRuleViolation(
            "RETURN_QUANTITY_EXCEEDED",
            f"{asked} of {sku} can no longer be returned",
            {"sku": sku, "requested": str(asked)},
        )
    return BusinessRuleViolation(
        "RETURN_QUANTITY_EXCEEDED",
        f"only {left} of {sku} can still be returned",
        {"sku": sku, "requested": str(asked), "returnable": str(left)},
    )


# ---------------------------------------------------------------- mail receipts


def check_receivable(method: ReturnMethod, status: ReturnStatus) -> None:
    """A mail return waiting for its parcel, or an in-store return waiting at
    its store (the receiving location is then the return's own: the claim
    refuses any other), can be received."""
    if method not in (ReturnMethod.MAIL, ReturnMethod.IN_STORE):
        raise Conflict("INVALID_STATE", "only a mail or in-store return is received")
    if status not in RECEIVABLE_RETURN_STATUSES:
        raise Conflict(
            "INVALID_STATE", f"cannot receive a return that is {status}", {"status": status}
        )


def validate_receipt(
    location_id: str, returned: dict[str, int], lines: list[ReturnRequestLine]
) -> None:
    """What arrived: lines of the return, each sku at most the quantity returned
    (one line per sku and condition, so a sku may arrive part sellable, part damaged).
    A line of 0 takes none of that sku (nothing of it arrived, or nothing
    returnable); a receipt of only such lines rejects the return (the journey)."""
    bad = Violations()
    bad.require("location_id", location_id)
    if not lines:
        bad.add("lines", "at least one line is required")
    seen: set[tuple[str, ItemCondition | None]] = set()
    arrived: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.sku not in returned:
            bad.add(f"lines[{index}].sku", "is not part of this return")
            continue
        if line.condition is None:
            bad.add(f"lines[{index}].condition", "must be sellable or damaged")
        elif (line.sku, line.condition) in seen:
            bad.add(f"lines[{index}].sku", "is listed twice")
        seen.add((line.sku, line.condition))
        if line.quantity < 0:
            bad.add(f"lines[{index}].quantity", "must not be negative")
            continue
        arrived[line.sku] = arrived.get(line.sku, 0) + line.quantity
        if arrived[line.sku] > returned[line.sku]:
            bad.add(
                f"lines[{index}].quantity",
                f"{line.sku}: {arrived[line.sku]} received, {returned[line.sku]} returned",
            )
    bad.raise_if_any()
