"""What BOPIS and ship-from-store share: one order's stock, money and records.

Plain deterministic code run inside the order workflows: every side effect is
an activity, every idempotency key is derived from the workflow id and step,
and every forward step pushes its compensation on the saga. Store actions
that move lines to another location are in reroute.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.order import visibility
from workflows.order.policies import (
    BEST_EFFORT_RETRY,
    PLACEMENT_RETRY,
    refusal,
    refused_for_good,
    run_activity,
    run_local_activity,
)
from workflows.order.saga import Saga, until_done

with workflow.unsafe.imports_passed_through():
    from omni.words import (
        ActivityKind,
        FulfillmentStatus,
        FulfillmentType,
        OrderStatus,
        PaymentStatus,
        ReservationStatus,
        TimelineEventKind,
    )
    from services.common.together import side_by_side
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.inventory import InventoryActivities
    from workflows.activities.orders import OrderActivities
    from workflows.activities.payments import PaymentActivities
    from workflows.contracts.activities import (
        AuthorizeInput,
        CaptureInput,
        CheckoutCartInput,
        CommitReservationInput,
        ConfirmReservationInput,
        CustomerActivityInput,
        ListPaymentsInput,
        OrderPlacedInput,
        OrderProgress,
        PaymentInfo,
        PaymentList,
        RefundInput,
        ReleaseReservationInput,
        ReservationInfo,
        ReserveStockInput,
        SkuQty,
        TimelineEventInput,
        VoidInput,
    )
    from workflows.contracts.journeys import (
        ERROR_CAPTURE_FAILED,
        SETTLE_SHIPMENT_SIGNAL,
        CancelInput,
        LineInput,
        PlacedInput,
        PlacementResult,
        SettleShipmentInput,
        ShipmentHeld,
        placement_hold_id,
        shipment_workflow_id,
    )
    from workflows.contracts.messages import lines_text
    from workflows.order import rules
    from workflows.order.state import Fulfillment, OrderState, Tender, fulfillment_step

# Workflows started before the checkout step replay without it.
CHECKOUT_CART_PATCH = "checkout-cart"
# Ship-from-store runs started before each shipment captured its own share
# replay with the one capture at the last shipment.
CAPTURE_PER_SHIPMENT_PATCH = "capture-per-shipment"
# The customer's side of a placed order is not dropped when its local tries
# run out (a busy or restarting customers service): it goes on as a regular
# activity. Runs started before replay with the warning only.
RECORD_PLACED_UNTIL_DONE_PATCH = "record-placed-until-done"
# The records that follow a store action go out side by side, in one round
# through Temporal instead of one per record (the order's progress, the
# stock commit, the customer's activity and timeline touch different
# services). Runs started before replay them one after another.
RECORDS_SIDE_BY_SIDE_PATCH = "records-side-by-side"


def capture_failed(error: ActivityError) -> ApplicationError:
    """A handover or shipment refused because its capture was (CAPTURE_FAILED)."""
    reason, message, _ = refusal(error)
    return ApplicationError(
        f"the payment could not be captured ({reason}: {message}); nothing changed",
        {"reason": reason},
        type=ERROR_CAPTURE_FAILED,
        non_retryable=True,
    )


@dataclass
class OrderJourney(OrderState):
    saga: Saga = field(default_factory=Saga)
    # One store action at a time: a handler re-checks the state under it.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Steps an update handler could not finish within its answer: the main
    # loop finishes them (finish_leftovers), until they succeed.
    deferred: list[tuple[str, Callable[[], Awaitable[Any]]]] = field(default_factory=list)
    # The delivered goods were captured (at the last handover or shipment).
    captured: bool = False
    # Returns of delivered units before the order ended: return id -> amount,
    # and those the capture left out (the rest are refunded after it).
    returned: dict[str, int] = field(default_factory=dict)
    deducted: dict[str, int] = field(default_factory=dict)
    # Split shipments: the ShipmentWorkflow children started (workflow id ->
    # handle) and what each told (fulfillment number -> its hold or refusal).
    children: dict[str, Any] = field(default_factory=dict)
    held: dict[int, ShipmentHeld] = field(default_factory=dict)

    # ------------------------------------------------------ must happen

    async def must(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """A step that must happen. In an update handler: one bounded try (the
        caller is waiting), and on failure the main loop takes it over; in the
        main loop: until it succeeds (saga.until_done, NeedsAttention meanwhile)."""
        if workflow.current_update_info() is None:
            return await until_done(what, call)
        try:
            return await call()
        except ActivityError as error:
            reason, message, _ = refusal(error)
            workflow.logger.error(
                "%s failed (%s: %s); the journey retries it", what, reason, message
            )
            visibility.flag_needs_attention(f"{what}: {reason}")
            self.deferred.append((what, call))
            return None

    @property
    def has_leftovers(self) -> bool:
        return bool(self.deferred or self.saga.unfinished)

    async def finish_leftovers(self) -> None:
        """Main loop only: what handlers deferred, and failed compensations."""
        while self.deferred:
            what, call = self.deferred[0]
            await until_done(what, call)
            self.deferred.pop(0)
        await self.saga.finish_unfinished()

    async def _for_customer(self, what: str, call: Callable[[], Awaitable[Any]]) -> None:
        """A record of the customer's history. A customer the customers service
        does not know (agents may send any id) or refuses the words for is
        skipped: the order is not theirs to stop."""

        async def attempt() -> Any:
            try:
                return await call()
            except ActivityError as error:
                reason, message, _ = refusal(error)
                if refused_for_good(error) and reason in ("NOT_FOUND", "INVALID_ARGUMENT"):
                    workflow.logger.warning("%s skipped: %s: %s", what, reason, message)
                    return None
                raise

        await self.must(what, attempt)

    # ------------------------------------------------------------ records

    async def record(
        self,
        step: str,
        event_type: str,
        detail: str,
        changed: list[Fulfillment] | None = None,
    ) -> None:
        """Records the order's status, the fulfillments that changed (all by
        default) and one event."""
        fulfillments = self.fulfillments if changed is None else changed
        # Temporal's visibility follows every change the read model is told of.
        visibility.show_order(self)
        progress = OrderProgress(
            event_id=self.key(step),
            order_id=self.order.order_id,
            status=self.status,
            fulfillments=[f.record() for f in fulfillments if f.status],
            event_type=event_type,
            event_detail=detail,
        )
        await self.must(
            f"record {step}",
            lambda: run_activity(OrderActivities.record_order_progress, progress),
        )

    async def record_customer(self) -> None:
        entry = CustomerActivityInput(
            customer_id=self.order.customer_id,
            kind=ActivityKind.ORDER,
            reference_id=self.order.order_id,
            channel=self.order.channel,
            status=self.status,
        )
        await self._for_customer(
            f"customer activity {self.status}",
            lambda: run_activity(CustomerActivities.record_activity, entry),
        )

    def order_lines_text(self) -> str:
        """The order's lines for a message to the customer (issue 14)."""
        return lines_text((line.sku, line.quantity) for line in self.order.lines)

    async def record_milestone(
        self,
        kind: TimelineEventKind,
        summary: str,
        amount_minor: int = 0,
        *,
        step: str = "",
        **details: str,
    ) -> None:
        """Puts the milestone on the customer's timeline (once per kind, or per
        `step` when one kind can happen more than once); the customers service
        adds its loyalty points and tells the customer."""
        event = TimelineEventInput(
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
        )
        await self._for_customer(
            f"timeline {step or kind}",
            lambda: run_activity(CustomerActivities.record_timeline_event, event),
        )

    # ---------------------------------------------------------- placement

    async def hold(
        self, number: int, location_id: str, lines: list[LineInput], retry: RetryPolicy
    ) -> str:
        """Holds every line at `location_id` for fulfillment `number`; returns the
        reservation id, or raises ActivityError."""
        reservation_id = self.key(fulfillment_step(number, f"reserve/{location_id}"))
        saga_step = fulfillment_step(number, "reservation")
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
            if refused_for_good(error):
                # Refused: nothing was held, so nothing to release here.
                self.saga.drop(saga_step)
            raise
        return reservation_id

    async def reserve(self, location_id: str) -> None:
        """Holds every line at `location_id` (the order's first fulfillment), or
        raises ActivityError."""
        reservation_id = await self.hold(1, location_id, self.order.lines, PLACEMENT_RETRY)
        self.fulfillments = [
            Fulfillment(
                order_id=self.order.order_id,
                number=1,
                type=self.fulfillment_type,
                location_id=location_id,
                lines=list(self.order.lines),
                reservation_id=reservation_id,
            )
        ]

    async def authorize(self) -> None:
        """Authorizes each tender for its share, in turn, or raises ActivityError."""
        amounts = rules.tender_amounts(self.order.tenders, self.total_minor)
        for index, (tender, amount) in enumerate(zip(self.order.tenders, amounts, strict=True)):
            if amount <= 0:
                continue
            request = AuthorizeInput(
                idempotency_key=self.key(f"authorize/{index}"),
                reference=self.order.order_id,
                tender_type=tender.type,
                amount_minor=amount,
                currency=self.order.currency,
                token=tender.token,
                code=tender.code,
                channel=self.order.channel,
            )
            known: list[PaymentInfo] = []
            # Pushed before the call: an authorization whose answer was lost
            # (a timeout, INTERNAL) may exist and must be voided.
            self.saga.push(f"payment/{index}", self._void_authorization(index, request, known))
            try:
                payment: PaymentInfo = await run_activity(
                    PaymentActivities.authorize, request, retry=PLACEMENT_RETRY
                )
            except ActivityError as error:
                if refused_for_good(error):
                    # Declined: no authorization exists, nothing to void.
                    self.saga.drop(f"payment/{index}")
                raise
            known.append(payment)
            self.tenders.append(Tender(index=index, payment=payment))

    def _void_authorization(
        self, index: int, request: AuthorizeInput, known: list[PaymentInfo]
    ) -> Any:
        """Voids tender `index`'s authorization; when its answer never came,
        asks again with the same idempotency key (the provider answers the
        first outcome) to learn what to void."""

        async def undo() -> None:
            if known:
                payment = known[0]
            else:
                try:
                    payment = await run_activity(PaymentActivities.authorize, request)
                except ActivityError as error:
                    if refused_for_good(error):
                        return
                    raise
            await self._void(index, payment.payment_id)()

        return undo

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

    async def accept(self) -> None:
        self.status = OrderStatus.PLACED
        for fulfillment in self.fulfillments:
            fulfillment.status = FulfillmentStatus.PENDING
        where = ", ".join(f.location_id for f in self.fulfillments)
        await self.record("placed", "placed", f"{self.fulfillment_type} from {where}")
        await self.record_customer()
        await self.record_milestone(
            TimelineEventKind.ORDER_PLACED,
            f"order placed ({self.fulfillment_type})",
            self.total_minor,
            lines=self.order_lines_text(),
        )
        # Before the placement is answered: the run goes on from `placed` in the
        # same activation as the answer, so no store action can slip in between.
        if workflow.patched(CHECKOUT_CART_PATCH):
            await self.checkout_cart()
        self.placement = PlacementResult(accepted=True)

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

    async def reject(self, reason: str, message: str, details: dict[str, str]) -> None:
        """Gives back whatever placement took, then records the refusal."""
        problem = await self.undo_all()
        self.status = OrderStatus.REJECTED
        await self.record("rejected", "rejected", f"{reason}: {message}{problem}")
        self.placement = PlacementResult(
            accepted=False, reason=reason, message=message, details=details
        )

    # ----------------------------------- placement taken by the orders service

    def adopt(self, placed: PlacedInput, *, show: bool = True) -> None:
        """Takes over the hold and the authorizations the orders service made
        (their compensations go on the saga) and answers the placement. The
        workflow's init adopts (show=False: no commands there), so an update
        that arrives with the first task is validated against a placed order;
        the run adopts again, which only shows it."""
        if self.placement is not None:
            if show:
                visibility.show_adopted(self)
            return
        if len(placed.holds) > 1:
            # A split: each hold is confirmed by its own ShipmentWorkflow
            # (started by the run), which releases it when told.
            self.fulfillments = [
                self.split_fulfillment(number, hold.location_id, hold.lines, hold.reservation_id)
                for number, hold in enumerate(placed.holds, start=1)
            ]
            for fulfillment in self.fulfillments:
                fulfillment.status = FulfillmentStatus.PENDING
                self.saga.push(
                    fulfillment.step("reservation"), self.settle_child_later(fulfillment)
                )
        else:
            first = Fulfillment(
                order_id=self.order.order_id,
                number=1,
                type=self.fulfillment_type,
                location_id=placed.location_id,
                lines=list(self.order.lines),
                reservation_id=placed.reservation_id,
                status=FulfillmentStatus.PENDING,
            )
            self.fulfillments = [first]
            self.saga.push(first.step("reservation"), self._release(placed.reservation_id))
        for authorized in placed.tenders:
            self.tenders.append(Tender(index=authorized.index, payment=authorized.payment))
            self.saga.push(
                f"payment/{authorized.index}",
                self._void(authorized.index, authorized.payment.payment_id),
            )
        self.status = OrderStatus.PLACED
        self.placement = PlacementResult(accepted=True)
        if show:
            visibility.show_adopted(self)

    def split_fulfillment(
        self, number: int, location_id: str, lines: list[LineInput], reservation_id: str = ""
    ) -> Fulfillment:
        """Fulfillment `number` of a split shipment, its stock held by its own
        child workflow. Lines carry the order's unit prices."""
        prices = {line.sku: line.unit_price_minor for line in self.order.lines}
        return Fulfillment(
            order_id=self.order.order_id,
            number=number,
            type=self.fulfillment_type,
            location_id=location_id,
            lines=[
                LineInput(line.sku, line.quantity, line.unit_price_minor or prices.get(line.sku, 0))
                for line in lines
            ],
            reservation_id=reservation_id,
            workflow_id=shipment_workflow_id(self.order.order_id, number),
        )

    def _release(self, reservation_id: str) -> Any:
        return lambda: run_activity(
            InventoryActivities.release_reservation,
            ReleaseReservationInput(reservation_id=reservation_id),
        )

    async def _record_placed_again(self, failed: BaseException) -> None:
        """The customer's records after their local tries failed: retried as a
        regular activity by its policy (a refusal is only logged: the order
        goes on without them)."""
        if workflow.patched(RECORD_PLACED_UNTIL_DONE_PATCH):
            try:
                await run_activity(CustomerActivities.record_order_placed, self._placed_records())
                return
            except ActivityError as error:
                failed = error
        reason = refusal(failed)[0] if isinstance(failed, ActivityError) else failed
        workflow.logger.warning("placed order not recorded for the customer: %s", reason)

    async def confirm_placed(self) -> None:
        """After the answer: the hold becomes a reservation, and the customer's
        records and cart go out, side by side as local activities (one workflow
        task). The orders service has recorded `placed` itself. A hold that ran
        out first is taken again; when the stock is gone, the order is cancelled
        (stock and payment given back)."""
        first = self.fulfillments[0]
        if first.workflow_id:
            # A split: each child confirms its own hold (ShipFromStoreWorkflow).
            try:
                await run_local_activity(
                    CustomerActivities.record_order_placed, self._placed_records()
                )
            except ActivityError as error:
                await self._record_placed_again(error)
            return
        outcomes: tuple[Any, Any] = await asyncio.gather(
            run_local_activity(
                InventoryActivities.confirm_reservation,
                ConfirmReservationInput(reservation_id=first.reservation_id),
            ),
            run_local_activity(CustomerActivities.record_order_placed, self._placed_records()),
            return_exceptions=True,
        )
        held, recorded = outcomes
        if isinstance(recorded, BaseException):
            await self._record_placed_again(recorded)
        if isinstance(held, BaseException):
            # Still unanswered after its local tries: keep trying the usual way.
            held = await run_activity(
                InventoryActivities.confirm_reservation,
                ConfirmReservationInput(reservation_id=first.reservation_id),
            )
        assert isinstance(held, ReservationInfo)
        if held.status == ReservationStatus.ACTIVE:
            return
        try:
            first.reservation_id = await self.hold(
                1, first.location_id, first.lines, PLACEMENT_RETRY
            )
        except ActivityError as error:
            reason, message, _ = refusal(error)
            await self.cancel(
                CancelInput(reason=f"the stock held for it ran out ({reason}: {message})")
            )

    def _placed_records(self) -> OrderPlacedInput:
        return OrderPlacedInput(
            activity=CustomerActivityInput(
                customer_id=self.order.customer_id,
                kind=ActivityKind.ORDER,
                reference_id=self.order.order_id,
                channel=self.order.channel,
                status=self.status,
            ),
            timeline=TimelineEventInput(
                event_id=self.key(f"timeline/{TimelineEventKind.ORDER_PLACED}"),
                customer_id=self.order.customer_id,
                kind=TimelineEventKind.ORDER_PLACED,
                reference_id=self.order.order_id,
                order_id=self.order.order_id,
                channel=self.order.channel,
                summary=f"order placed ({self.fulfillment_type})",
                amount_minor=self.total_minor,
                currency=self.order.currency,
                details={"lines": self.order_lines_text()},
            ),
            cart=CheckoutCartInput(
                customer_id=self.order.customer_id,
                order_id=self.order.order_id,
                skus=[line.sku for line in self.order.lines],
            ),
        )

    async def abandon(self) -> None:
        """A placement the orders service could not finish (it stopped before
        starting this journey): gives back the hold and voids every
        authorization made for the order, then records the refusal."""
        await run_activity(
            InventoryActivities.release_reservation,
            ReleaseReservationInput(reservation_id=placement_hold_id(self.order.order_id)),
        )
        found: PaymentList = await run_activity(
            PaymentActivities.list_payments, ListPaymentsInput(reference=self.order.order_id)
        )
        for payment in found.payments:
            if payment.status == PaymentStatus.AUTHORIZED:
                await run_activity(
                    PaymentActivities.void,
                    VoidInput(
                        idempotency_key=self.key(f"void/{payment.payment_id}"),
                        payment_id=payment.payment_id,
                    ),
                )
        reason, message = "PLACEMENT_INTERRUPTED", "the order could not be placed; try again"
        self.status = OrderStatus.REJECTED
        await self.record("rejected", "rejected", f"{reason}: {message}")
        self.placement = PlacementResult(accepted=False, reason=reason, message=message)

    # -------------------------------------------------------------- settle

    async def capture_delivered(self) -> None:
        """Captures what was delivered (less what came back before: returns),
        gift cards first; voids tenders not needed."""
        self.deducted = dict(self.returned)
        # Earlier shipments captured their own shares (capture_shipped).
        already = sum(t.captured_minor for t in self.tenders)
        amounts = rules.capture_amounts(
            [
                (t.payment.tender_type, t.payment.authorized_minor - t.captured_minor)
                for t in self.tenders
            ],
            max(0, self.delivered_total_minor - sum(self.deducted.values()) - already),
        )
        for position in rules.gift_cards_first([t.payment.tender_type for t in self.tenders]):
            tender, amount = self.tenders[position], amounts[position]
            if amount == 0 and tender.captured_minor == 0:
                await self._void(tender.index, tender.payment.payment_id)()
                self.saga.drop(f"payment/{tender.index}")
                continue
            if amount == 0 and tender.captured_minor >= tender.payment.authorized_minor:
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
            # Nothing more to capture: a final capture of 0 releases the rest.
            tender.captured_minor += amount
            self.saga.replace(f"payment/{tender.index}", self._refund(tender))

    async def capture_shipped(self, fulfillment: Fulfillment) -> None:
        """A shipment that is not the last captures its own share (the shipping
        with the first), gift cards first; the rest stays authorized. Raises
        ActivityError (the shipment is then refused, nothing changed)."""
        already = sum(t.captured_minor for t in self.tenders)
        wanted = max(0, self.delivered_total_minor - sum(self.returned.values()) - already)
        amounts = rules.capture_amounts(
            [
                (t.payment.tender_type, t.payment.authorized_minor - t.captured_minor)
                for t in self.tenders
            ],
            wanted,
        )
        for position in rules.gift_cards_first([t.payment.tender_type for t in self.tenders]):
            tender, amount = self.tenders[position], amounts[position]
            if amount <= 0:
                continue
            await run_activity(
                PaymentActivities.capture,
                CaptureInput(
                    idempotency_key=self.key(
                        f"capture/{tender.index}/{fulfillment.fulfillment_id}"
                    ),
                    payment_id=tender.payment.payment_id,
                    amount_minor=amount,
                    currency=self.order.currency,
                ),
            )
            tender.captured_minor += amount
            self.saga.replace(f"payment/{tender.index}", self._refund(tender))

    async def commit(self, fulfillment: Fulfillment) -> None:
        """Stock leaves the shelf for what was picked; the rest of the hold goes back."""
        committing = CommitReservationInput(
            reservation_id=fulfillment.reservation_id,
            lines=[SkuQty(sku, quantity) for sku, quantity in fulfillment.picked.items()],
        )
        self.saga.drop(fulfillment.step("reservation"))
        if fulfillment.workflow_id:
            await self.settle_child(fulfillment, SettleShipmentInput(commit=committing.lines))
            return
        await self.must(
            f"commit {fulfillment.fulfillment_id}",
            lambda: run_activity(InventoryActivities.commit_reservation, committing),
        )

    async def release(self, fulfillment: Fulfillment) -> None:
        releasing = ReleaseReservationInput(reservation_id=fulfillment.reservation_id)
        self.saga.drop(fulfillment.step("reservation"))
        if fulfillment.workflow_id:
            await self.settle_child(fulfillment, SettleShipmentInput(release=True))
            return
        await self.must(
            f"release {fulfillment.fulfillment_id}",
            lambda: run_activity(InventoryActivities.release_reservation, releasing),
        )

    async def settle_child(self, fulfillment: Fulfillment, settling: SettleShipmentInput) -> None:
        """Tells the child holding `fulfillment`'s stock to commit or release it
        (once; the child ignores a repeat). Waits for the child to have started."""
        if fulfillment.settled:
            return
        fulfillment.settled = True
        await workflow.wait_condition(lambda: fulfillment.workflow_id in self.children)
        await self.children[fulfillment.workflow_id].signal(SETTLE_SHIPMENT_SIGNAL, settling)

    def settle_child_later(self, fulfillment: Fulfillment) -> Callable[[], Awaitable[Any]]:
        """The compensation of a child's hold: release it."""
        return lambda: self.settle_child(fulfillment, SettleShipmentInput(release=True))

    async def deliver(
        self, fulfillment: Fulfillment, status: FulfillmentStatus, detail: str
    ) -> None:
        """`fulfillment` was handed over or shipped: its stock is committed; the
        last one open settles the money and ends the order. The last one is
        captured first: a capture that fails refuses the handover or shipment
        whole (CAPTURE_FAILED; nothing changed, try again or cancel)."""
        previous = fulfillment.status
        fulfillment.status = status
        if not self.open_fulfillments():
            try:
                await self.capture_delivered()
            except ActivityError as error:
                fulfillment.status = previous
                raise capture_failed(error) from None
            self.captured = True
            await self.finish(detail, fulfillment)
            return
        if self.fulfillment_type == FulfillmentType.SHIP and workflow.patched(
            CAPTURE_PER_SHIPMENT_PATCH
        ):
            try:
                await self.capture_shipped(fulfillment)
            except ActivityError as error:
                fulfillment.status = previous
                raise capture_failed(error) from None
        await self.commit(fulfillment)
        self.status = self.live_status()
        await self.record(fulfillment.step(status), status, detail, [fulfillment])
        if self.fulfillment_type == FulfillmentType.SHIP:
            await self.shipped_milestone(fulfillment)

    async def shipped_milestone(self, fulfillment: Fulfillment) -> None:
        await self.record_milestone(
            TimelineEventKind.ORDER_SHIPPED,
            "shipped",
            fulfillment.picked_total_minor,
            step=fulfillment.step("order_shipped"),
            carrier=fulfillment.carrier,
            tracking_number=fulfillment.tracking_number,
            lines=lines_text(
                (line.sku, fulfillment.picked.get(line.sku, 0)) for line in fulfillment.lines
            ),
        )

    async def finish(self, detail: str, last: Fulfillment | None) -> None:
        """Nothing is open any more and something was delivered: captures it
        all (once, final) and ends the journey."""
        if not self.captured:
            await self.must("capture", self.capture_delivered)
            self.captured = True
        if not workflow.patched(RECORDS_SIDE_BY_SIDE_PATCH):
            await self._finish_one_by_one(detail, last)
            return
        ship = self.fulfillment_type == FulfillmentType.SHIP
        self.status = OrderStatus.SHIPPED if ship else OrderStatus.COMPLETED
        steps: list[Awaitable[None]] = []
        if last is not None:
            steps.append(self.commit(last))
        steps += [
            self.record(self._end_step(last), self.status, detail, [last] if last else None),
            self.record_customer(),
        ]
        if not ship:
            steps.append(
                self.record_milestone(
                    TimelineEventKind.ORDER_COMPLETED, "picked up", self.delivered_total_minor
                )
            )
        elif last is not None:
            steps.append(self.shipped_milestone(last))
        await side_by_side(*steps)
        # Nothing left to undo: the order is done.
        self.saga.clear()

    def _end_step(self, last: Fulfillment | None) -> str:
        # F1's own shipment recorded step "shipped" already when an earlier
        # part shipped: the order's end needs an event id of its own.
        step = str(self.status)
        if any(f.delivered and f is not last and f.number == 1 for f in self.fulfillments):
            step = f"{self.status}/order"
        return step

    async def _finish_one_by_one(self, detail: str, last: Fulfillment | None) -> None:
        """`finish` as runs started before RECORDS_SIDE_BY_SIDE_PATCH replay it
        (its status changes only once the commit is done: the main loop's
        waits see it then, and their commands keep their place)."""
        if last is not None:
            await self.commit(last)
        ship = self.fulfillment_type == FulfillmentType.SHIP
        self.status = OrderStatus.SHIPPED if ship else OrderStatus.COMPLETED
        await self.record(self._end_step(last), self.status, detail, [last] if last else None)
        await self.record_customer()
        if ship:
            if last is not None:
                await self.shipped_milestone(last)
        else:
            await self.record_milestone(
                TimelineEventKind.ORDER_COMPLETED, "picked up", self.delivered_total_minor
            )
        self.saga.clear()

    async def refund_late_returns(self) -> None:
        """Returns that arrived once the capture had started: refunded from
        what was captured, gift cards first (main loop, until done)."""
        if not self.captured:
            return
        for return_id, amount in sorted(self.returned.items()):
            if return_id in self.deducted:
                continue
            left = amount
            for position in rules.gift_cards_first([t.payment.tender_type for t in self.tenders]):
                tender = self.tenders[position]
                share = min(left, tender.captured_minor)
                if share <= 0:
                    continue
                refunding = RefundInput(
                    idempotency_key=self.key(f"return/{return_id}/{tender.index}"),
                    payment_id=tender.payment.payment_id,
                    amount_minor=share,
                    currency=self.order.currency,
                )
                await until_done(
                    f"refund of return {return_id}",
                    lambda r=refunding: run_activity(PaymentActivities.refund, r),  # type: ignore[misc]
                )
                tender.captured_minor -= share
                left -= share
            self.deducted[return_id] = amount

    # -------------------------------------------------------------- cancel

    async def cancel(self, request: CancelInput) -> None:
        """Releases stock, voids or refunds payments, records why. When part of
        the order was already collected, only the rest is cancelled and the
        collected part is captured."""
        who = f" by {request.actor}" if request.actor else ""
        if any(f.delivered for f in self.fulfillments):
            for fulfillment in self.open_fulfillments():
                await self.release(fulfillment)
                fulfillment.status = FulfillmentStatus.CANCELLED
            await self.finish(f"the rest cancelled{who}: {request.reason}", None)
            return
        problem = await self.undo_all()
        self.status = OrderStatus.CANCELLED
        for fulfillment in self.open_fulfillments():
            fulfillment.status = FulfillmentStatus.CANCELLED
        await self.record("cancelled", "cancelled", f"cancelled{who}: {request.reason}{problem}")
        await self.record_customer()
        await self.record_milestone(
            TimelineEventKind.ORDER_CANCELLED,
            f"cancelled: {request.reason}",
            lines=self.order_lines_text(),
        )
