"""Orders' pure rules: what a valid order or return is, and the arithmetic of
returns. No I/O here; the servicer hands in plain values and gets plain values
(or a domain error) back."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    FieldViolation,
    InvalidArgument,
)

CHANNELS = ("web", "app", "pos", "call_center", "marketplace")
FULFILLMENT_TYPES = ("pickup", "ship")
TENDER_TYPES = ("card", "gift_card")

# "pending" (key stored, journey not yet answered) and "rejected" (placement
# refused) are internal: such orders are invisible to readers.
HIDDEN_ORDER_STATUSES = ("pending", "rejected")
ORDER_STATUSES = (
    "placed",
    "in_fulfillment",
    "ready_for_pickup",
    "partially_shipped",
    "shipped",
    "completed",
    "cancelled",
)
RECORDABLE_ORDER_STATUSES = (*ORDER_STATUSES, "rejected")
# A cancel of these is refused before the workflow is even asked.
UNCANCELLABLE_ORDER_STATUSES = ("completed", "shipped", "cancelled")
RETURNABLE_ORDER_STATUSES = ("partially_shipped", "shipped", "completed")

FULFILLMENT_STATUSES = (
    "pending",
    "picking",
    "picked",
    "ready_for_pickup",
    "picked_up",
    "shipped",
    "cancelled",
    "rerouted",
)
HANDED_OVER_FULFILLMENT_STATUSES = ("picked_up", "shipped")

RETURN_STATUSES = ("requested", "awaiting_receipt", "received", "refunded", "rejected", "expired")
# A return that ends in one of these gives its quantities back to the order.
RETURN_STATUSES_RELEASING = ("rejected", "expired")
# A mail return's journey takes its parcel from the moment it starts.
RECEIVABLE_RETURN_STATUSES = ("requested", "awaiting_receipt")
RETURN_METHODS = ("in_store", "mail")
RETURN_CONDITIONS = ("sellable", "damaged")
# Where a return's refund goes: the order's tenders, or store credit.
REFUND_ORIGINAL = "original"
REFUND_STORE_CREDIT = "store_credit"
REFUND_METHODS = (REFUND_ORIGINAL, REFUND_STORE_CREDIT)
REFUND_STATUSES = ("pending", "succeeded", "failed")

TASK_TYPES = ("pick", "pickup", "return")
MAX_ARRIVAL_NOTE_LENGTH = 500
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

MAX_LINE_QUANTITY = 1000
MAX_LINES = 200


def new_order_id() -> str:
    return "ord_" + secrets.token_urlsafe(15)


def new_return_id() -> str:
    return "ret_" + secrets.token_urlsafe(15)


# ---------------------------------------------------------------- placing


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class RequestedAddress:
    line1: str
    city: str
    postal_code: str
    country: str
    lat: float
    lon: float


@dataclass(frozen=True)
class RequestedTender:
    type: str
    token: str = ""
    code: str = ""
    amount_minor: int = 0


@dataclass(frozen=True)
class OrderRequest:
    customer_id: str
    channel: str
    lines: list[RequestedLine]
    fulfillment_type: str
    location_id: str
    address: RequestedAddress | None
    tenders: list[RequestedTender]
    associate_id: str = ""
    store_id: str = ""
    referral_associate_id: str = ""


@dataclass(frozen=True)
class CatalogPrice:
    sku: str
    price_minor: int
    currency: str
    returnable_days: int


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price_minor: int
    returnable_days: int


@dataclass(frozen=True)
class PricedOrder:
    lines: list[PricedLine]
    currency: str
    total_minor: int


def _raise_if(violations: list[FieldViolation]) -> None:
    if violations:
        summary = "; ".join(f"{v.field}: {v.message}" for v in violations)
        raise InvalidArgument(summary, violations)


def merge_lines(lines: list[RequestedLine]) -> list[RequestedLine]:
    """Repeated SKUs become one line (first position kept, quantities summed)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return [RequestedLine(sku, quantity) for sku, quantity in totals.items()]


