"""What BOPIS and ship-from-store share: one order's stock, money and records.

Plain deterministic code run inside the order workflows: every side effect is
an activity, every idempotency key is derived from the workflow id and step,
and every forward step pushes its compensation on the saga.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, ClassVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    ERROR_INVALID_PICK,
    ERROR_INVALID_STATE,
    PLACE_UPDATE,
    REJECT_UPDATE,
    STATUS_QUERY,
    ActionResult,
    CancelInput,
    LineInput,
    OrderInput,
    OrderStatus,
    PickInput,
    PlacementResult,
    RejectInput,
    order_workflow_id,
)
from workflows.order.saga import Saga

with workflow.unsafe.imports_passed_through():
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.inventory import InventoryActivities
    from workflows.activities.orders import OrderActivities
    from workflows.activities.payments import PaymentActivities
    from workflows.contracts.activities import (
        AuthorizeInput,
        CaptureInput,
        CheckoutCartInput,
        CommitReservationInput,
        CustomerActivityInput,
        FindSourcesInput,
        FindSourcesResult,
        FulfillmentLineRecord,
        FulfillmentRecord,
        GetLocationInput,
        LocationInfo,
        OrderProgress,
        PaymentInfo,
        RefundInput,
        ReleaseReservationInput,
        ReserveStockInput,
        SkuQty,
        TimelineEventInput,
        VoidInput,
    )

# Long enough for the payment provider's deliberately slow test token (3 s).
ACTIVITY_TIMEOUT = timedelta(seconds=30)

# Refusals that no retry can change; activities already mark them
# non-retryable, this list is the second lock on the door.
BUSINESS_ERRORS = [
    "INSUFFICIENT_STOCK",
    "PAYMENT_DECLINED",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "FAILED_PRECONDITION",
    "ABORTED",
]

# Placement answers a waiting caller: give up after a few minutes of outage
# and reject the order rather than hang.
PLACEMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=BUSINESS_ERRORS,
)

# Everything after placement (records, captures, compensations) must happen
# eventually: retry until the service is back.
PERSISTENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=BUSINESS_ERRORS,
)

# Steps the order does not depend on (the cart's checkout): a few minutes of
# tries, then the journey goes on without them.
BEST_EFFORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=BUSINESS_ERRORS,
)
# Workflows started before the checkout step replay without it.
CHECKOUT_CART_PATCH = "checkout-cart"

# Order statuses.
PLACING = "placing"
PLACED = "placed"
REJECTED = "rejected"
IN_FULFILLMENT = "in_fulfillment"
READY_FOR_PICKUP = "ready_for_pickup"
SHIPPED = "shipped"
COMPLETED = "completed"
CANCELLED = "cancelled"
PARTIALLY_SHIPPED = "partially_shipped"
FINAL_STATUSES = (REJECTED, SHIPPED, COMPLETED, CANCELLED)

# Fulfilment statuses.
PENDING = "pending"
PICKING = "picking"  # ship: picked, waiting for the carrier
FULFILMENT_READY = "ready_for_pickup"
PICKED_UP = "picked_up"
FULFILMENT_SHIPPED = "shipped"
FULFILMENT_CANCELLED = "cancelled"
REROUTED = "rerouted"
OPEN_FULFILMENT = (PENDING, PICKING, FULFILMENT_READY)
DELIVERED_FULFILMENT = (PICKED_UP, FULFILMENT_SHIPPED)
# Runs started before a short pick's remainder was rerouted replay without it.
REROUTE_SHORT_PICK_PATCH = "reroute-short-pick"

CARD = "card"
GIFT_CARD = "gift_card"


def invalid_state(action: str, status: str) -> ApplicationError:
    return ApplicationError(
        f"cannot {action} an order that is {status}",
        {"status": status},
        type=ERROR_INVALID_STATE,
        non_retryable=True,
    )


def invalid_pick(message: str) -> ApplicationError:
    return ApplicationError(message, type=ERROR_INVALID_PICK, non_retryable=True)


def refusal(error: ActivityError) -> tuple[str, str, dict[str, str]]:
    """(reason, message, details) of an activity that failed for good."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        details: dict[str, str] = {}
        if cause.details and isinstance(cause.details[0], dict):
            details = {str(k): str(v) for k, v in cause.details[0].items()}
        return cause.type or "ACTIVITY_FAILED", cause.message, details
    return "UNAVAILABLE", str(cause or error), {}


