"""What BOPIS and ship-from-store share: one order's stock, money and records.

Plain deterministic code run inside the order workflows: every side effect is
an activity, every idempotency key is derived from the workflow id and step,
and every forward step pushes its compensation on the saga.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.contracts import (
    ERROR_INVALID_PICK,
    ERROR_INVALID_STATE,
    ActionResult,
    CancelInput,
    OrderInput,
    OrderStatus,
    PickInput,
    PlacementResult,
    order_workflow_id,
)
from workflows.saga import Saga

with workflow.unsafe.imports_passed_through():
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.inventory import InventoryActivities
    from workflows.activities.orders import OrderActivities
    from workflows.activities.payments import PaymentActivities
    from workflows.activity_types import (
        AuthorizeInput,
        CaptureInput,
        CheckoutCartInput,
        CommitReservationInput,
        CustomerActivityInput,
        FulfillmentLineRecord,
        FulfillmentRecord,
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
FINAL_STATUSES = (REJECTED, SHIPPED, COMPLETED, CANCELLED)

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


@dataclass
class OrderJourney:
    order: OrderInput
    fulfillment_type: str  # "pickup" | "ship"
    status: str = PLACING
    placement: PlacementResult | None = None
    location_id: str = ""
    reservation_id: str = ""
    tenders: list[Tender] = field(default_factory=list)
    fulfillment_status: str = ""
    # sku -> quantity picked, once picked.
    picked: dict[str, int] = field(default_factory=dict)
    pickup_code: str = ""
    carrier: str = ""
    tracking_number: str = ""
    saga: Saga = field(default_factory=Saga)
    # One store action at a time: a handler re-checks the state under it.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # ------------------------------------------------------------- views

    @property
    def workflow_id(self) -> str:
        return order_workflow_id(self.order.order_id)

    @property
    def fulfillment_id(self) -> str:
        return f"{self.order.order_id}-F1"

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def total_minor(self) -> int:
        return sum(line.unit_price_minor * line.quantity for line in self.order.lines)

    @property
    def picked_total_minor(self) -> int:
        prices = {line.sku: line.unit_price_minor for line in self.order.lines}
        return sum(prices[sku] * quantity for sku, quantity in self.picked.items())

    def key(self, step: str) -> str:
        return f"{self.workflow_id}/{step}"

    def fulfillment(self) -> FulfillmentRecord:
        return FulfillmentRecord(
            fulfillment_id=self.fulfillment_id,
            type=self.fulfillment_type,
            location_id=self.location_id,
            status=self.fulfillment_status,
            lines=[
                FulfillmentLineRecord(
                    sku=line.sku,
                    quantity=line.quantity,
                    quantity_picked=self.picked.get(line.sku, 0),
                )
                for line in self.order.lines
            ],
            pickup_code=self.pickup_code,
            carrier=self.carrier,
            tracking_number=self.tracking_number,
        )

    def action_result(self) -> ActionResult:
        return ActionResult(
            order_status=self.status,
            fulfillment_id=self.fulfillment_id if self.fulfillment_status else "",
            fulfillment_status=self.fulfillment_status,
        )

    def status_view(self) -> OrderStatus:
        fulfillments = {self.fulfillment_id: self.fulfillment_status}
        return OrderStatus(
            order_id=self.order.order_id,
            status=self.status,
            fulfillments=fulfillments if self.fulfillment_status else {},
        )

    # ------------------------------------------------------------ records

    async def record(self, step: str, event_type: str, detail: str) -> None:
        await run_activity(
            OrderActivities.record_order_progress,
            OrderProgress(
                event_id=self.key(step),
                order_id=self.order.order_id,
                status=self.status,
                fulfillments=[self.fulfillment()] if self.fulfillment_status else [],
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
        self, kind: str, summary: str, amount_minor: int = 0, **details: str
    ) -> None:
        """Puts the milestone on the customer's timeline (once per kind); the
        customers service adds its loyalty points and tells the customer."""
        await run_activity(
            CustomerActivities.record_timeline_event,
            TimelineEventInput(
                event_id=self.key(f"timeline/{kind}"),
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

    async def reserve(self, location_id: str) -> None:
        """Holds every line at `location_id`, or raises ActivityError."""
        reservation_id = self.key(f"reserve/{location_id}")
        # Pushed before the call: a reservation that timed out may still exist,
        # and releasing an unknown one is harmless.
        self.saga.push(
            "reservation",
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
                    lines=[SkuQty(line.sku, line.quantity) for line in self.order.lines],
                    channel=self.order.channel,
                ),
                retry=PLACEMENT_RETRY,
            )
        except ActivityError as error:
            if isinstance(error.cause, ApplicationError) and error.cause.non_retryable:
                # Refused: nothing was held, so nothing to release here.
                self.saga.drop("reservation")
            raise
        self.location_id = location_id
        self.reservation_id = reservation_id

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
        self.fulfillment_status = "pending"
        await self.record("placed", "placed", f"{self.fulfillment_type} from {self.location_id}")
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

    def check_fulfillment(self, fulfillment_id: str) -> None:
        if fulfillment_id != self.fulfillment_id:
            raise ApplicationError(
                f"fulfillment {fulfillment_id} does not belong to order {self.order.order_id}",
                {"fulfillment_id": fulfillment_id},
                type=ERROR_INVALID_STATE,
                non_retryable=True,
            )

    # ---------------------------------------------------------------- pick

    def check_pick(self, request: PickInput) -> None:
        """Rejects a pick the order cannot take; no I/O, so usable in a validator."""
        if self.status != PLACED:
            raise invalid_state("pick", self.status)
        if request.fulfillment_id != self.fulfillment_id:
            raise invalid_pick(f"unknown fulfillment {request.fulfillment_id}")
        ordered = {line.sku: line.quantity for line in self.order.lines}
        seen: set[str] = set()
        for line in request.lines:
            if line.sku not in ordered:
                raise invalid_pick(f"{line.sku} is not in this order")
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
            raise invalid_pick("nothing was picked; cancel the order instead")

    def apply_pick(self, request: PickInput) -> None:
        picked = {line.sku: line.quantity for line in request.lines}
        # A sku left out was not found on the shelf: it is dropped.
        self.picked = {
            line.sku: picked.get(line.sku, 0)
            for line in self.order.lines
            if picked.get(line.sku, 0) > 0
        }

    def pick_detail(self, actor: str) -> str:
        short = [
            f"{line.sku} {self.picked.get(line.sku, 0)}/{line.quantity}"
            for line in self.order.lines
            if self.picked.get(line.sku, 0) < line.quantity
        ]
        detail = f"picked by {actor or 'store'}"
        return f"{detail}; short: {', '.join(short)}" if short else detail

    # -------------------------------------------------------------- settle

    async def capture_picked(self) -> None:
        """Captures what was picked, gift cards first; voids tenders not needed."""
        to_capture = self.picked_total_minor
        ordered = sorted(self.tenders, key=lambda t: (t.payment.tender_type == CARD, t.index))
        for tender in ordered:
            amount = min(to_capture, tender.payment.authorized_minor)
            to_capture -= amount
            if amount == 0:
                await self._void(tender.index, tender.payment.payment_id)()
                self.saga.drop(f"payment/{tender.index}")
                continue
            # The order's only capture: final, so what a short pick left of the
            # authorization is released (gift card hold back, card remainder let go).
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

    async def commit_picked(self) -> None:
        await run_activity(
            InventoryActivities.commit_reservation,
            CommitReservationInput(
                reservation_id=self.reservation_id,
                lines=[SkuQty(sku, quantity) for sku, quantity in self.picked.items()],
            ),
        )
        self.saga.drop("reservation")

    async def complete(self, status: str, fulfillment_status: str, detail: str) -> None:
        """Settles money and stock for what was picked and ends the journey."""
        await self.capture_picked()
        await self.commit_picked()
        self.status = status
        self.fulfillment_status = fulfillment_status
        await self.record(status, status, detail)
        await self.record_customer()
        await self.record_milestone(
            "order_shipped" if status == SHIPPED else "order_completed",
            "shipped" if status == SHIPPED else "picked up",
            self.picked_total_minor,
            carrier=self.carrier,
            tracking_number=self.tracking_number,
        )
        # Nothing left to undo: the order is done.
        self.saga.clear()

    # -------------------------------------------------------------- cancel

    def check_cancel(self, cancellable: tuple[str, ...]) -> None:
        if self.status not in cancellable:
            raise invalid_state("cancel", self.status)

    async def cancel(self, request: CancelInput) -> None:
        """Releases stock, voids or refunds payments, records why."""
        problem = await self.undo_all()
        self.status = CANCELLED
        self.fulfillment_status = "cancelled"
        who = f" by {request.actor}" if request.actor else ""
        await self.record("cancelled", "cancelled", f"cancelled{who}: {request.reason}{problem}")
        await self.record_customer()
        await self.record_milestone("order_cancelled", f"cancelled: {request.reason}")