def validate_order_request(request: OrderRequest) -> OrderRequest:
    """Raises InvalidArgument naming every bad field; returns it with lines merged."""
    bad: list[FieldViolation] = []
    if not request.customer_id:
        bad.append(FieldViolation("customer_id", "is required"))
    if request.channel not in CHANNELS:
        bad.append(FieldViolation("channel", f"must be one of {', '.join(CHANNELS)}"))
    if not request.lines:
        bad.append(FieldViolation("lines", "at least one line is required"))
    if len(request.lines) > MAX_LINES:
        bad.append(FieldViolation("lines", f"at most {MAX_LINES} lines"))
    for index, line in enumerate(request.lines):
        if not line.sku:
            bad.append(FieldViolation(f"lines[{index}].sku", "is required"))
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            bad.append(
                FieldViolation(
                    f"lines[{index}].quantity", f"must be between 1 and {MAX_LINE_QUANTITY}"
                )
            )
    bad += _fulfillment_violations(request)
    bad += _tender_violations(request.tenders)
    _raise_if(bad)
    merged = merge_lines(request.lines)
    for index, line in enumerate(merged):
        if line.quantity > MAX_LINE_QUANTITY:
            bad.append(
                FieldViolation(
                    f"lines[{index}].quantity",
                    f"{line.sku} totals more than {MAX_LINE_QUANTITY}",
                )
            )
    _raise_if(bad)
    return OrderRequest(
        customer_id=request.customer_id,
        channel=request.channel,
        lines=merged,
        fulfillment_type=request.fulfillment_type,
        location_id=request.location_id,
        address=request.address,
        tenders=request.tenders,
        associate_id=request.associate_id,
        store_id=request.store_id,
        referral_associate_id=request.referral_associate_id,
    )


def _fulfillment_violations(request: OrderRequest) -> list[FieldViolation]:
    if request.fulfillment_type not in FULFILLMENT_TYPES:
        return [FieldViolation("fulfillment.type", "must be pickup or ship")]
    if request.fulfillment_type == "pickup":
        if not request.location_id:
            return [FieldViolation("fulfillment.location_id", "is required for pickup")]
        return []
    address = request.address
    if address is None:
        return [FieldViolation("fulfillment.address", "is required for ship")]
    bad: list[FieldViolation] = []
    for name in ("line1", "city", "postal_code", "country"):
        if not getattr(address, name):
            bad.append(FieldViolation(f"fulfillment.address.{name}", "is required"))
    if not -90.0 <= address.lat <= 90.0:
        bad.append(FieldViolation("fulfillment.address.point.lat", "must be within -90..90"))
    if not -180.0 <= address.lon <= 180.0:
        bad.append(FieldViolation("fulfillment.address.point.lon", "must be within -180..180"))
    return bad


def _tender_violations(tenders: list[RequestedTender]) -> list[FieldViolation]:
    if not tenders:
        return [FieldViolation("tenders", "at least one tender is required")]
    bad: list[FieldViolation] = []
    cards = 0
    for index, tender in enumerate(tenders):
        where = f"tenders[{index}]"
        if tender.type not in TENDER_TYPES:
            bad.append(FieldViolation(f"{where}.type", "must be card or gift_card"))
        elif tender.type == "card":
            cards += 1
            if not tender.token:
                bad.append(FieldViolation(f"{where}.token", "is required for a card"))
            if tender.amount_minor != 0:
                bad.append(FieldViolation(f"{where}.amount", "a card covers the remainder: give 0"))
        else:
            if not tender.code:
                bad.append(FieldViolation(f"{where}.code", "is required for a gift card"))
            if tender.amount_minor < 0:
                bad.append(FieldViolation(f"{where}.amount", "must not be negative"))
            if tender.amount_minor == 0 and len(tenders) > 1:
                bad.append(FieldViolation(f"{where}.amount", "is required with several tenders"))
    if cards > 1:
        bad.append(FieldViolation("tenders", "at most one card tender"))
    return bad


def price_order(lines: list[RequestedLine], catalog: dict[str, CatalogPrice]) -> PricedOrder:
    """Captures price and return window per line; every SKU must be in `catalog`."""
    currencies = {catalog[line.sku].currency for line in lines}
    if len(currencies) != 1:
        raise BusinessRuleViolation(
            "MIXED_CURRENCY",
            "all items of an order must be priced in one currency",
            {"currencies": ",".join(sorted(currencies))},
        )
    priced = [
        PricedLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=catalog[line.sku].price_minor,
            returnable_days=catalog[line.sku].returnable_days,
        )
        for line in lines
    ]
    total = sum(line.unit_price_minor * line.quantity for line in priced)
    return PricedOrder(lines=priced, currency=currencies.pop(), total_minor=total)