async def run_activity(
    activity: Any, argument: Any, *, retry: RetryPolicy = PERSISTENT_RETRY
) -> Any:
    return await workflow.execute_activity_method(
        activity,
        argument,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=retry,
    )


@dataclass
class Tender:
    """One authorized tender of the order and what has happened to it."""

    index: int
    payment: PaymentInfo
    captured_minor: int = 0


def fulfilment_step(number: int, name: str) -> str:
    """A step of fulfilment `number`: F1 keeps the order's own step names (runs
    started before reroutes existed replay with them), later ones are prefixed."""
    return name if number == 1 else f"F{number}/{name}"


@dataclass
class Fulfilment:
    """One location's share of the order: its lines, its hold, pick and handover."""

    order_id: str
    number: int
    type: str  # "pickup" | "ship"
    location_id: str
    lines: list[LineInput]
    reservation_id: str = ""
    status: str = ""  # "" until the order is placed
    # sku -> quantity picked, once picked.
    picked: dict[str, int] = field(default_factory=dict)
    pickup_code: str = ""
    carrier: str = ""
    tracking_number: str = ""
    # Where its lines were before (a reroute never sends them back there).
    tried: list[str] = field(default_factory=list)

    @property
    def fulfillment_id(self) -> str:
        return f"{self.order_id}-F{self.number}"

    def step(self, name: str) -> str:
        return fulfilment_step(self.number, name)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_FULFILMENT

    @property
    def delivered(self) -> bool:
        return self.status in DELIVERED_FULFILMENT

    @property
    def picked_total_minor(self) -> int:
        return sum(line.unit_price_minor * self.picked.get(line.sku, 0) for line in self.lines)

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
            status=self.status,
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
        )


def invalid_fulfilment_state(action: str, fulfilment: Fulfilment) -> ApplicationError:
    return ApplicationError(
        f"cannot {action} fulfillment {fulfilment.fulfillment_id}: it is {fulfilment.status}",
        {"status": fulfilment.status},
        type=ERROR_INVALID_STATE,
        non_retryable=True,
    )


