"""What crosses between the orders service and the journeys.

The orders service starts workflows and sends updates by these names with
these dataclasses; it never imports workflow code. One dataclass in and one
out per call, so fields can be added compatibly.

Fields that hold a status, type or channel carry the word of its omni.words
enum (named beside the field), typed `str` so that a payload decodes whatever
word a history holds; code compares them with the enum's members.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from omni.words import FulfillmentType, RefundMethod
from workflows.contracts.activities import PaymentInfo, SkuQty

TASK_QUEUE = "omni-orders"

BOPIS_WORKFLOW = "BopisWorkflow"
SHIP_FROM_STORE_WORKFLOW = "ShipFromStoreWorkflow"
RETURN_WORKFLOW = "ReturnWorkflow"
# One per fulfillment of a split shipment: a child of ShipFromStoreWorkflow that
# holds the stock at its location until the parent settles it (shipment_workflow_id).
SHIPMENT_WORKFLOW = "ShipmentWorkflow"
# Child -> parent: the fulfillment's stock is held, or could not be (ShipmentHeld).
SHIPMENT_HELD_SIGNAL = "shipment_held"
# Parent -> child: commit what shipped, or release the hold (SettleShipmentInput).
SETTLE_SHIPMENT_SIGNAL = "settle_shipment"
# How many locations one shipment order may be split over (OrderInput.max_splits 0).
DEFAULT_MAX_SPLITS = 3

# Update names (on both order workflows unless said otherwise).
PLACE_UPDATE = "place"
PICK_UPDATE = "pick"
HANDOVER_UPDATE = "handover"  # BOPIS only
# BOPIS only: a new pickup code for a ready pickup (unlocks one locked by wrong codes).
PICKUP_CODE_UPDATE = "pickup_code"
SHIP_UPDATE = "ship"  # ship-from-store only
# Ship-from-store only: a new shipping address before anything is picked
# (ShippingAddressInput -> ActionResult).
SHIPPING_ADDRESS_UPDATE = "shipping_address"
CANCEL_UPDATE = "cancel"
# A new tender for an order whose re-authorization was declined
# (NewPaymentInput -> ActionResult); INVALID_STATE when none is asked for.
NEW_PAYMENT_UPDATE = "new_payment"
# Part of the order: units of lines not yet handed over or shipped
# (CancelLinesInput -> ActionResult); every unit left: the order is cancelled.
CANCEL_LINES_UPDATE = "cancel_lines"
REJECT_UPDATE = "reject"  # the store cannot fulfill it: reroute or cancel its lines
RECEIVE_UPDATE = "receive"  # returns by mail
RETRY_REFUND_UPDATE = "retry_refund"  # returns: an operator retries a refused refund
# Signal from a return to its order's journey: these units came back before the
# order's final capture (ReturnedInput).
RETURNED_SIGNAL = "returned"
# BOPIS, curbside: the customer is outside (ArrivedInput); starts the hand-off clock.
ARRIVED_SIGNAL = "customer_arrived"
STATUS_QUERY = "status"

# Search attributes registered on the Temporal server (name -> its indexed
# value type), set at start and upserted by workflows/order/visibility.py.
# None holds personal data: ids and words only.
SEARCH_ATTRIBUTES: dict[str, str] = {
    "OrderId": "Keyword",
    "CustomerId": "Keyword",
    "Channel": "Keyword",
    # The location doing the work: the pickup store, or the shipping location.
    "StoreId": "Keyword",
    "FulfillmentType": "Keyword",
    "OrderStatus": "Keyword",
    # True while a compensation keeps failing (an operator must look).
    "NeedsAttention": "Bool",
}

# ApplicationError types a failed update carries, for the orders service to map.
ERROR_INVALID_STATE = "INVALID_STATE"  # -> 409
ERROR_WRONG_PICKUP_CODE = "WRONG_PICKUP_CODE"  # -> 422
# Too many wrong codes: refused, the right one too, until a new code is issued. -> 409
ERROR_PICKUP_LOCKED = "PICKUP_LOCKED"
ERROR_INVALID_PICK = "INVALID_PICK"  # -> 400
# A line cancel naming a sku the order lacks, or more units than it still has -> 422.
ERROR_INVALID_CANCEL = "INVALID_LINE_CANCEL"
ERROR_INVALID_RECEIPT = "INVALID_RECEIPT"  # a mail return's receipt lines do not match -> 400
# The payment could not be captured at handover or shipment: the goods stay
# (nothing changed); try again, or cancel. -> 422
ERROR_CAPTURE_FAILED = "CAPTURE_FAILED"


def order_workflow_id(order_id: str) -> str:
    return f"order-{order_id}"


def shipment_workflow_id(order_id: str, number: int) -> str:
    """The child workflow holding fulfillment `number` of a split shipment."""
    return f"{order_workflow_id(order_id)}-f{number}"


def return_workflow_id(return_id: str) -> str:
    return f"return-{return_id}"


# Placement by the orders service (OrderInput.placed): it holds the stock for
# this long, so a hold whose journey never started gives itself back; the
# journey confirms it first thing (recovery starts any journey within minutes).
PLACEMENT_HOLD_TTL_SECONDS = 900


def placement_hold_id(order_id: str) -> str:
    """The reservation id of the hold the orders service takes at placement."""
    return f"{order_workflow_id(order_id)}/hold"


def authorization_key(order_id: str, index: int) -> str:
    """The idempotency key of tender `index`'s authorization, whoever makes it."""
    return f"{order_workflow_id(order_id)}/authorize/{index}"


