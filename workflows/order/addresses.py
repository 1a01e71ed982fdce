"""A shipment's new shipping address (issue 11): the order ships there from
now on (reroutes too), and each shipment not yet picked is sourced again
from the new point; it moves only when the best location changes.

A step of the ship-from-store journey, run by its `shipping_address` update
under the journey's lock after rules.address_change_refusal. A move holds
at the new location first (a split order's by a child of its own, as a
reroute does: reroute.open_at), then releases the old hold, so a failure in
between leaves an extra hold the saga releases, never lines held nowhere.
"""

from __future__ import annotations

import math

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.order.policies import PLACEMENT_RETRY, refusal, run_activity
from workflows.order.reroute import open_at
from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, FulfillmentType
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import (
        FindSourcesInput,
        FindSourcesResult,
        GetLocationInput,
        SkuQty,
    )
    from workflows.contracts.journeys import ActionResult, ShippingAddressInput
    from workflows.order.state import Fulfillment

# Runs started before an address change re-sourced every pending shipment
# (a split's too) replay with the one-fulfillment change.
ADDRESS_PER_SHIPMENT_PATCH = "address-per-shipment"


async def change_address(
    journey: OrderJourney, request: ShippingAddressInput, step: str
) -> ActionResult:
    """Each pending fulfillment, in turn, moves to the best location for its
    lines from the new point when that is not where it is; picked ones keep
    going. One `address_changed` event says what moved (or could not)."""
    journey.order.address = request.address
    who = f" by {request.actor}" if request.actor else ""
    pending = [f for f in journey.open_fulfillments() if f.status == FulfillmentStatus.PENDING]
    moves: list[Fulfillment] = []
    words: list[str] = []
    for old in pending:
        best = await best_location(journey, old)
        if best is None:
            continue
        moved = _moved(journey, old, best)
        reason = await open_at(journey, old, moved, PLACEMENT_RETRY)
        if reason:
            words.append(
                f"{old.fulfillment_id} still ships from {old.location_id}"
                f" ({best} could not hold it: {reason})"
            )
            continue
        journey.fulfillments.append(moved)
        await journey.release(old)
        old.status = FulfillmentStatus.REROUTED
        moves += [old, moved]
        words.append(
            f"{old.fulfillment_id} at {old.location_id} moved to {best} as {moved.fulfillment_id}"
        )
    open_now = journey.open_fulfillments()
    if not words:
        words.append(f"ships from {', '.join(f.location_id for f in open_now)}")
    journey.status = journey.live_status()
    await journey.record(
        step, "address_changed", f"shipping address changed{who}; {'; '.join(words)}", moves
    )
    return journey.action_result(moves[1] if moves else (open_now[0] if open_now else None))


def _moved(journey: OrderJourney, old: Fulfillment, location_id: str) -> Fulfillment:
    """The pending fulfillment that takes `old`'s lines at `location_id`."""
    return Fulfillment(
        order_id=journey.order.order_id,
        number=len(journey.fulfillments) + 1,
        type=journey.fulfillment_type,
        location_id=location_id,
        lines=list(old.lines),
        status=FulfillmentStatus.PENDING,
        tried=[*old.tried, old.location_id],
    )


async def change_address_of_one(
    journey: OrderJourney, request: ShippingAddressInput, step: str
) -> ActionResult:
    """Before patch address-per-shipment: the order's one open fulfillment
    moves only when sourcing for the new point ranks another location first;
    a split keeps its locations."""
    journey.order.address = request.address
    open_now = journey.open_fulfillments()
    who = f" by {request.actor}" if request.actor else ""
    best = await best_location(journey, open_now[0]) if len(open_now) == 1 else None
    if best is None or best == open_now[0].location_id:
        where = ", ".join(f.location_id for f in open_now)
        await journey.record(
            step, "address_changed", f"shipping address changed{who}; ships from {where}", []
        )
        return journey.action_result(open_now[0] if open_now else None)
    old = open_now[0]
    number = len(journey.fulfillments) + 1
    try:
        reservation_id = await journey.hold(number, best, old.lines, PLACEMENT_RETRY)
    except ActivityError as error:
        reason = refusal(error)[0]
        await journey.record(
            step,
            "address_changed",
            f"shipping address changed{who}; still ships from {old.location_id}"
            f" ({best} could not hold it: {reason})",
            [],
        )
        return journey.action_result(old)
    moved = Fulfillment(
        order_id=journey.order.order_id,
        number=number,
        type=journey.fulfillment_type,
        location_id=best,
        lines=list(old.lines),
        reservation_id=reservation_id,
        status=FulfillmentStatus.PENDING,
        tried=[*old.tried, old.location_id],
    )
    journey.fulfillments.append(moved)
    await journey.release(old)
    old.status = FulfillmentStatus.REROUTED
    await journey.record(
        step,
        "address_changed",
        f"shipping address changed{who}; {old.fulfillment_id} at {old.location_id}"
        f" moved to {best} as {moved.fulfillment_id}",
        [old, moved],
    )
    return journey.action_result(moved)


async def best_location(journey: OrderJourney, fulfillment: Fulfillment) -> str | None:
    """The best single location for `fulfillment`'s lines from the new
    point: the one sourcing ranks first, unless the fulfillment's own
    location is at least as near (sourcing does not see the stock this
    order holds there). None when there is nothing better or no answer."""
    address = journey.order.address
    assert address is not None
    current = fulfillment.location_id
    try:
        sources: FindSourcesResult = await run_activity(
            InventoryActivities.find_sources,
            FindSourcesInput(
                lines=[SkuQty(line.sku, line.quantity) for line in fulfillment.lines],
                lat=address.lat,
                lon=address.lon,
                fulfillment_type=FulfillmentType.SHIP,
                channel=journey.order.channel,
                max_locations=1,
                # Its own stock is held: sourcing would not count it.
                exclude_location_ids=[],
            ),
            retry=PLACEMENT_RETRY,
        )
    except ActivityError as error:
        workflow.logger.warning("no sourcing for the new address: %s", refusal(error)[0])
        return None
    best = next((loc for loc in sources.location_ids if loc != current), None)
    if best is None:
        return None
    try:
        here, there = [
            await run_activity(
                InventoryActivities.get_location,
                GetLocationInput(location_id=location_id),
                retry=PLACEMENT_RETRY,
            )
            for location_id in (current, best)
        ]
    except ActivityError as error:
        workflow.logger.warning("no locations to compare: %s", refusal(error)[0])
        return None
    point = (address.lat, address.lon)
    if distance_km(point, (here.lat, here.lon)) <= distance_km(point, (there.lat, there.lon)):
        return None
    return str(best)


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine), as sourcing ranks by."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0088 * math.asin(math.sqrt(h))