def settle_tenders(tenders: list[RequestedTender], total_minor: int) -> list[RequestedTender]:
    """Checks the tenders can pay `total_minor`; a lone gift card without an
    amount is given the whole total."""
    if len(tenders) == 1 and tenders[0].type == "gift_card" and tenders[0].amount_minor == 0:
        only = tenders[0]
        return [RequestedTender(only.type, only.token, only.code, total_minor)]
    gift_total = sum(t.amount_minor for t in tenders if t.type == "gift_card")
    has_card = any(t.type == "card" for t in tenders)
    if gift_total > total_minor:
        raise InvalidArgument.field("tenders", "gift card amounts exceed the order total")
    if not has_card and gift_total != total_minor:
        raise InvalidArgument.field(
            "tenders", "gift card amounts must cover the total when no card is given"
        )
    return tenders


# ---------------------------------------------------------------- store actions


# A store may reject work it has not handed over yet (a ship fulfilment that is
# picked is still "picking" to the journey).
REJECTABLE_FULFILLMENT_STATUSES = ("pending", "picking", "picked")
MAX_REJECT_REASON_LENGTH = 500


def validate_reject_reason(reason: str) -> None:
    if not reason.strip():
        raise InvalidArgument.field("reason", "is required")
    if len(reason) > MAX_REJECT_REASON_LENGTH:
        raise InvalidArgument.field("reason", f"at most {MAX_REJECT_REASON_LENGTH} characters")


def check_rejectable(fulfillment_status: str) -> None:
    if fulfillment_status not in REJECTABLE_FULFILLMENT_STATUSES:
        raise Conflict(
            "INVALID_STATE",
            f"a fulfillment that is {fulfillment_status} cannot be rejected",
            {"status": fulfillment_status},
        )


def check_cancellable(order_status: str) -> None:
    if order_status in UNCANCELLABLE_ORDER_STATUSES:
        raise Conflict(
            "INVALID_STATE",
            f"an order that is {order_status} cannot be cancelled",
            {"status": order_status},
        )


@dataclass(frozen=True)
class PickedLine:
    sku: str
    quantity_picked: int


def validate_pick(ordered: dict[str, int], picked: list[PickedLine]) -> None:
    """Every line of the fulfillment exactly once, 0..ordered picked."""
    bad: list[FieldViolation] = []
    if not picked:
        bad.append(FieldViolation("lines", "list every line of the fulfillment"))
    seen: set[str] = set()
    for index, line in enumerate(picked):
        if line.sku not in ordered:
            bad.append(FieldViolation(f"lines[{index}].sku", "is not in this fulfillment"))
            continue
        if line.sku in seen:
            bad.append(FieldViolation(f"lines[{index}].sku", "is listed twice"))
        seen.add(line.sku)
        if not 0 <= line.quantity_picked <= ordered[line.sku]:
            bad.append(
                FieldViolation(
                    f"lines[{index}].quantity",
                    f"must be between 0 and {ordered[line.sku]}",
                )
            )
    missing = sorted(set(ordered) - seen)
    if picked and missing and not bad:
        bad.append(FieldViolation("lines", f"missing lines for {', '.join(missing)}"))
    _raise_if(bad)


def check_arrival(fulfillment_type: str, status: str, note: str) -> None:
    """Curbside: only a pickup that is waiting for its customer, with a short note."""
    if len(note) > MAX_ARRIVAL_NOTE_LENGTH:
        raise InvalidArgument.field("note", f"must be at most {MAX_ARRIVAL_NOTE_LENGTH} characters")
    if fulfillment_type != "pickup":
        raise Conflict("INVALID_STATE", "only a pickup has a customer arriving")
    if status != "ready_for_pickup":
        raise Conflict(
            "INVALID_STATE",
            f"a pickup that is {status} is not waiting for its customer",
            {"status": status},
        )


def check_receivable(method: str, status: str) -> None:
    """Only a mail return still waiting for its parcel can be received."""
    if method != "mail":
        raise Conflict("INVALID_STATE", "only a mail return is received")
    if status not in RECEIVABLE_RETURN_STATUSES:
        raise Conflict(
            "INVALID_STATE", f"cannot receive a return that is {status}", {"status": status}
        )