def void_key(order_id: str, index: int) -> str:
    """The idempotency key of voiding tender `index`'s authorization (the
    journey's saga uses the same: a void made by either is made once)."""
    return f"{order_workflow_id(order_id)}/void/{index}"


def fulfillment_id_of(order_id: str, number: int) -> str:
    """The id of an order's `number`th fulfillment (1-based): the journey's
    (workflows/order/state.Fulfillment) and the orders read model's."""
    return f"{order_id}-F{number}"


def first_fulfillment_id(order_id: str) -> str:
    """The id of an order's first fulfillment."""
    return fulfillment_id_of(order_id, 1)


@dataclass
class LineInput:
    sku: str
    quantity: int
    unit_price_minor: int = 0


@dataclass
class TenderInput:
    type: str  # TenderType: card | gift_card
    token: str = ""
    code: str = ""
    # Gift cards carry their amount; the card (amount 0) covers the remainder.
    amount_minor: int = 0


@dataclass
class AddressInput:
    line1: str
    city: str
    postal_code: str
    country: str
    lat: float
    lon: float


@dataclass
class AuthorizedTender:
    index: int  # position in OrderInput.tenders
    payment: PaymentInfo


@dataclass
class PlacedHold:
    """One location's hold of a split placement: the lines held there."""

    location_id: str
    reservation_id: str
    lines: list[LineInput] = field(default_factory=list)


@dataclass
class PlacedInput:
    """What the orders service took before starting the journey: a soft hold
    (placement_hold_id) at location_id and one authorization per paying tender."""

    location_id: str
    reservation_id: str
    tenders: list[AuthorizedTender] = field(default_factory=list)
    # A split shipment: one hold per location, nearest first (location_id and
    # reservation_id then name the first). Each becomes a ShipmentWorkflow.
    holds: list[PlacedHold] = field(default_factory=list)


