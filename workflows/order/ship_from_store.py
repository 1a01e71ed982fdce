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
cancel (until the first shipment leaves) -> release, void -> cancelled
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.order.policies import PLACEMENT_RETRY, refusal, run_activity
from workflows.order.reroute import DEADLINES_PATCH, take_pick, wait_with_deadlines
from workflows.order.steps import OrderJourney
from workflows.order.updates import (
    OrderUpdates,
    check_pick,
    check_store_action,
    placement_answered,
)

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, FulfillmentType
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import FindSourcesInput, FindSourcesResult, SkuQty
    from workflows.contracts.journeys import (
        PICK_UPDATE,
        SHIP_FROM_STORE_WORKFLOW,
        SHIP_UPDATE,
        ActionResult,
        OrderInput,
        PickInput,
        ShipInput,
    )
    from workflows.contracts.journeys import OrderStatus as OrderStatusView
    from workflows.order.rules import StoreAction
    from workflows.order.state import Fulfillment

INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
# Every wait is bounded: a fulfillment not picked, or picked and not shipped,
# by then goes to the next location by the shipping rule, or is cancelled.
PICK_DEADLINE = timedelta(hours=48)
SHIP_DEADLINE = timedelta(hours=72)
NO_SOURCE = "NO_SOURCE"


@workflow.defn(name=SHIP_FROM_STORE_WORKFLOW)
class ShipFromStoreWorkflow(OrderUpdates):
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.journey = OrderJourney(order=order, fulfillment_type=FulfillmentType.SHIP)
        if order.placed is not None:
            self.journey.adopt(order.placed, show=False)

    @workflow.run
    async def run(self, order: OrderInput) -> OrderStatusView:
        journey = self.journey
        await self._place()
        if not journey.finished and workflow.patched(DEADLINES_PATCH):
            await wait_with_deadlines(
                journey,
                lambda: False,
                {
                    FulfillmentStatus.PENDING: (PICK_DEADLINE, "not picked"),
                    FulfillmentStatus.PICKING: (SHIP_DEADLINE, "not shipped"),
                },
            )
        await workflow.wait_condition(lambda: journey.finished)
        await workflow.wait_condition(workflow.all_handlers_finished)
        await journey.finish_leftovers()
        await journey.refund_late_returns()
        return journey.status_view()

    async def _place(self) -> None:
        journey = self.journey
        if journey.order.abandoned:
            await journey.abandon()
            return
        if journey.order.placed is not None:
            journey.adopt(journey.order.placed)
            async with journey.lock:
                await journey.confirm_placed()
            return
        try:
            reserved = await self._reserve_nearest()
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
                max_locations=1,
            ),
            retry=PLACEMENT_RETRY,
        )
        last_race: ActivityError | None = None
        for location_id in sources.location_ids:
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
            return journey.action_result(fulfillment)

    @ship.validator
    def validate_ship(self, request: ShipInput) -> None:
        self._check_ship(request)

    def _check_ship(self, request: ShipInput) -> Fulfillment:
        return check_store_action(self.journey, StoreAction.SHIP, request.fulfillment_id)
