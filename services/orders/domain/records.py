"""What the orders database holds, as plain values; the store maps rows to these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    RefundMethod,
    RefundStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
)
from services.common.money import Money

# PENDING (key stored, journey not yet answered) and REJECTED (placement
# refused) are internal: such orders are invisible to readers.
HIDDEN_ORDER_STATUSES = frozenset({OrderStatus.PENDING, OrderStatus.REJECTED})


@dataclass
class Event:
    at: datetime
    type: str
    detail: str


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    lat: float
    lon: float
    # State or province; with country it names the tax region ("US-CA").
    region: str = ""


@dataclass
class FulfillmentLineRecord:
    sku: str
    quantity: int
    quantity_picked: int = 0


@dataclass
class FulfillmentRecord:
    fulfillment_id: str
    order_id: str
    type: FulfillmentType
    location_id: str
    status: FulfillmentStatus
    lines: list[FulfillmentLineRecord]
    pickup_code: str
    carrier: str
    tracking_number: str
    updated_at: datetime
    # Curbside: set once, when the customer says they are outside.
    arrived_at: datetime | None = None
    arrival_note: str = ""
    # The store's work on it is late (pick SLA, curbside hand-off SLA).
    overdue: bool = False


@dataclass
class OrderLineRecord:
    sku: str
    quantity: int
    unit_price_minor: int
    returnable_days: int
    returned_quantity: int
    # What the line was priced at: discount off quantity x unit price, tax on the rest.
    discount_minor: int = 0
    tax_minor: int = 0
    # Units given up by line cancels (issue 11).
    quantity_cancelled: int = 0

    @property
    def subtotal_minor(self) -> int:
        return self.unit_price_minor * self.quantity

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.tax_minor


@dataclass(frozen=True)
class AppliedPromotionRecord:
    promotion_id: str
    name: str
    code: str
    discount_minor: int


@dataclass(frozen=True)
class TaxRegionRecord:
    region: str
    name: str
    rate_bps: int


@dataclass
class OrderRecord:
    order_id: str
    customer_id: str
    channel: Channel
    status: OrderStatus
    total: Money
    fulfillment_type: FulfillmentType
    location_id: str
    address: Address | None
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
    # The totals it was priced at (total = subtotal - discount + shipping + tax).
    subtotal_minor: int = 0
    discount_minor: int = 0
    shipping_minor: int = 0
    shipping_tax_minor: int = 0
    tax_minor: int = 0
    tax_rule: str = ""
    shipping_method: str = ""
    coupon_codes: list[str] = field(default_factory=list)
    promotions_applied: list[AppliedPromotionRecord] = field(default_factory=list)
    # An exchange's replacement order (issue 11): the return it replaces goods of.
    exchange_for: str = ""

    @property
    def visible(self) -> bool:
        return self.status not in HIDDEN_ORDER_STATUSES

    @property
    def held_for_exchange(self) -> bool:
        """An exchange's replacement not placed: held until its return's goods
        come back (pending), or refused when they did (issue 11)."""
        return bool(self.exchange_for) and not self.visible

    @property
    def shown(self) -> bool:
        """Whether GET of the order answers: a visible order, or a replacement
        its return names (replacement_order_id) from the start."""
        return self.visible or self.held_for_exchange

    @property
    def shown_status(self) -> OrderStatus:
        """The status readers see (API.md lists no pending one): a held
        replacement is `placed` (its stock is reserved; the refund will pay
        it), a refused one `cancelled` (nothing was charged for it)."""
        if not self.held_for_exchange:
            return self.status
        return OrderStatus.PLACED if self.status == OrderStatus.PENDING else OrderStatus.CANCELLED


@dataclass
class RefundRecord:
    payment_id: str
    tender_type: TenderType | None
    amount: Money
    status: RefundStatus | None


@dataclass
class ReturnLineRecord:
    sku: str
    quantity: int
    condition: ItemCondition
    unit_price_minor: int = 0


@dataclass
class ReturnRecord:
    return_id: str
    order_id: str
    customer_id: str
    channel: Channel
    status: ReturnStatus
    method: ReturnMethod
    location_id: str
    refund: Money
    lines: list[ReturnLineRecord]
    refunds: list[RefundRecord]
    workflow_id: str
    created_at: datetime
    events: list[Event] = field(default_factory=list)
    refund_method: RefundMethod = RefundMethod.ORIGINAL
    # An exchange (issue 11): its replacement order and where it is held.
    replacement_order_id: str = ""
    replacement_location_id: str = ""


@dataclass(frozen=True)
class StoreTaskRecord:
    type: TaskType
    task_id: str
    order_id: str
    # The fulfillment's status for a pick or pickup, the return's for a return.
    status: FulfillmentStatus | ReturnStatus
    lines: list[FulfillmentLineRecord]
    since: datetime
    arrived_at: datetime | None = None
    arrival_note: str = ""
    overdue: bool = False

    @property
    def rank(self) -> int:
        """0: a pickup whose customer has arrived (listed first); 1: everything else."""
        return 0 if self.type == TaskType.PICKUP and self.arrived_at is not None else 1


@dataclass(frozen=True)
class TaskCursor:
    """Where a page of store tasks ends: its last task's sort key."""

    rank: int
    since: datetime
    task_id: str
