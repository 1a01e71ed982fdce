"""Dataclasses the journeys hand to their activities and get back.

Plain values only (no protobuf), so workflow code stays deterministic and the
payloads read well in Temporal's UI. One dataclass in, one out per activity.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SkuQty:
    sku: str
    quantity: int


# --- inventory ---------------------------------------------------------------


@dataclass
class ReserveStockInput:
    reservation_id: str
    order_id: str
    location_id: str
    lines: list[SkuQty]
    channel: str


@dataclass
class ReservationInfo:
    reservation_id: str
    location_id: str
    status: str


@dataclass
class ConfirmReservationInput:
    reservation_id: str


@dataclass
class ReleaseReservationInput:
    reservation_id: str


@dataclass
class ReleaseReservationLinesInput:
    """Part of a reservation goes back (cancelled lines), once per key."""

    reservation_id: str
    lines: list[SkuQty]
    idempotency_key: str


@dataclass
class CommitReservationInput:
    reservation_id: str
    # The quantities sold; the rest of the reservation is released.
    lines: list[SkuQty]


@dataclass
class FindSourcesInput:
    lines: list[SkuQty]
    lat: float
    lon: float
    fulfillment_type: str
    channel: str
    max_locations: int = 1
    # Locations never to choose (a reroute's rejecting and already tried stores).
    exclude_location_ids: list[str] = field(default_factory=list)


@dataclass
class SourceAllocationInfo:
    """One location's part of a sourcing option: what it ships."""

    location_id: str
    lines: list[SkuQty] = field(default_factory=list)


@dataclass
class SourceOptionInfo:
    """One way to fill the order: one location, or the fewest that together
    can (a split), nearest first."""

    allocations: list[SourceAllocationInfo] = field(default_factory=list)


@dataclass
class FindSourcesResult:
    # One location per option (the first allocation's), best first.
    location_ids: list[str] = field(default_factory=list)
    # Every option whole (histories from before splits carry none).
    options: list[SourceOptionInfo] = field(default_factory=list)


@dataclass
class GetLocationInput:
    location_id: str


@dataclass
class LocationInfo:
    location_id: str
    name: str
    pickup_window_hours: float
    # Where it is: a rerouted pickup goes to the store nearest to it.
    lat: float = 0.0
    lon: float = 0.0
    # The store's clocks (fractional minutes; 0: the journey's defaults): a
    # pick not done within pick_sla_minutes is overdue, within twice that it is
    # rerouted; a curbside hand-off is overdue curbside_sla_minutes after arrival.
    pick_sla_minutes: float = 0.0
    curbside_sla_minutes: float = 0.0


@dataclass
class AdjustStockInput:
    idempotency_key: str
    location_id: str
    sku: str
    delta: int
    reason: str
    actor: str = ""
    reference: str = ""


@dataclass
class StockInfo:
    location_id: str
    sku: str
    on_hand: int
    available: int


# --- payments ----------------------------------------------------------------


@dataclass
class AuthorizeInput:
    idempotency_key: str
    reference: str
    tender_type: str
    amount_minor: int
    currency: str
    token: str = ""
    code: str = ""
    # The order's channel: "pos" authorizations are card-present (shorter-lived).
    channel: str = ""


@dataclass
class CaptureInput:
    idempotency_key: str
    payment_id: str
    amount_minor: int
    currency: str
    # No more captures follow: the rest of the authorization is released.
    final: bool = False


@dataclass
class VoidInput:
    idempotency_key: str
    payment_id: str


@dataclass
class ReauthorizeInput:
    """A card authorization taken again before it lapses (same payment id,
    a new expires_at); PAYMENT_DECLINED when the provider declines."""

    idempotency_key: str
    payment_id: str


@dataclass
class RefundInput:
    idempotency_key: str
    payment_id: str
    amount_minor: int
    currency: str
    # Refund as store credit issued to customer_id instead of to the tender.
    to_store_credit: bool = False
    customer_id: str = ""


@dataclass
class ListPaymentsInput:
    reference: str


@dataclass
class PaymentInfo:
    payment_id: str
    tender_type: str
    status: str
    currency: str
    authorized_minor: int = 0
    captured_minor: int = 0
    refunded_minor: int = 0
    # When the authorization lapses unless captured (ISO 8601, UTC); "" for
    # tenders that never lapse (gift cards, store credit, cash).
    expires_at: str = ""
    # A refund to store credit: the code of the store credit it went to.
    store_credit_code: str = ""


@dataclass
class PaymentList:
    payments: list[PaymentInfo] = field(default_factory=list)


# --- orders ------------------------------------------------------------------


@dataclass
class FulfillmentLineRecord:
    sku: str
    quantity: int
    quantity_picked: int = 0


@dataclass
class FulfillmentRecord:
    fulfillment_id: str
    type: str
    location_id: str
    status: str
    lines: list[FulfillmentLineRecord] = field(default_factory=list)
    pickup_code: str = ""
    carrier: str = ""
    tracking_number: str = ""
    # The store's work on it is late (pick SLA, curbside hand-off SLA).
    overdue: bool = False


@dataclass
class OrderProgress:
    event_id: str
    order_id: str
    # "": status unchanged.
    status: str
    fulfillments: list[FulfillmentRecord] = field(default_factory=list)
    event_type: str = ""
    event_detail: str = ""


@dataclass
class RefundRecord:
    payment_id: str
    tender_type: str
    amount_minor: int
    currency: str
    status: str


@dataclass
class PlaceExchangeInput:
    """Place an exchange's replacement order (issue 11): `credits` (store
    credit the return's refund went to, gift_card tenders with their amounts)
    pay for it first; the orders service charges the rest to the original
    order's card."""

    return_id: str
    order_id: str
    credits: list[CreditTender] = field(default_factory=list)


@dataclass
class CreditTender:
    code: str
    amount_minor: int


@dataclass
class ExchangePlaced:
    order_id: str
    status: str  # OrderStatus


@dataclass
class ReturnProgress:
    event_id: str
    return_id: str
    status: str
    refunds: list[RefundRecord] = field(default_factory=list)
    event_type: str = ""
    event_detail: str = ""


# --- customers ---------------------------------------------------------------


@dataclass
class CustomerActivityInput:
    customer_id: str
    kind: str  # "order" | "return"
    reference_id: str
    channel: str
    status: str
    order_id: str = ""


@dataclass
class TimelineEventInput:
    """One milestone on the customer's timeline; recorded once per event_id.
    The customers service derives loyalty points and the customer's message from it."""

    event_id: str
    customer_id: str
    kind: str
    reference_id: str
    channel: str
    summary: str
    order_id: str = ""
    amount_minor: int = 0
    currency: str = ""
    # For the customer's message: pickup_code, carrier, tracking_number, ...
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class NotificationInput:
    customer_id: str
    notification_id: str
    kind: str
    reference_id: str = ""
    details: dict[str, str] = field(default_factory=dict)


@dataclass
class CheckoutCartInput:
    """An order was placed: its skus leave the customer's cart (once per order)."""

    customer_id: str
    order_id: str
    skus: list[str] = field(default_factory=list)


@dataclass
class OrderPlacedInput:
    """After an order was placed, in one call: the customer's activity and
    timeline (points, message), and the cart's checkout (best effort)."""

    activity: CustomerActivityInput
    timeline: TimelineEventInput
    cart: CheckoutCartInput
