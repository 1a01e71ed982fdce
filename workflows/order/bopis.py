"""Buy online, pick up in store: reserve, authorize, pick, hand over.

place (update-with-start) -> reserve at the store + authorize each tender
  -> placed | rejected (compensated)
pick -> ready_for_pickup with a pickup code; the pickup window starts
  (one pickup reminder before it ends); a short pick's remainder goes to the
  nearest other pickup store with the stock as a new fulfillment (or is cancelled)
reject (pending fulfillment) -> its lines go to the nearest other pickup store
  with the stock (the customer is told), or are cancelled
handover (right code) -> commit its stock; the last one captures what was
  picked -> completed (ready_for_pickup only once every open fulfillment is)
cancel (until picked up) or the window ends -> release, void -> cancelled
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.order.authorizations import REAUTHORIZE_PATCH, watch_authorizations
from workflows.order.policies import (
    BEST_EFFORT_RETRY,
    refusal,
    run_activity,
    run_local_activity,
)
from workflows.order.reroute import DEADLINES_PATCH, take_pick, wait_with_deadlines
from workflows.order.sla import STORE_SLAS_PATCH, StoreWatch, clocks_of, watch_store_work
from workflows.order.steps import RECORDS_SIDE_BY_SIDE_PATCH, OrderJourney
from workflows.order.updates import (
    OrderUpdates,
    check_pick,
    check_store_action,
    invalid_pick,
    placement_answered,
)

with workflow.unsafe.imports_passed_through():
    from omni.words import (
        FulfillmentStatus,
        FulfillmentType,
        NotificationKind,
        OrderStatus,
        TimelineEventKind,
    )
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import GetLocationInput, LocationInfo, NotificationInput
    from workflows.contracts.journeys import (
        ARRIVED_SIGNAL,
        BOPIS_WORKFLOW,
        ERROR_PICKUP_LOCKED,
        ERROR_WRONG_PICKUP_CODE,
        HANDOVER_UPDATE,
        PICK_UPDATE,
        PICKUP_CODE_UPDATE,
        ActionResult,
        ArrivedInput,
        CancelInput,
        HandoverInput,
        OrderInput,
        PickInput,
        PickupCodeInput,
    )
    from workflows.contracts.journeys import OrderStatus as OrderStatusView
    from workflows.contracts.messages import lines_text
    from workflows.order import rules
    from workflows.order.rules import StoreAction
    from workflows.order.state import Fulfillment

# When the store does not say how long it keeps an order for pickup.
DEFAULT_PICKUP_WINDOW = timedelta(hours=72)
# The pickup reminder goes out 24 h before the window ends or when a third of
# it is left, whichever comes first (a window of 24 h or less: a third left).
PICKUP_REMINDER_LEAD = timedelta(hours=24)
# A fulfillment nobody picked by then goes to another store, or is cancelled.
PICK_DEADLINE = timedelta(hours=48)
# Workflows started before the reminder existed replay without it.
PICKUP_REMINDER_PATCH = "pickup-reminder"
# The pickup window's lookup also gives the store clocks their location: one
# get_location per placed journey instead of a local and a regular one.
LOCATION_ONCE_PATCH = "placed-location-looked-up-once"


def pickup_reminder_after(window: timedelta) -> timedelta:
    """How long after the order is ready for pickup the reminder goes out."""
    lead = max(window / 3, PICKUP_REMINDER_LEAD)
    if lead >= window:
        lead = window / 3
    return window - lead


@workflow.defn(name=BOPIS_WORKFLOW)
class BopisWorkflow(OrderUpdates):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.journey = OrderJourney(order=order, fulfillment_type=FulfillmentType.PICKUP)
        # The store clocks: pick SLA, curbside hand-off (workflows/order/sla.py).
        self.watch = StoreWatch()
        if order.placed is not None:
            self.journey.adopt(order.placed, show=False)

    @workflow.run
    async def run(self, order: OrderInput) -> OrderStatusView:
        journey = self.journey
        window = await self._place()
        # Each card authorization is renewed before it lapses while the order
        # lives (workflows/order/authorizations.py).
        renewals = None
        if rules.is_live(journey.status) and workflow.patched(REAUTHORIZE_PATCH):
            renewals = asyncio.create_task(watch_authorizations(journey))
        # Live, not only `placed`: a pick may have landed while acceptance ran.
        if rules.is_live(journey.status):
            if window is None:
                window = await self._pickup_window()
            # Several fulfillments: the window starts once every open one is ready.
            ready = lambda: journey.status == OrderStatus.READY_FOR_PICKUP  # noqa: E731
            if workflow.patched(STORE_SLAS_PATCH):
                # The store's clocks run for the order's whole life: a late pick
                # is overdue, then rerouted (or its lines cancelled); a curbside
                # customer kept waiting is told it is coming.
                clocks = asyncio.create_task(watch_store_work(journey, self.watch, lambda: False))
                await workflow.wait_condition(lambda: ready() or journey.finished)
                if journey.status == OrderStatus.READY_FOR_PICKUP:
                    await self._await_collection(window)
                await clocks
            elif workflow.patched(DEADLINES_PATCH):
                # Nobody picks in time: the fulfillment goes to the next store
                # (a fresh deadline there), or is cancelled with everything given back.
                await wait_with_deadlines(
                    journey,
                    ready,
                    {FulfillmentStatus.PENDING: (PICK_DEADLINE, "not picked")},
                )
            else:
                await workflow.wait_condition(lambda: ready() or journey.finished)
            if journey.status == OrderStatus.READY_FOR_PICKUP:
                await self._await_collection(window)
        if renewals is not None:
            await renewals
        await workflow.wait_condition(workflow.all_handlers_finished)
        await journey.finish_leftovers()
        await journey.refund_late_returns()
        return journey.status_view()

    async def _place(self) -> timedelta | None:
        """Places the order; returns the pickup window when it was looked up
        on the way (placement by the orders service), else None."""
        journey = self.journey
        if journey.order.abandoned:
            await journey.abandon()
            return None
        if journey.order.placed is not None:
            # Answered at once; the hold is confirmed under the lock, so no
            # store action lands before the order is settled.
            journey.adopt(journey.order.placed)
            async with journey.lock:
                window = asyncio.create_task(self._pickup_window(local=True))
                await journey.confirm_placed()
            return await window
        try:
            await journey.reserve(journey.order.pickup_location_id)
            await journey.authorize()
        except ActivityError as error:
            await journey.reject(*refusal(error))
            return None
        await journey.accept()
        return None

    async def _pickup_window(self, *, local: bool = False) -> timedelta:
        run = run_local_activity if local else run_activity
        try:
            location: LocationInfo = await run(
                InventoryActivities.get_location,
                GetLocationInput(location_id=self.journey.order.pickup_location_id),
            )
        except ActivityError:
            return DEFAULT_PICKUP_WINDOW
        if workflow.patched(LOCATION_ONCE_PATCH):
            where = self.journey.order.pickup_location_id
            self.watch.clocks.setdefault(where, clocks_of(location))
        if location.pickup_window_hours <= 0:
            return DEFAULT_PICKUP_WINDOW
        return timedelta(hours=location.pickup_window_hours)

    async def _await_collection(self, window: timedelta) -> None:
        """Waits for handover or cancel; reminds the customer once on the way;
        cancels when the window ends."""
        journey = self.journey
        ready_at = workflow.now()
        if workflow.patched(PICKUP_REMINDER_PATCH):
            try:
                await workflow.wait_condition(
                    lambda: journey.finished, timeout=pickup_reminder_after(window)
                )
                return
            except TimeoutError:
                await self._remind()
        left = window - (workflow.now() - ready_at)
        if left > timedelta(0):
            try:
                await workflow.wait_condition(lambda: journey.finished, timeout=left)
                return
            except TimeoutError:
                pass
        await self._expire(window)

    async def _remind(self) -> None:
        """One "pickup reminder" with the code; keyed by the workflow id, so a
        retried activity never sends it twice."""
        journey = self.journey
        if journey.status != OrderStatus.READY_FOR_PICKUP:
            return
        try:
            await run_activity(
                CustomerActivities.send_notification,
                NotificationInput(
                    customer_id=journey.order.customer_id,
                    notification_id=journey.key("notify/pickup_reminder"),
                    kind=NotificationKind.PICKUP_REMINDER,
                    reference_id=journey.order.order_id,
                    details={
                        "order_id": journey.order.order_id,
                        "pickup_code": ", ".join(
                            f.pickup_code
                            for f in journey.fulfillments
                            if f.status == FulfillmentStatus.READY_FOR_PICKUP
                        ),
                    },
                ),
                retry=BEST_EFFORT_RETRY,
            )
        except ActivityError as error:
            reason, _, _ = refusal(error)
            workflow.logger.warning("pickup reminder not sent: %s", reason)

    async def _expire(self, window: timedelta) -> None:
        async with self.journey.lock:
            # A handover or cancel may have finished while we waited for the lock.
            if self.journey.status != OrderStatus.READY_FOR_PICKUP:
                return
            hours = window.total_seconds() / 3600
            await self.journey.cancel(
                CancelInput(reason=f"not collected within the {hours:g}-hour pickup window")
            )

    # ------------------------------------------------------------ updates

    @workflow.update(name=PICK_UPDATE)
    async def pick(self, request: PickInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            # Drawn before the check, as runs started earlier did.
            code = f"{workflow.random().randint(0, 999_999):06d}"
            picked = check_pick(journey, request)

            async def ready() -> None:
                # Read once the pick is applied: its code and quantities.
                await journey.record_milestone(
                    TimelineEventKind.READY_FOR_PICKUP,
                    f"ready for pickup at {picked.location_id}",
                    step=picked.step("ready_for_pickup"),
                    pickup_code=picked.pickup_code,
                    lines=lines_text(
                        (line.sku, picked.picked.get(line.sku, 0)) for line in picked.lines
                    ),
                )

            together = workflow.patched(RECORDS_SIDE_BY_SIDE_PATCH)
            await take_pick(
                journey,
                picked,
                request,
                FulfillmentStatus.READY_FOR_PICKUP,
                "ready_for_pickup",
                code,
                alongside=ready if together else None,
            )
            if not together:
                await ready()
            return journey.action_result(picked)

    @pick.validator
    def validate_pick(self, request: PickInput) -> None:
        check_pick(self.journey, request)

    @workflow.signal(name=ARRIVED_SIGNAL)
    def customer_arrived(self, request: ArrivedInput) -> None:
        """Curbside: the customer is outside; the first arrival starts the
        hand-off clock (the orders service checked it is a ready pickup)."""
        self.watch.arrived(request.fulfillment_id)

    @workflow.update(name=HANDOVER_UPDATE)
    async def handover(self, request: HandoverInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            fulfillment = self._check_handover(request)
            if request.pickup_code != fulfillment.pickup_code:
                # Counted under the lock, so concurrent guesses get 5 tries in
                # all; runs started before the lockout replay alike (their
                # wrong codes never got past the validator).
                fulfillment.wrong_codes += 1
                raise ApplicationError(
                    "the pickup code does not match",
                    type=ERROR_WRONG_PICKUP_CODE,
                    non_retryable=True,
                )
            who = request.actor or "store"
            what = f"{fulfillment.fulfillment_id} " if fulfillment.number > 1 else ""
            picked = dict(fulfillment.picked)
            left = ""
            if request.lines:
                # A partial handover: only what was taken is committed and
                # charged; the rest of the hold goes back at this store.
                taken = {line.sku: line.quantity for line in request.lines}
                fulfillment.picked = {sku: taken[sku] for sku in picked if taken.get(sku, 0) > 0}
                not_taken = [
                    f"{sku} x{quantity - fulfillment.picked.get(sku, 0)}"
                    for sku, quantity in picked.items()
                    if fulfillment.picked.get(sku, 0) < quantity
                ]
                if not_taken:
                    left = f"; not taken, released: {', '.join(not_taken)}"
            try:
                await journey.deliver(
                    fulfillment, FulfillmentStatus.PICKED_UP, f"{what}handed over by {who}{left}"
                )
            except ApplicationError:
                fulfillment.picked = picked  # refused whole: nothing changed
                raise
            return journey.action_result(fulfillment)

    @handover.validator
    def validate_handover(self, request: HandoverInput) -> None:
        # A wrong code is accepted (the handler counts it); a locked pickup is not.
        self._check_handover(request)

    def _check_handover(self, request: HandoverInput) -> Fulfillment:
        fulfillment = check_store_action(
            self.journey, StoreAction.HAND_OVER, request.fulfillment_id
        )
        locked = rules.pickup_locked(fulfillment.wrong_codes)
        if locked is not None:
            raise ApplicationError(locked, type=ERROR_PICKUP_LOCKED, non_retryable=True)
        if request.lines:
            problem = rules.handover_problem(fulfillment.picked, request.lines)
            if problem is not None:
                raise invalid_pick(problem)
        return fulfillment

    @workflow.update(name=PICKUP_CODE_UPDATE)
    async def new_pickup_code(self, request: PickupCodeInput) -> ActionResult:
        """A new code for a ready pickup (the old one stops working, the wrong
        tries start again), recorded on the order and sent to the customer.
        No history before this update has it, so it needs no patch."""
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            fulfillment = check_store_action(
                journey, StoreAction.NEW_PICKUP_CODE, request.fulfillment_id
            )
            fulfillment.codes_reissued += 1
            fulfillment.pickup_code = f"{workflow.random().randint(0, 999_999):06d}"
            fulfillment.wrong_codes = 0
            issued = f"pickup_code/{fulfillment.codes_reissued}"
            await journey.record(
                fulfillment.step(issued),
                "pickup_code_reissued",
                f"new pickup code for {fulfillment.fulfillment_id}"
                f" asked by {request.actor or 'customer'}",
                [fulfillment],
            )
            await self._tell_code(fulfillment, journey.key(f"notify/{fulfillment.step(issued)}"))
            return journey.action_result(fulfillment)

    @new_pickup_code.validator
    def validate_new_pickup_code(self, request: PickupCodeInput) -> None:
        check_store_action(self.journey, StoreAction.NEW_PICKUP_CODE, request.fulfillment_id)

    async def _tell_code(self, fulfillment: Fulfillment, notification_id: str) -> None:
        """The new code, in the pickup reminder's words ("your pickup code is …")."""
        journey = self.journey
        try:
            await run_activity(
                CustomerActivities.send_notification,
                NotificationInput(
                    customer_id=journey.order.customer_id,
                    notification_id=notification_id,
                    kind=NotificationKind.PICKUP_REMINDER,
                    reference_id=journey.order.order_id,
                    details={
                        "order_id": journey.order.order_id,
                        "pickup_code": fulfillment.pickup_code,
                    },
                ),
                retry=BEST_EFFORT_RETRY,
            )
        except ActivityError as error:
            reason, _, _ = refusal(error)
            workflow.logger.warning("new pickup code not sent: %s", reason)
