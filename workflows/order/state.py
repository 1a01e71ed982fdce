"""An order journey's state in memory: the order, its tenders and fulfillments,
and the statuses they are in.

Pure and deterministic (no I/O, no Temporal): the steps change it, the update
validators and the `status` query read it. Statuses are the words of
omni.words (OrderStatus, FulfillmentStatus), the same strings the histories
and the orders read model carry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from omni.words import FulfillmentStatus, FulfillmentType, OrderStatus
from workflows.contracts.activities import (
    FulfillmentLineRecord,
    FulfillmentRecord,
    PaymentInfo,
)
from workflows.contracts.journeys import (
    ActionResult,
    LineInput,
    OrderInput,
    PlacementResult,
    fulfillment_id_of,
    order_workflow_id,
)
from workflows.contracts.journeys import OrderStatus as OrderStatusView
from workflows.order import rules


@dataclass
class Tender:
    """One authorized tender of the order and what has happened to it."""

    index: int
    payment: PaymentInfo
    captured_minor: int = 0


def fulfillment_step(number: int, name: str) -> str:
    """A step of fulfillment `number`: F1 keeps the order's own step names (runs
    started before reroutes existed replay with them), later ones are prefixed."""
    return name if number == 1 else f"F{number}/{name}"


@dataclass
class Fulfillment:
    """One location's share of the order: its lines, its hold, pick and handover."""

    order_id: str
    number: int
    type: FulfillmentType
    location_id: str
    lines: list[LineInput]
    reservation_id: str = ""
    # None until the order is placed.
    status: FulfillmentStatus | None = None
    # sku -> quantity picked, once picked.
    picked: dict[str, int] = field(default_factory=dict)
    pickup_code: str = ""
    # Wrong codes tried since the current one was issued (rules.pickup_locked);
    # how many codes were issued after the first.
    wrong_codes: int = 0
    codes_reissued: int = 0
    carrier: str = ""
    tracking_number: str = ""
    # Where its lines were before (a reroute never sends them back there).
    tried: list[str] = field(default_factory=list)
    # The store's work on it is late: not picked within the pick SLA, or a
    # curbside customer not served within the hand-off SLA (workflows/order/sla.py).
    overdue: bool = False
    # A split shipment's fulfillment: the child workflow (ShipmentWorkflow)
    # holding its stock, which commits or releases it when the parent says so.
    workflow_id: str = ""
    # The parent told the child (commit or release): it is never told twice.
    settled: bool = False

    @property
    def fulfillment_id(self) -> str:
        return fulfillment_id_of(self.order_id, self.number)

    def step(self, name: str) -> str:
        return fulfillment_step(self.number, name)

    @property
    def is_open(self) -> bool:
        return self.status is not None and rules.is_open(self.status)

    @property
    def delivered(self) -> bool:
        return self.status is not None and rules.is_delivered(self.status)

    @property
    def picked_total_minor(self) -> int:
        return sum(line.unit_price_minor * self.picked.get(line.sku, 0) for line in self.lines)

    def cancellable(self) -> dict[str, int]:
        """Units a line cancel may still take from it (sku -> units): what was
        picked once picked, else what it holds; nothing once it is not open."""
        if not self.is_open:
            return {}
        if self.picked:
            return {sku: units for sku, units in self.picked.items() if units > 0}
        return {line.sku: line.quantity for line in self.lines if line.quantity > 0}

    def unpicked(self) -> list[LineInput]:
        return [
            LineInput(line.sku, line.quantity - self.picked.get(line.sku, 0), line.unit_price_minor)
            for line in self.lines
            if self.picked.get(line.sku, 0) < line.quantity
        ]

    def record(self) -> FulfillmentRecord:
        return FulfillmentRecord(
            fulfillment_id=self.fulfillment_id,
            type=self.type,
            location_id=self.location_id,
            status=self.status or "",
            lines=[
                FulfillmentLineRecord(
                    sku=line.sku,
                    quantity=line.quantity,
                    quantity_picked=self.picked.get(line.sku, 0),
                )
                for line in self.lines
            ],
            pickup_code=self.pickup_code,
            carrier=self.carrier,
            tracking_number=self.tracking_number,
            overdue=self.overdue,
        )


@dataclass
class AuthorizationWatch:
    """When each card authorization is renewed before it lapses, and the new
    tender asked for once a renewal was declined (workflows/order/authorizations.py)."""

    # Tender index -> when its authorization is renewed.
    renew_at: dict[int, datetime] = field(default_factory=dict)
    # Tender index -> renewals so far (each renewal's key is its own).
    renewals: dict[int, int] = field(default_factory=dict)
    # The tender whose renewal was declined, while a new one is awaited (by deadline).
    asking: int | None = None
    deadline: datetime | None = None
    asks: int = 0
    # New-payment attempts so far (each attempt's keys are its own).
    attempts: int = 0
    # Tenders given up for new ones (their authorization voided or released).
    replaced: set[int] = field(default_factory=set)
    # Tenders with nothing more to renew (captured, voided, declined, lapsed).
    settled: set[int] = field(default_factory=set)
    # A renewal failed without an answer (NeedsAttention until one goes through).
    failing: bool = False
    # Bumped at every change the watch must look at again.
    version: int = 0