def validate_receipt(
    location_id: str, returned: dict[str, int], lines: list[ReturnRequestLine]
) -> None:
    """What arrived: lines of the return, each sku at most the quantity returned
    (one line per sku and condition, so a sku may arrive part sellable, part damaged)."""
    bad: list[FieldViolation] = []
    if not location_id:
        bad.append(FieldViolation("location_id", "is required"))
    if not lines:
        bad.append(FieldViolation("lines", "at least one line is required"))
    seen: set[tuple[str, str]] = set()
    arrived: dict[str, int] = {}
    for index, line in enumerate(lines):
        if line.sku not in returned:
            bad.append(FieldViolation(f"lines[{index}].sku", "is not part of this return"))
            continue
        if line.condition not in RETURN_CONDITIONS:
            bad.append(FieldViolation(f"lines[{index}].condition", "must be sellable or damaged"))
        elif (line.sku, line.condition) in seen:
            bad.append(FieldViolation(f"lines[{index}].sku", "is listed twice"))
        seen.add((line.sku, line.condition))
        if line.quantity < 1:
            bad.append(FieldViolation(f"lines[{index}].quantity", "must be at least 1"))
            continue
        arrived[line.sku] = arrived.get(line.sku, 0) + line.quantity
        if arrived[line.sku] > returned[line.sku]:
            bad.append(
                FieldViolation(
                    f"lines[{index}].quantity",
                    f"{line.sku}: {arrived[line.sku]} received, {returned[line.sku]} returned",
                )
            )
    _raise_if(bad)


def validate_record_status(status: str, allowed: tuple[str, ...], field_name: str) -> None:
    if status and status not in allowed:
        raise InvalidArgument.field(field_name, f"must be one of {', '.join(allowed)}")


# ---------------------------------------------------------------- returns


@dataclass(frozen=True)
class ReturnRequestLine:
    sku: str
    quantity: int
    condition: str


@dataclass(frozen=True)
class BoughtLine:
    sku: str
    quantity: int
    returned_quantity: int
    unit_price_minor: int
    returnable_days: int


@dataclass(frozen=True)
class ReturnPlan:
    lines: list[ReturnRequestLine]
    refund_minor: int
    unit_prices: dict[str, int] = field(default_factory=dict)


def returnable_quantity(bought: int, already_returned: int) -> int:
    return max(bought - already_returned, 0)


def return_window_closes(reference: datetime, returnable_days: int) -> datetime:
    return reference + timedelta(days=returnable_days)


def validate_return_shape(method: str, location_id: str, lines: list[ReturnRequestLine]) -> None:
    bad: list[FieldViolation] = []
    if method not in RETURN_METHODS:
        bad.append(FieldViolation("method", "must be in_store or mail"))
    elif method == "in_store" and not location_id:
        bad.append(FieldViolation("location_id", "is required for an in-store return"))
    if not lines:
        bad.append(FieldViolation("lines", "at least one line is required"))
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if not line.sku:
            bad.append(FieldViolation(f"lines[{index}].sku", "is required"))
        elif line.sku in seen:
            bad.append(FieldViolation(f"lines[{index}].sku", "is listed twice"))
        seen.add(line.sku)
        if line.quantity < 1:
            bad.append(FieldViolation(f"lines[{index}].quantity", "must be at least 1"))
        if line.condition not in RETURN_CONDITIONS:
            bad.append(FieldViolation(f"lines[{index}].condition", "must be sellable or damaged"))
    _raise_if(bad)


def refund_method(value: str) -> str:
    """The return's refund method; empty means the original tenders."""
    if not value:
        return REFUND_ORIGINAL
    if value not in REFUND_METHODS:
        raise InvalidArgument.field("refund_method", f"must be one of {', '.join(REFUND_METHODS)}")
    return value


