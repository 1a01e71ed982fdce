"""Ship from store: source, reserve, authorize, pick, ship.

place (update-with-start) -> the nearest location that can ship every line
  (the next one when a race took its stock) + authorize
  -> placed | rejected (compensated)
pick -> in_fulfillment (fulfillment "picking": picked, awaiting the carrier);
  a short pick's remainder goes to the next location by the shipping rule as a
  new fulfillment (or is cancelled)
reject (pending or picking) -> its lines go to the next location by the
  shipping rule, or are cancelled
ship -> commit its stock (partially_shipped while others are open); the last
  one captures what was picked -> shipped
shipping_address (some shipment not yet picked, none shipped) -> each pending
  fulfillment sourced again for the new point; one whose best location
  differs is held there first (a split order's by a child of its own) and
  released at the old one (rerouted); else only recorded (addresses.py)
cancel (until the last shipment leaves) -> release, void -> cancelled; after a
  partial shipment the rest is released and what shipped stays paid -> shipped

Split at placement (no one location can ship every line): the fewest locations
that together can, nearest first (at most OrderInput.max_splits), each its own
fulfillment held by a child ShipmentWorkflow (`order-<id>-f<n>`, shipment.py);
each shipment but the last captures its own share (the shipping with the
first), the last captures the rest, final; what nothing will ship is released.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

from workflows.order.addresses import (
    ADDRESS_PER_SHIPMENT_PATCH,
    change_address,
    change_address_of_one,
)
from workflows.order.authorizations import REAUTHORIZE_PATCH, watch_authorizations
from workflows.order.children import start_shipment, take_word
from workflows.order.policies import PLACEMENT_RETRY, refusal, run_activity
from workflows.order.reroute import DEADLINES_PATCH, take_pick, wait_with_deadlines
from workflows.order.sla import StoreWatch, watch_store_work
from workflows.order.steps import OrderJourney
from workflows.order.updates import (
    OrderUpdates,
    check_pick,
    check_store_action,
    invalid_state,
    placement_answered,
)

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, FulfillmentType
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import (
        FindSourcesInput,
        FindSourcesResult,
        SkuQty,
        SourceOptionInfo,
    )
    from workflows.contracts.delivery import DeliveryInput, delivery_workflow_id
    from workflows.contracts.journeys import (
        DEFAULT_MAX_SPLITS,
        PICK_UPDATE,
        SHIP_FROM_STORE_WORKFLOW,
        SHIP_UPDATE,
        SHIPMENT_HELD_SIGNAL,
        SHIPPING_ADDRESS_UPDATE,
        ActionResult,
        CancelInput,
        LineInput,
        OrderInput,
        PickInput,
        ShipInput,
        ShipmentHeld,
        ShippingAddressInput,
    )
    from workflows.contracts.journeys import OrderStatus as OrderStatusView
    from workflows.contracts.messages import lines_text
    from workflows.delivery.workflow import DeliveryWorkflow
    from workflows.order import rules
    from workflows.order.rules import StoreAction
    from workflows.order.state import Fulfillment

INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
# Every wait is bounded: a fulfillment not picked, or picked and not shipped,
# by then goes to the next location by the shipping rule, or is cancelled.
PICK_DEADLINE = timedelta(hours=48)
SHIP_DEADLINE = timedelta(hours=72)
NO_SOURCE = "NO_SOURCE"
# Runs started before placement could split a shipment replay without it.
SPLIT_AT_PLACEMENT_PATCH = "split-at-placement"
# Runs started before ship-from-store had the store clocks replay with the
# 48-hour pick deadline (DEADLINES_PATCH).
SHIP_FROM_STORE_SLAS_PATCH = "ship-from-store-slas"
# Runs started before shipments were followed to delivery replay without it.
DELIVERY_TRACKING_PATCH = "delivery-tracking"


@workflow.defn(name=SHIP_FROM_STORE_WORKFLOW)
class ShipFromStoreWorkflow(OrderUpdates):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.journey = OrderJourney(order=order, fulfillment_type=FulfillmentType.SHIP)
        # A split whose child could not hold its stock (placement refused).
        self.split_refusal: ShipmentHeld | None = None
        # Shipping address changes so far (each one's step is its own).
        self.address_changes = 0
        # The store clocks (workflows/order/sla.py): the pick SLA.
        self.watch = StoreWatch()
        if order.placed is not None:
            self.journey.adopt(order.placed, show=False)

    @workflow.run
    async def run(self, order: OrderInput) -> OrderStatusView:
        journey = self.journey
        await self._place()
        # Each card authorization is renewed before it lapses while the order
        # lives (workflows/order/authorizations.py).
        renewals = None
        if not journey.finished and workflow.patched(REAUTHORIZE_PATCH):
            renewals = asyncio.create_task(watch_authorizations(journey))
        if not journey.finished and workflow.patched(SHIP_FROM_STORE_SLAS_PATCH):
            # The store's pick SLA, as for pickups (workflows/order/sla.py):
            # overdue (the store told), then rerouted at twice the SLA; a
            # picked shipment not handed to the carrier by SHIP_DEADLINE too.
            await watch_store_work(journey, self.watch, lambda: False, SHIP_DEADLINE)
        elif not journey.finished and workflow.patched(DEADLINES_PATCH):
            await wait_with_deadlines(
                journey,
                lambda: False,
                {
                    FulfillmentStatus.PENDING: (PICK_DEADLINE, "not picked"),
                    FulfillmentStatus.PICKING: (SHIP_DEADLINE, "not shipped"),
                },
            )
        await workflow.wait_condition(lambda: journey.finished)
        if renewals is not None:
            await renewals
        await workflow.wait_condition(workflow.all_handlers_finished)
        await journey.finish_leftovers()
        await journey.refund_late_returns()
        # A split's children end once settled; the parent outlives them, so
        # its close (REQUEST_CANCEL) never interrupts a commit or a release.
        if journey.children:
            await asyncio.gather(*journey.children.values())
        return journey.status_view()

    @workflow.signal(name=SHIPMENT_HELD_SIGNAL)
    def shipment_held(self, held: ShipmentHeld) -> None:
        """A child's hold (or refusal); the first word counts."""
        self.journey.held.setdefault(held.number, held)

    async def _place(self) -> None:
        journey = self.journey
        if journey.order.abandoned:
            await journey.abandon()
            return
        if journey.order.placed is not None:
            journey.adopt(journey.order.placed)
            async with journey.lock:
                if journey.fulfillments[0].workflow_id:
                    refused = await self._start_shipments(compensate=False)
                    if refused is not None:
                        await journey.cancel(
                            CancelInput(
                                reason=f"the stock held for it ran out ({refused.reason}: "
                                f"{refused.message})"
                            )
                        )
                        return
                await journey.confirm_placed()
            return
        try:
            reserved = await self._reserve_nearest()
            if not reserved and self.split_refusal is not None:
                held = self.split_refusal
                await journey.reject(held.reason, held.message, {})
                return
            if not reserved:
                await journey.reject(NO_SOURCE, "no location can ship every line of this order", {})
                return
            await journey.authorize()
        except ActivityError as error:
            await journey.reject(*refusal(error))
            return
        await journey.accept()

    async def _reserve_nearest(self) -> bool:
        """Reserves at the best option that still has the stock; False when none had it.

        Raises ActivityError for any failure other than a lost stock race.
        """
        journey = self.journey
        address = journey.order.address
        if address is None:
            return False
        sources: FindSourcesResult = await run_activity(
            InventoryActivities.find_sources,
            FindSourcesInput(
                lines=[SkuQty(line.sku, line.quantity) for line in journey.order.lines],
                lat=address.lat,
                lon=address.lon,
                fulfillment_type=FulfillmentType.SHIP,
                channel=journey.order.channel,
                max_locations=journey.order.max_splits or DEFAULT_MAX_SPLITS,
            ),
            retry=PLACEMENT_RETRY,
        )
        # Histories from before splits carry location ids only (all singles).
        singles = (
            [o.allocations[0].location_id for o in sources.options if len(o.allocations) == 1]
            if sources.options
            else sources.location_ids
        )
        splits = [o for o in sources.options if len(o.allocations) > 1]
        if not singles and splits and workflow.patched(SPLIT_AT_PLACEMENT_PATCH):
            return await self._hold_split(splits[0])
        last_race: ActivityError | None = None
        for location_id in singles:
            try:
                await journey.reserve(location_id)
                return True
            except ActivityError as error:
                if refusal(error)[0] != INSUFFICIENT_STOCK:
                    raise
                # Someone took the stock since sourcing ranked it: try the next.
                last_race = error
        if last_race is not None:
            raise last_race
        return False

    async def _hold_split(self, option: SourceOptionInfo) -> bool:
        """One fulfillment per location of `option`, each held by its own child
        workflow. Raises ActivityError-free: a child that could not hold makes
        the placement INSUFFICIENT_STOCK (the others are released by reject)."""
        journey = self.journey
        prices = {line.sku: line.unit_price_minor for line in journey.order.lines}
        journey.fulfillments = [
            journey.split_fulfillment(
                number,
                allocation.location_id,
                [LineInput(line.sku, line.quantity, prices[line.sku]) for line in allocation.lines],
            )
            for number, allocation in enumerate(option.allocations, start=1)
        ]
        refused = await self._start_shipments(compensate=True)
        if refused is None:
            return True
        self.split_refusal = refused
        return False

    async def _start_shipments(self, *, compensate: bool) -> ShipmentHeld | None:
        """Starts a ShipmentWorkflow per fulfillment and waits for each to hold
        its stock; the first refusal, or None when every one is held. With
        `compensate`, each hold's release goes on the saga first (adopted holds
        have theirs from adopt)."""
        journey = self.journey
        await asyncio.gather(
            *(start_shipment(journey, f, compensate=compensate) for f in journey.fulfillments)
        )
        await workflow.wait_condition(
            lambda: all(f.number in journey.held for f in journey.fulfillments)
        )
        refused: ShipmentHeld | None = None
        for fulfillment in journey.fulfillments:
            held = take_word(journey, fulfillment)
            if held.reason:
                refused = refused or held
        return refused

    # ------------------------------------------------------------ updates

    @workflow.update(name=PICK_UPDATE)
    async def pick(self, request: PickInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            picked = check_pick(journey, request)
            await take_pick(journey, picked, request, FulfillmentStatus.PICKING, "picked")
            return journey.action_result(picked)

    @pick.validator
    def validate_pick(self, request: PickInput) -> None:
        check_pick(self.journey, request)

    @workflow.update(name=SHIP_UPDATE)
    async def ship(self, request: ShipInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            fulfillment = self._check_ship(request)
            fulfillment.carrier = request.carrier
            fulfillment.tracking_number = request.tracking_number
            what = f"{fulfillment.fulfillment_id} " if fulfillment.number > 1 else ""
            detail = f"{what}shipped with {request.carrier} {request.tracking_number}"
            await journey.deliver(fulfillment, FulfillmentStatus.SHIPPED, detail)
            if workflow.patched(DELIVERY_TRACKING_PATCH):
                await self._follow_delivery(fulfillment)
            return journey.action_result(fulfillment)

    async def _follow_delivery(self, fulfillment: Fulfillment) -> None:
        """The shipment's delivery journey (workflows/delivery): it outlives
        this one (ABANDON) and records `delivered` once the carrier says so."""
        journey = self.journey
        order = journey.order
        try:
            await workflow.start_child_workflow(
                DeliveryWorkflow.run,
                DeliveryInput(
                    order_id=order.order_id,
                    customer_id=order.customer_id,
                    channel=order.channel,
                    currency=order.currency,
                    fulfillment_id=fulfillment.fulfillment_id,
                    event_id=journey.key(fulfillment.step("delivered")),
                    timeline_event_id=journey.key(
                        f"timeline/{fulfillment.step('order_delivered')}"
                    ),
                    carrier=fulfillment.carrier,
                    tracking_number=fulfillment.tracking_number,
                    lines_text=lines_text(
                        (line.sku, fulfillment.picked.get(line.sku, 0))
                        for line in fulfillment.lines
                    ),
                    shipped_at=workflow.now(),
                ),
                id=delivery_workflow_id(fulfillment.fulfillment_id),
                parent_close_policy=ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            pass  # followed already: the first start counts

    @ship.validator
    def validate_ship(self, request: ShipInput) -> None:
        self._check_ship(request)

    def _check_ship(self, request: ShipInput) -> Fulfillment:
        return check_store_action(self.journey, StoreAction.SHIP, request.fulfillment_id)

    @workflow.update(name=SHIPPING_ADDRESS_UPDATE)
    async def shipping_address(self, request: ShippingAddressInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            per_shipment = workflow.patched(ADDRESS_PER_SHIPMENT_PATCH)
            self._check_address(per_shipment=per_shipment)
            self.address_changes += 1
            step = f"address/{self.address_changes}"
            if per_shipment:
                return await change_address(journey, request, step)
            return await change_address_of_one(journey, request, step)

    @shipping_address.validator
    def validate_shipping_address(self, request: ShippingAddressInput) -> None:
        self._check_address(per_shipment=True)

    def _check_address(self, *, per_shipment: bool) -> None:
        journey = self.journey
        refused = rules.address_change_refusal(
            journey.fulfillment_type,
            journey.status,
            [f.status for f in journey.fulfillments if f.status],
            per_shipment=per_shipment,
        )
        if refused is not None:
            raise invalid_state(refused)