@dataclass
class OrderState:
    order: OrderInput
    fulfillment_type: FulfillmentType
    # PENDING until the placement is answered.
    status: OrderStatus = OrderStatus.PENDING
    placement: PlacementResult | None = None
    tenders: list[Tender] = field(default_factory=list)
    # F1 first; a reroute or a short pick's remainder opens the next one.
    fulfillments: list[Fulfillment] = field(default_factory=list)
    authorizations: AuthorizationWatch = field(default_factory=AuthorizationWatch)
    # Line cancels (issue 11): units cancelled per sku, and what they gave back
    # of the total (their paid share) and of the listed total (unit prices).
    cancelled: dict[str, int] = field(default_factory=dict)
    cancelled_minor: int = 0
    cancelled_listed_minor: int = 0

    @property
    def workflow_id(self) -> str:
        return order_workflow_id(self.order.order_id)

    @property
    def finished(self) -> bool:
        return rules.is_final(self.status)

    @property
    def listed_total_minor(self) -> int:
        """The lines at their unit prices (before discounts, shipping and tax)."""
        return sum(line.unit_price_minor * line.quantity for line in self.order.lines)

    @property
    def total_minor(self) -> int:
        """What is authorized: the order's priced total (0 in orders placed
        before pricing: the lines at their unit prices)."""
        return self.order.total_minor or self.listed_total_minor

    @property
    def kept_total_minor(self) -> int:
        """The priced total less what line cancels gave back."""
        return self.order.total_minor - self.cancelled_minor

    @property
    def kept_listed_minor(self) -> int:
        """The listed total less the cancelled units at their unit prices."""
        return self.listed_total_minor - self.cancelled_listed_minor

    def priced_share(self, listed_minor: int) -> int:
        """The priced total's share (what line cancels left of it) for goods
        worth `listed_minor` at unit prices (half to even); all of it when
        everything not cancelled is delivered."""
        listed = self.kept_listed_minor
        if not self.order.total_minor or listed <= 0:
            return listed_minor
        if listed_minor >= listed:
            return self.kept_total_minor
        quotient, remainder = divmod(self.kept_total_minor * listed_minor, listed)
        if 2 * remainder > listed or (2 * remainder == listed and quotient % 2 == 1):
            quotient += 1
        return quotient

    @property
    def delivered_total_minor(self) -> int:
        """What is captured: the priced share of the goods delivered."""
        listed = sum(f.picked_total_minor for f in self.fulfillments if f.delivered)
        if self.order.shipping_minor and self.order.total_minor:
            return self.shipped_share(listed)
        return self.priced_share(listed)

    def shipped_share(self, listed_minor: int) -> int:
        """What goods worth `listed_minor` at unit prices cost once shipped
        when the order's shipping is charged with its first shipment: all the
        shipping (once anything shipped) plus the goods' priced share of the
        rest (half to even); the whole total when everything is delivered."""
        if listed_minor <= 0:
            return 0
        shipping = min(self.order.shipping_minor, self.kept_total_minor)
        goods_total = self.kept_total_minor - shipping
        listed = self.kept_listed_minor
        if listed_minor >= listed or listed <= 0:
            return self.kept_total_minor
        quotient, remainder = divmod(goods_total * listed_minor, listed)
        if 2 * remainder > listed or (2 * remainder == listed and quotient % 2 == 1):
            quotient += 1
        return shipping + quotient

    def key(self, step: str) -> str:
        """The idempotency key (or event id) of one step of this order."""
        return f"{self.workflow_id}/{step}"

    def find(self, fulfillment_id: str) -> Fulfillment | None:
        for fulfillment in self.fulfillments:
            if fulfillment.fulfillment_id == fulfillment_id and fulfillment.status:
                return fulfillment
        return None

    def open_fulfillments(self) -> list[Fulfillment]:
        return [f for f in self.fulfillments if f.is_open]

    def live_status(self) -> OrderStatus:
        """The order's status while some fulfillment is open: ready for pickup only
        when every open one is; partially shipped once one has gone."""
        open_now = self.open_fulfillments()
        delivered = any(f.delivered for f in self.fulfillments)
        ready = FulfillmentStatus.READY_FOR_PICKUP
        if self.fulfillment_type == FulfillmentType.PICKUP:
            if open_now and all(f.status == ready for f in open_now):
                return OrderStatus.READY_FOR_PICKUP
            if delivered or any(f.status == ready for f in open_now):
                return OrderStatus.IN_FULFILLMENT
            return OrderStatus.PLACED
        if delivered:
            return OrderStatus.PARTIALLY_SHIPPED
        if any(f.status == FulfillmentStatus.PICKING for f in open_now):
            return OrderStatus.IN_FULFILLMENT
        return OrderStatus.PLACED

    def action_result(self, fulfillment: Fulfillment | None = None) -> ActionResult:
        if fulfillment is None:
            fulfillment = next((f for f in self.fulfillments if f.status), None)
        if fulfillment is None or fulfillment.status is None:
            return ActionResult(order_status=self.status)
        return ActionResult(
            order_status=self.status,
            fulfillment_id=fulfillment.fulfillment_id,
            fulfillment_status=fulfillment.status,
        )

    def status_view(self) -> OrderStatusView:
        return OrderStatusView(
            order_id=self.order.order_id,
            status=self.status,
            fulfillments={f.fulfillment_id: f.status for f in self.fulfillments if f.status},
        )