@dataclass
class OrderInput:
    order_id: str
    customer_id: str
    channel: str  # Channel
    currency: str
    lines: list[LineInput]
    tenders: list[TenderInput]
    fulfillment_type: str  # FulfillmentType
    pickup_location_id: str = ""
    address: AddressInput | None = None
    # What the order costs as priced (lines after discounts, shipping, tax:
    # services/orders/domain/pricing.py): authorized, and captured in
    # proportion to what is delivered. 0 (orders placed before pricing): the
    # lines' unit prices alone.
    total_minor: int = 0
    # Set when the orders service reserved and authorized: the journey confirms
    # the hold (or compensates) and goes on; the `place` update answers at once.
    placed: PlacedInput | None = None
    # What of total_minor is shipping (with its tax): a split shipment's first
    # shipment captures it. 0: shipping is shared in proportion, as before.
    shipping_minor: int = 0
    # The most locations a shipment may be split over; 0: DEFAULT_MAX_SPLITS.
    max_splits: int = 0
    # The most locations one fulfillment's lines go through when rejected or
    # late (the first included); 0: 3 (workflows/order/reroute.py).
    max_reroute_locations: int = 0
    # How long an order whose re-authorization was declined waits for a new
    # tender before it is cancelled; 0: 48 hours (workflows/order/authorizations.py).
    payment_deadline_hours: float = 0.0
    # Set by the orders service's recovery for an order whose placement was
    # interrupted before its journey started: give back the hold (at
    # placed.location_id, when one was chosen) and void every authorization
    # made for the order.
    abandoned: bool = False


def order_summary(order: OrderInput, store_id: str = "") -> str:
    """The one line the Temporal UI shows for an order's workflow, e.g.
    "BOPIS · 3 items · store S1 · web" (ids and words only, no personal data)."""
    kind = "BOPIS" if order.fulfillment_type == FulfillmentType.PICKUP else "ship from store"
    items = sum(line.quantity for line in order.lines)
    parts = [kind, f"{items} item{'' if items == 1 else 's'}"]
    store = store_id or order.pickup_location_id
    if store:
        parts.append(f"store {store}")
    parts.append(order.channel)
    return " · ".join(parts)


@dataclass
class PlacementResult:
    accepted: bool
    # "" when accepted; else INSUFFICIENT_STOCK, PAYMENT_DECLINED or NO_SOURCE.
    reason: str = ""
    message: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class PickInput:
    fulfillment_id: str
    lines: list[LineInput]  # quantity = quantity picked
    actor: str = ""


@dataclass
class HandoverInput:
    fulfillment_id: str
    pickup_code: str
    actor: str = ""
    # What the customer took (a partial handover); empty: everything picked.
    # Units left out are released at the store and not charged.
    lines: list[LineInput] = field(default_factory=list)


@dataclass
class ArrivedInput:
    """Curbside: the customer of a ready pickup says they are outside (the
    customer_arrived signal; the first arrival starts the hand-off clock)."""

    fulfillment_id: str
    note: str = ""


@dataclass
class PickupCodeInput:
    """A new pickup code for a ready pickup, sent to the customer."""

    fulfillment_id: str
    actor: str = ""


@dataclass
class ShipInput:
    fulfillment_id: str
    carrier: str
    tracking_number: str
    actor: str = ""


@dataclass
class RejectInput:
    """The store cannot fulfill `fulfillment_id` (pending or picking) and says why."""

    fulfillment_id: str = ""
    reason: str = ""
    actor: str = ""


@dataclass
class CancelInput:
    reason: str
    actor: str = ""


@dataclass
class CancelLineInput:
    """Units of one sku to cancel. `paid_upto[k]` is what the first k units of
    the order's line cost after discounts with their tax (pricing.paid_upto,
    cumulative half-even shares; len = the line's quantity + 1), so k..k+n
    cancelled give back paid_upto[k+n] - paid_upto[k]. Empty (an order priced
    before pricing): the units' unit prices' share of the total."""

    sku: str
    quantity: int
    paid_upto: list[int] = field(default_factory=list)


@dataclass
class CancelLinesInput:
    lines: list[CancelLineInput]
    reason: str = ""
    actor: str = ""