def plan_return(
    *,
    order_status: str,
    handed_over: bool,
    bought: dict[str, BoughtLine],
    lines: list[ReturnRequestLine],
    window_reference: datetime,
    now: datetime,
) -> ReturnPlan:
    """Checks a well-formed return against the order; returns the refund due."""
    if order_status not in RETURNABLE_ORDER_STATUSES and not handed_over:
        raise Conflict(
            "INVALID_STATE",
            f"an order that is {order_status} has nothing to return yet",
            {"status": order_status},
        )
    unknown = [
        FieldViolation(f"lines[{index}].sku", f"{line.sku} was not bought in this order")
        for index, line in enumerate(lines)
        if line.sku not in bought
    ]
    _raise_if(unknown)
    for line in lines:
        item = bought[line.sku]
        closes = return_window_closes(window_reference, item.returnable_days)
        if now > closes:
            raise BusinessRuleViolation(
                "RETURN_WINDOW_CLOSED",
                f"{line.sku} could be returned until {closes.isoformat()}",
                {"sku": line.sku, "closed_at": closes.isoformat()},
            )
        left = returnable_quantity(item.quantity, item.returned_quantity)
        if line.quantity > left:
            raise return_quantity_exceeded(line.sku, line.quantity, left)
    refund = sum(bought[line.sku].unit_price_minor * line.quantity for line in lines)
    prices = {line.sku: bought[line.sku].unit_price_minor for line in lines}
    return ReturnPlan(lines=lines, refund_minor=refund, unit_prices=prices)


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


# ---------------------------------------------------------------- store task pages


@dataclass(frozen=True)
class PageCursor:
    since: datetime
    task_id: str
    # 0: a pickup whose customer has arrived (listed first); 1: everything else.
    rank: int = 1


def page_size(limit: int) -> int:
    if limit < 0:
        raise InvalidArgument.field("limit", "must not be negative")
    if limit == 0:
        return DEFAULT_PAGE_SIZE
    return min(limit, MAX_PAGE_SIZE)


def encode_cursor(cursor: PageCursor) -> str:
    raw = json.dumps(
        {"s": cursor.since.isoformat(), "i": cursor.task_id, "r": cursor.rank}
    ).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str) -> PageCursor | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return PageCursor(
            since=datetime.fromisoformat(data["s"]),
            task_id=str(data["i"]),
            rank=int(data.get("r", 1)),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from error


# ---------------------------------------------------------------- what is stored


@dataclass
class Event:
    at: datetime
    type: str
    detail: str


@dataclass
class FulfillmentLineRecord:
    sku: str
    quantity: int
    quantity_picked: int = 0


@dataclass
class FulfillmentRecord:
    fulfillment_id: str
    order_id: str
    type: str
    location_id: str
    status: str
    lines: list[FulfillmentLineRecord]
    pickup_code: str
    carrier: str
    tracking_number: str
    updated_at: datetime
    # Curbside: set once, when the customer says they are outside.
    arrived_at: datetime | None = None
    arrival_note: str = ""


@dataclass
class OrderLineRecord:
    sku: str
    quantity: int
    unit_price_minor: int
    returnable_days: int
    returned_quantity: int


@dataclass
class OrderRecord:
    order_id: str
    customer_id: str
    channel: str
    status: str
    currency: str
    total_minor: int
    fulfillment_type: str
    location_id: str
    address: RequestedAddress | None
    associate_id: str
    store_id: str
    referral_associate_id: str
    workflow_id: str
    created_at: datetime
    completed_at: datetime | None
    rejection_reason: str = ""
    rejection_message: str = ""
    rejection_details: dict[str, str] = field(default_factory=dict)
    lines: list[OrderLineRecord] = field(default_factory=list)
    fulfillments: list[FulfillmentRecord] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return self.status not in HIDDEN_ORDER_STATUSES

    @property
    def handed_over(self) -> bool:
        return any(f.status in HANDED_OVER_FULFILLMENT_STATUSES for f in self.fulfillments)


@dataclass
class RefundRecord:
    payment_id: str
    tender_type: str
    amount_minor: int
    currency: str
    status: str


@dataclass
class ReturnLineRecord:
    sku: str
    quantity: int
    condition: str
    unit_price_minor: int = 0


@dataclass
class ReturnRecord:
    return_id: str
    order_id: str
    customer_id: str
    channel: str
    status: str
    method: str
    location_id: str
    currency: str
    refund_minor: int
    lines: list[ReturnLineRecord]
    refunds: list[RefundRecord]
    workflow_id: str
    created_at: datetime
    events: list[Event] = field(default_factory=list)
    refund_method: str = REFUND_ORIGINAL


@dataclass(frozen=True)
class StoreTaskRecord:
    type: str
    task_id: str
    order_id: str
    status: str
    lines: list[FulfillmentLineRecord]
    since: datetime
    arrived_at: datetime | None = None
    arrival_note: str = ""

    @property
    def cursor(self) -> PageCursor:
        return PageCursor(self.since, self.task_id, 0 if self.arrived_at else 1)