@dataclass
class OrderJourney:
    order: OrderInput
    fulfillment_type: str  # "pickup" | "ship"
    status: str = PLACING
    placement: PlacementResult | None = None
    tenders: list[Tender] = field(default_factory=list)
    # F1 first; a reroute or a short pick's remainder opens the next one.
    fulfillments: list[Fulfilment] = field(default_factory=list)
    saga: Saga = field(default_factory=Saga)
    # One store action at a time: a handler re-checks the state under it.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ------------------------------------------------------------- views

    @property
    def workflow_id(self) -> str:
        return order_workflow_id(self.order.order_id)

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def total_minor(self) -> int:
        return sum(line.unit_price_minor * line.quantity for line in self.order.lines)

    @property
    def delivered_total_minor(self) -> int:
        return sum(f.picked_total_minor for f in self.fulfillments if f.delivered)

    def key(self, step: str) -> str:
        return f"{self.workflow_id}/{step}"

    def find(self, fulfillment_id: str) -> Fulfilment | None:
        for fulfilment in self.fulfillments:
            if fulfilment.fulfillment_id == fulfillment_id and fulfilment.status:
                return fulfilment
        return None

    def open_fulfilments(self) -> list[Fulfilment]:
        return [f for f in self.fulfillments if f.is_open]

    def live_status(self) -> str:
        """The order's status while some fulfilment is open: ready for pickup only
        when every open one is; partially shipped once one has gone."""
        open_now = self.open_fulfilments()
        delivered = any(f.delivered for f in self.fulfillments)
        if self.fulfillment_type == "pickup":
            if open_now and all(f.status == FULFILMENT_READY for f in open_now):
                return READY_FOR_PICKUP
            if delivered or any(f.status == FULFILMENT_READY for f in open_now):
                return IN_FULFILLMENT
            return PLACED
        if delivered:
            return PARTIALLY_SHIPPED
        if any(f.status == PICKING for f in open_now):
            return IN_FULFILLMENT
        return PLACED

    def action_result(self, fulfilment: Fulfilment | None = None) -> ActionResult:
        if fulfilment is None:
            fulfilment = next((f for f in self.fulfillments if f.status), None)
        if fulfilment is None:
            return ActionResult(order_status=self.status)
        return ActionResult(
            order_status=self.status,
            fulfillment_id=fulfilment.fulfillment_id,
            fulfillment_status=fulfilment.status,
        )

    def status_view(self) -> OrderStatus:
        return OrderStatus(
            order_id=self.order.order_id,
            status=self.status,
            fulfillments={f.fulfillment_id: f.status for f in self.fulfillments if f.status},
        )

    # ------------------------------------------------------------ records

    async def record(
        self,
        step: str,
        event_type: str,
        detail: str,
        changed: list[Fulfilment] | None = None,
    ) -> None:
        """Records the order's status, the fulfilments that changed (all by
        default) and one event."""
        fulfilments = self.fulfillments if changed is None else changed
        await run_activity(
            OrderActivities.record_order_progress,
            OrderProgress(
                event_id=self.key(step),
                order_id=self.order.order_id,
                status=self.status,
                fulfillments=[f.record() for f in fulfilments if f.status],
                event_type=event_type,
                event_detail=detail,
            ),
        )

    async def record_customer(self) -> None:
        await run_activity(
            CustomerActivities.record_activity,
            CustomerActivityInput(
                customer_id=self.order.customer_id,
                kind="order",
                reference_id=self.order.order_id,
                channel=self.order.channel,
                status=self.status,
            ),
        )

    async def record_milestone(
        self, kind: str, summary: str, amount_minor: int = 0, *, step: str = "", **details: str
    ) -> None:
        """Puts the milestone on the customer's timeline (once per kind, or per
        `step` when one kind can happen more than once); the customers service
        adds its loyalty points and tells the customer."""
        await run_activity(
            CustomerActivities.record_timeline_event,
            TimelineEventInput(
                event_id=self.key(f"timeline/{step or kind}"),
                customer_id=self.order.customer_id,
                kind=kind,
                reference_id=self.order.order_id,
                order_id=self.order.order_id,
                channel=self.order.channel,
                summary=summary,
                amount_minor=amount_minor,
                currency=self.order.currency,
                details=details,
            ),
        )

    # ---------------------------------------------------------- placement

    async def hold(
        self, number: int, location_id: str, lines: list[LineInput], retry: RetryPolicy
    ) -> str:
        """Holds every line at `location_id` for fulfilment `number`; returns the
        reservation id, or raises ActivityError."""
        reservation_id = self.key(fulfilment_step(number, f"reserve/{location_id}"))
        saga_step = fulfilment_step(number, "reservation")
        # Pushed before the call: a reservation that timed out may still exist,
        # and releasing an unknown one is harmless.
        self.saga.push(
            saga_step,
            lambda: run_activity(
                InventoryActivities.release_reservation,
                ReleaseReservationInput(reservation_id=reservation_id),
            ),
        )
        try:
            await run_activity(
                InventoryActivities.reserve_stock,
                ReserveStockInput(
                    reservation_id=reservation_id,
                    order_id=self.order.order_id,
                    location_id=location_id,
                    lines=[SkuQty(line.sku, line.quantity) for line in lines],
                    channel=self.order.channel,
                ),
                retry=retry,
            )
        except ActivityError as error:
            if isinstance(error.cause, ApplicationError) and error.cause.non_retryable:
                # Refused: nothing was held, so nothing to release here.
                self.saga.drop(saga_step)
            raise
        return reservation_id

    async def reserve(self, location_id: str) -> None:
        """Holds every line at `location_id` (the order's first fulfilment), or
        raises ActivityError."""
        reservation_id = await self.hold(1, location_id, self.order.lines, PLACEMENT_RETRY)
        self.fulfillments = [
            Fulfilment(
                order_id=self.order.order_id,
                number=1,
                type=self.fulfillment_type,
                location_id=location_id,
                lines=list(self.order.lines),
                reservation_id=reservation_id,
            )
        ]

    def tender_amounts(self) -> list[int]:
        """Gift cards pay their amount; the card pays what they leave."""
        remaining = self.total_minor
        amounts = [0] * len(self.order.tenders)
        for index, tender in enumerate(self.order.tenders):
            if tender.type == GIFT_CARD:
                amount = min(tender.amount_minor or remaining, remaining)
                amounts[index] = amount
                remaining -= amount
        for index, tender in enumerate(self.order.tenders):
            if tender.type == CARD:
                amounts[index] = remaining
                remaining = 0
        return amounts

    async def authorize(self) -> None:
        """Authorizes each tender in turn, or raises ActivityError."""
        for index, (tender, amount) in enumerate(
            zip(self.order.tenders, self.tender_amounts(), strict=True)
        ):
            if amount <= 0:
                continue
            payment: PaymentInfo = await run_activity(
                PaymentActivities.authorize,
                AuthorizeInput(
                    idempotency_key=self.key(f"authorize/{index}"),
                    reference=self.order.order_id,
                    tender_type=tender.type,
                    amount_minor=amount,
                    currency=self.order.currency,
                    token=tender.token,
                    code=tender.code,
                    channel=self.order.channel,
                ),
                retry=PLACEMENT_RETRY,
            )
            self.tenders.append(Tender(index=index, payment=payment))
            self.saga.push(f"payment/{index}", self._void(index, payment.payment_id))

    def _void(self, index: int, payment_id: str) -> Any:
        return lambda: run_activity(
            PaymentActivities.void,
            VoidInput(idempotency_key=self.key(f"void/{index}"), payment_id=payment_id),
        )

    def _refund(self, tender: Tender) -> Any:
        return lambda: run_activity(
            PaymentActivities.refund,
            RefundInput(
                idempotency_key=self.key(f"refund/{tender.index}"),
                payment_id=tender.payment.payment_id,
                amount_minor=tender.captured_minor,
                currency=self.order.currency,
            ),
        )

    async def accept(self) -> PlacementResult:
        self.status = PLACED
        first = self.fulfillments[0]
        first.status = PENDING
        await self.record("placed", "placed", f"{self.fulfillment_type} from {first.location_id}")
        await self.record_customer()
        await self.record_milestone(
            "order_placed", f"order placed ({self.fulfillment_type})", self.total_minor
        )
        # Before the placement is answered: the run goes on from `placed` in the
        # same activation as the answer, so no store action can slip in between.
        if workflow.patched(CHECKOUT_CART_PATCH):
            await self.checkout_cart()
        self.placement = PlacementResult(accepted=True)
        return self.placement

    async def checkout_cart(self) -> None:
        """The ordered skus leave the customer's cart, which ends its reminder.
        A convenience, not part of the order: after a few tries it is dropped."""
        try:
            await run_activity(
                CustomerActivities.checkout_cart,
                CheckoutCartInput(
                    customer_id=self.order.customer_id,
                    order_id=self.order.order_id,
                    skus=[line.sku for line in self.order.lines],
                ),
                retry=BEST_EFFORT_RETRY,
            )
        except ActivityError as error:
            reason, _, _ = refusal(error)
            workflow.logger.warning("cart not checked out: %s", reason)

    async def undo_all(self) -> str:
        """Runs the saga; says what could not be undone (for the order's events)."""
        try:
            await self.saga.compensate()
        except ActivityError as error:
            reason, message, _ = refusal(error)
            workflow.logger.error("compensation failed: %s %s", reason, message)
            return f" (compensation failed: {reason}: {message})"
        return ""

    async def reject(self, reason: str, message: str, details: dict[str, str]) -> PlacementResult:
        """Gives back whatever placement took, then records the refusal."""
        problem = await self.undo_all()
        self.status = REJECTED
        await self.record("rejected", "rejected", f"{reason}: {message}{problem}")
        self.placement = PlacementResult(
            accepted=False, reason=reason, message=message, details=details
        )
        return self.placement

    def fulfilment_in(self, fulfillment_id: str, action: str, *statuses: str) -> Fulfilment:
        """The order's fulfilment `fulfillment_id` if it is in one of `statuses`;
        raises INVALID_STATE otherwise. No I/O, so usable in a validator."""
        if self.status == PLACING or self.finished:
            raise invalid_state(action, self.status)
        fulfilment = self.find(fulfillment_id)
        if fulfilment is None:
            raise ApplicationError(
                f"fulfillment {fulfillment_id} does not belong to order {self.order.order_id}",
                {"fulfillment_id": fulfillment_id},
                type=ERROR_INVALID_STATE,
                non_retryable=True,
            )
        if fulfilment.status not in statuses:
            raise invalid_fulfilment_state(action, fulfilment)
        return fulfilment

    # ---------------------------------------------------------------- pick

    def check_pick(self, request: PickInput) -> Fulfilment:
        """Rejects a pick the order cannot take; no I/O, so usable in a validator."""
        if self.status == PLACING or self.finished:
            raise invalid_state("pick", self.status)
        fulfilment = self.find(request.fulfillment_id)
        if fulfilment is None:
            raise invalid_pick(f"unknown fulfillment {request.fulfillment_id}")
        if fulfilment.status != PENDING:
            raise invalid_fulfilment_state("pick", fulfilment)
        ordered = {line.sku: line.quantity for line in fulfilment.lines}
        seen: set[str] = set()
        for line in request.lines:
            if line.sku not in ordered:
                raise invalid_pick(f"{line.sku} is not in this fulfillment")
            if line.sku in seen:
                raise invalid_pick(f"{line.sku} is listed twice")
            seen.add(line.sku)
            if line.quantity < 0:
                raise invalid_pick(f"{line.sku}: quantity must not be negative")
            if line.quantity > ordered[line.sku]:
                raise invalid_pick(
                    f"{line.sku}: picked {line.quantity}, ordered {ordered[line.sku]}"
                )
        if sum(line.quantity for line in request.lines) == 0:
            raise invalid_pick("nothing was picked; reject the fulfillment instead")
        return fulfilment

    async def take_pick(
        self, request: PickInput, status: str, event_type: str, pickup_code: str = ""
    ) -> Fulfilment:
        """Records a checked pick; what was not on the shelf goes to another
        location as a new fulfilment, or is cancelled when none has it."""
        fulfilment = self.check_pick(request)
        picked = {line.sku: line.quantity for line in request.lines}
        # A sku left out was not found on the shelf.
        fulfilment.picked = {
            line.sku: picked.get(line.sku, 0)
            for line in fulfilment.lines
            if picked.get(line.sku, 0) > 0
        }
        fulfilment.status = status
        fulfilment.pickup_code = pickup_code
        rest, moved = await self.reroute_unpicked(fulfilment)
        self.status = self.live_status()
        await self.record(
            fulfilment.step("picked"),
            event_type,
            self.pick_detail(fulfilment, request.actor) + rest,
            [fulfilment, *([moved] if moved else [])],
        )
        if moved is not None:
            await self.tell_rerouted(fulfilment, moved)
        return fulfilment

    def pick_detail(self, fulfilment: Fulfilment, actor: str) -> str:
        short = [
            f"{line.sku} {fulfilment.picked.get(line.sku, 0)}/{line.quantity}"
            for line in fulfilment.lines
            if fulfilment.picked.get(line.sku, 0) < line.quantity
        ]
        who = f"{fulfilment.fulfillment_id} " if fulfilment.number > 1 else ""
        detail = f"{who}picked by {actor or 'store'}"
        return f"{detail}; short: {', '.join(short)}" if short else detail

    # ------------------------------------------------------------- reroute

    async def alternatives(self, lines: list[LineInput], exclude: list[str]) -> list[str]:
        """Locations that could take `lines`, best first: for a pickup the
        pickup stores nearest the one the customer chose, for a shipment the
        shipping rule from the address; never one in `exclude`."""
        if self.fulfillment_type == "pickup":
            try:
                origin: LocationInfo = await run_activity(
                    InventoryActivities.get_location,
                    GetLocationInput(location_id=self.order.pickup_location_id),
                )
            except ActivityError as error:
                workflow.logger.warning("no origin to reroute from: %s", refusal(error)[0])
                return []
            lat, lon = origin.lat, origin.lon
        elif self.order.address is not None:
            lat, lon = self.order.address.lat, self.order.address.lon
        else:
            return []
        try:
            sources: FindSourcesResult = await run_activity(
                InventoryActivities.find_sources,
                FindSourcesInput(
                    lines=[SkuQty(line.sku, line.quantity) for line in lines],
                    lat=lat,
                    lon=lon,
                    fulfillment_type=self.fulfillment_type,
                    channel=self.order.channel,
                    max_locations=1,
                    exclude_location_ids=list(exclude),
                ),
            )
        except ActivityError as error:
            workflow.logger.warning("no sources to reroute to: %s", refusal(error)[0])
            return []
        return [location for location in sources.location_ids if location not in exclude]

    async def reroute(self, origin: Fulfilment, lines: list[LineInput]) -> Fulfilment | None:
        """Holds `lines` at the best location not yet tried and opens a pending
        fulfilment there; None when none can take them. The origin's own hold
        is the caller's to settle — after this one is in place, so a failure in
        between leaves a hold the saga releases, never a line held nowhere."""
        tried = [*origin.tried, origin.location_id]
        number = len(self.fulfillments) + 1
        for location_id in await self.alternatives(lines, tried):
            try:
                reservation_id = await self.hold(number, location_id, lines, PERSISTENT_RETRY)
            except ActivityError as error:
                # Someone took the stock since sourcing ranked it: try the next.
                workflow.logger.warning("reroute to %s refused: %s", location_id, refusal(error)[0])
                continue
            moved = Fulfilment(
                order_id=self.order.order_id,
                number=number,
                type=self.fulfillment_type,
                location_id=location_id,
                lines=[LineInput(line.sku, line.quantity, line.unit_price_minor) for line in lines],
                reservation_id=reservation_id,
                status=PENDING,
                tried=tried,
            )
            self.fulfillments.append(moved)
            return moved
        return None

    async def tell_rerouted(self, origin: Fulfilment, moved: Fulfilment) -> None:
        """A pickup moved to another store: the customer is told where (a
        message that cannot be sent never undoes the reroute)."""
        if self.fulfillment_type != "pickup":
            return
        try:
            await self.record_milestone(
                "pickup_rerouted",
                f"pickup moved from {origin.location_id} to {moved.location_id}",
                step=moved.step("rerouted"),
                from_location=origin.location_id,
                to_location=moved.location_id,
                fulfillment_id=moved.fulfillment_id,
            )
        except ActivityError as error:
            workflow.logger.warning("reroute not told: %s", refusal(error)[0])

    async def reroute_unpicked(self, fulfilment: Fulfilment) -> tuple[str, Fulfilment | None]:
        """A short pick's remainder: rerouted, or cancelled (what was picked is
        all that will be captured). Returns the words for the pick's event."""
        rest = fulfilment.unpicked()
        if not rest or not workflow.patched(REROUTE_SHORT_PICK_PATCH):
            return "", None
        names = ", ".join(f"{line.sku} x{line.quantity}" for line in rest)
        moved = await self.reroute(fulfilment, rest)
        if moved is None:
            return f"; the rest ({names}) cancelled: no other location has it", None
        return (
            f"; the rest ({names}) rerouted to {moved.location_id} as {moved.fulfillment_id}",
            moved,
        )

    def check_reject(self, request: RejectInput) -> Fulfilment:
        return self.fulfilment_in(request.fulfillment_id, "reject", PENDING, PICKING)

    async def reject_fulfilment(self, request: RejectInput) -> ActionResult:
        """The store cannot fulfil it: its lines go to the next location, or are
        cancelled (and the order with them when nothing else is left)."""
        fulfilment = self.check_reject(request)
        why = (
            f"{fulfilment.fulfillment_id} rejected at {fulfilment.location_id}"
            f" by {request.actor or 'store'}: {request.reason or 'no reason given'}"
        )
        moved = await self.reroute(fulfilment, fulfilment.lines)
        await self.release(fulfilment)
        fulfilment.picked = {}
        if moved is None:
            fulfilment.status = FULFILMENT_CANCELLED
            await self.lines_cancelled(fulfilment, f"{why}; no other location can take it")
            return self.action_result(fulfilment)
        fulfilment.status = REROUTED
        self.status = self.live_status()
        await self.record(
            fulfilment.step("rerouted"),
            "rerouted",
            f"{why}; rerouted to {moved.location_id} as {moved.fulfillment_id}",
            [fulfilment, moved],
        )
        await self.tell_rerouted(fulfilment, moved)
        return self.action_result(fulfilment)

    async def lines_cancelled(self, fulfilment: Fulfilment, detail: str) -> None:
        """`fulfilment` was cancelled: the order goes on with the others, ends
        with what was delivered, or is cancelled when nothing is left."""
        if self.open_fulfilments():
            self.status = self.live_status()
            await self.record(fulfilment.step("cancelled"), "lines_cancelled", detail, [fulfilment])
        elif any(f.delivered for f in self.fulfillments):
            await self.finish(detail, None)
        else:
            await self.cancel(CancelInput(reason=detail))

    # -------------------------------------------------------------- settle

    async def capture_delivered(self) -> None:
        """Captures what was delivered, gift cards first; voids tenders not needed."""
        to_capture = self.delivered_total_minor
        ordered = sorted(self.tenders, key=lambda t: (t.payment.tender_type == CARD, t.index))
        for tender in ordered:
            amount = min(to_capture, tender.payment.authorized_minor)
            to_capture -= amount
            if amount == 0:
                await self._void(tender.index, tender.payment.payment_id)()
                self.saga.drop(f"payment/{tender.index}")
                continue
            # The order's only capture: final, so what a short pick or cancelled
            # lines left of the authorization is released (gift card hold back,
            # card remainder let go).
            await run_activity(
                PaymentActivities.capture,
                CaptureInput(
                    idempotency_key=self.key(f"capture/{tender.index}"),
                    payment_id=tender.payment.payment_id,
                    amount_minor=amount,
                    currency=self.order.currency,
                    final=True,
                ),
            )
            tender.captured_minor = amount
            self.saga.replace(f"payment/{tender.index}", self._refund(tender))

    async def commit(self, fulfilment: Fulfilment) -> None:
        """Stock leaves the shelf for what was picked; the rest of the hold goes back."""
        await run_activity(
            InventoryActivities.commit_reservation,
            CommitReservationInput(
                reservation_id=fulfilment.reservation_id,
                lines=[SkuQty(sku, quantity) for sku, quantity in fulfilment.picked.items()],
            ),
        )
        self.saga.drop(fulfilment.step("reservation"))

    async def release(self, fulfilment: Fulfilment) -> None:
        await run_activity(
            InventoryActivities.release_reservation,
            ReleaseReservationInput(reservation_id=fulfilment.reservation_id),
        )
        self.saga.drop(fulfilment.step("reservation"))

    async def deliver(self, fulfilment: Fulfilment, status: str, detail: str) -> None:
        """`fulfilment` was handed over or shipped: its stock is committed; the
        last one open settles the money and ends the order."""
        fulfilment.status = status
        if not self.open_fulfilments():
            await self.finish(detail, fulfilment)
            return
        await self.commit(fulfilment)
        self.status = self.live_status()
        await self.record(fulfilment.step(status), status, detail, [fulfilment])
        if self.fulfillment_type == "ship":
            await self.shipped_milestone(fulfilment)

    async def shipped_milestone(self, fulfilment: Fulfilment) -> None:
        await self.record_milestone(
            "order_shipped",
            "shipped",
            fulfilment.picked_total_minor,
            step=fulfilment.step("order_shipped"),
            carrier=fulfilment.carrier,
            tracking_number=fulfilment.tracking_number,
        )

    async def finish(self, detail: str, last: Fulfilment | None) -> None:
        """Nothing is open any more and something was delivered: captures it
        all (once, final) and ends the journey."""
        await self.capture_delivered()
        if last is not None:
            await self.commit(last)
        self.status = SHIPPED if self.fulfillment_type == "ship" else COMPLETED
        await self.record(self.status, self.status, detail, [last] if last else None)
        await self.record_customer()
        if self.fulfillment_type == "ship":
            if last is not None:
                await self.shipped_milestone(last)
        else:
            await self.record_milestone("order_completed", "picked up", self.delivered_total_minor)
        # Nothing left to undo: the order is done.
        self.saga.clear()

    # -------------------------------------------------------------- cancel

    def check_cancel(self, cancellable: tuple[str, ...]) -> None:
        if self.status not in cancellable:
            raise invalid_state("cancel", self.status)

    async def cancel(self, request: CancelInput) -> None:
        """Releases stock, voids or refunds payments, records why. When part of
        the order was already collected, only the rest is cancelled and the
        collected part is captured."""
        who = f" by {request.actor}" if request.actor else ""
        if any(f.delivered for f in self.fulfillments):
            for fulfilment in self.open_fulfilments():
                await self.release(fulfilment)
                fulfilment.status = FULFILMENT_CANCELLED
            await self.finish(f"the rest cancelled{who}: {request.reason}", None)
            return
        problem = await self.undo_all()
        self.status = CANCELLED
        for fulfilment in self.open_fulfilments():
            fulfilment.status = FULFILMENT_CANCELLED
        await self.record("cancelled", "cancelled", f"cancelled{who}: {request.reason}{problem}")
        await self.record_customer()
        await self.record_milestone("order_cancelled", f"cancelled: {request.reason}")


class OrderUpdates:
    """The updates and the query that BOPIS and ship-from-store answer alike.

    A workflow class inherits them, sets `journey` in its @workflow.init and
    names the statuses a customer may still cancel in.
    """

    journey: OrderJourney
    cancellable: ClassVar[tuple[str, ...]]

    @workflow.update(name=PLACE_UPDATE)
    async def place(self) -> PlacementResult:
        await workflow.wait_condition(lambda: self.journey.placement is not None)
        assert self.journey.placement is not None
        return self.journey.placement

    @workflow.update(name=REJECT_UPDATE)
    async def reject(self, request: RejectInput) -> ActionResult:
        async with self.journey.lock:
            return await self.journey.reject_fulfilment(request)

    @reject.validator
    def validate_reject(self, request: RejectInput) -> None:
        self.journey.check_reject(request)

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, request: CancelInput) -> ActionResult:
        journey = self.journey
        async with journey.lock:
            journey.check_cancel(self.cancellable)
            await journey.cancel(request)
            return journey.action_result()

    @cancel.validator
    def validate_cancel(self, request: CancelInput) -> None:
        self.journey.check_cancel(self.cancellable)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OrderStatus:
        return self.journey.status_view()