@dataclass
class ActionResult:
    """What a store action or cancel left behind (statuses after the change)."""

    order_status: str  # OrderStatus
    fulfillment_id: str = ""
    fulfillment_status: str = ""  # FulfillmentStatus; "" when there is none


@dataclass
class NewPaymentInput:
    """The tenders that pay what a declined re-authorization left unpaid."""

    tenders: list[TenderInput]
    actor: str = ""


@dataclass
class ShippingAddressInput:
    """Where the order now ships to (the point; the street stays with orders)."""

    address: AddressInput
    actor: str = ""


@dataclass
class ShipmentInput:
    """A ShipmentWorkflow's start: fulfillment `number` of the order, its lines
    at `location_id`. With `reservation_id` the stock is already held (by the
    orders service): the child confirms that hold instead of taking one.
    `persistent`: nobody waits on the hold (a reroute after placement), so it
    is retried as long as the journey's other steps, not a placement's few
    tries."""

    order_id: str
    number: int
    location_id: str
    lines: list[LineInput]
    channel: str  # Channel
    reservation_id: str = ""
    persistent: bool = False


@dataclass
class ShipmentHeld:
    """A ShipmentWorkflow's word to its parent: its hold, or why there is none."""

    number: int
    reservation_id: str = ""
    # "" when held; else the refusal (INSUFFICIENT_STOCK, ...).
    reason: str = ""
    message: str = ""


@dataclass
class SettleShipmentInput:
    """The parent settles a child's hold: commit `commit` (what shipped; the
    rest of the hold goes back), or release it all (release=True)."""

    release: bool = False
    commit: list[SkuQty] = field(default_factory=list)


@dataclass
class ShipmentResult:
    """How a ShipmentWorkflow ended: "committed", "released" or "refused"."""

    number: int
    outcome: str
    reservation_id: str = ""


@dataclass
class ReturnLineInput:
    sku: str
    quantity: int
    condition: str  # ItemCondition
    unit_price_minor: int = 0


@dataclass
class ReturnInput:
    return_id: str
    order_id: str
    customer_id: str
    channel: str  # Channel
    method: str  # ReturnMethod
    location_id: str
    currency: str
    lines: list[ReturnLineInput]
    # RefundMethod: the original tenders, or everything as store credit to customer_id.
    refund_method: str = RefundMethod.ORIGINAL
    # What the return gives back when all of it arrives (what was paid for the
    # units after discounts, plus their tax; shipping when the whole order
    # comes back). 0 (returns started before pricing): the lines' unit prices.
    refund_minor: int = 0
    # An exchange (issue 11): the replacement order, already held; None for a
    # plain return.
    exchange: ExchangeInput | None = None


@dataclass
class ExchangeInput:
    """An exchange's replacement: its own order (`order_id`, pending until the
    goods come back), priced in the original order's channel at `total_minor`,
    its stock held under `reservation_ids` (placement_hold_id of its order id;
    `/<n>` for a split). The return confirms the holds at once, releases them
    when it expires, and on receipt pays the order with the refund (store
    credit) and has the orders service place it (orders.place_exchange)."""

    order_id: str
    total_minor: int
    reservation_ids: list[str] = field(default_factory=list)


@dataclass
class ReturnedInput:
    """Units of a live order came back: `amount_minor` of what was delivered is
    not to be charged (or, once charged, is refunded by the order's journey)."""

    return_id: str
    amount_minor: int


@dataclass
class ReceiveInput:
    location_id: str
    lines: list[ReturnLineInput]
    actor: str = ""


@dataclass
class OrderStatus:
    """An order journey's state: the `status` query's answer and the run's result."""

    order_id: str
    status: str  # OrderStatus (the word)
    # fulfillment id -> FulfillmentStatus
    fulfillments: dict[str, str] = field(default_factory=dict)


@dataclass
class ReturnStatus:
    """A return journey's state: the `receive` update's answer and its `status` query."""

    return_id: str
    status: str  # ReturnStatus (the word)
    refunded_minor: int = 0
