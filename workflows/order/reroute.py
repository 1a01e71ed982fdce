"""Store work that moves an order's lines: a pick (its shortfall goes on) and a
reject. What a location cannot do goes to the next location that can take it,
as a new fulfillment, or is cancelled when none can.

Steps of the order journey (see steps.py), run by the update handlers under
the journey's lock after their checks (updates.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

from workflows.order.children import hold_by_child
from workflows.order.policies import PERSISTENT_RETRY, refusal, run_activity
from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, FulfillmentType, TimelineEventKind
    from services.common.together import side_by_side
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import (
        FindSourcesInput,
        FindSourcesResult,
        GetLocationInput,
        LocationInfo,
        SkuQty,
    )
    from workflows.contracts.journeys import (
        ActionResult,
        CancelInput,
        LineInput,
        PickInput,
        RejectInput,
        shipment_workflow_id,
    )
    from workflows.order.state import Fulfillment

# Runs started before a short pick's remainder was rerouted replay without it.
REROUTE_SHORT_PICK_PATCH = "reroute-short-pick"
# Runs started before every wait had a deadline replay without the timers.
DEADLINES_PATCH = "fulfillment-deadlines"
# Runs started before the reroute limit reroute without one.
REROUTE_LIMIT_PATCH = "reroute-limit"
# Runs started before a split order's rerouted fulfillment had a child of its
# own (ShipmentWorkflow) hold it in the parent.
SPLIT_REROUTE_CHILD_PATCH = "split-reroute-child"
# The most locations one fulfillment's lines go through (the first included)
# when the order does not say (OrderInput.max_reroute_locations 0).
DEFAULT_REROUTE_LOCATIONS = 3


async def wait_with_deadlines(
    journey: OrderJourney,
    done: Callable[[], bool],
    deadlines: dict[FulfillmentStatus, tuple[timedelta, str]],
) -> None:
    """Waits until `done()` or the order ends, with no wait unbounded: a
    fulfillment that stays in a status of `deadlines` (status -> (limit, what
    did not happen)) for longer than its limit is rejected by the journey
    itself — rerouted to the next location, or cancelled with everything given
    back (reject_fulfillment). Meanwhile it finishes what handlers deferred."""
    since: dict[tuple[str, str], datetime] = {}

    def waiting() -> list[Fulfillment]:
        return [f for f in journey.open_fulfillments() if f.status in deadlines]

    def shape() -> tuple[tuple[str, str], ...]:
        return tuple((f.fulfillment_id, f.status or "") for f in journey.fulfillments)

    while not (done() or journey.finished):
        if journey.has_leftovers:
            await journey.finish_leftovers()
            continue
        now = workflow.now()
        due: list[tuple[datetime, Fulfillment]] = []
        for fulfillment in waiting():
            assert fulfillment.status is not None
            started = since.setdefault((fulfillment.fulfillment_id, fulfillment.status), now)
            due.append((started + deadlines[fulfillment.status][0], fulfillment))
        late = [f for at, f in due if at <= now]
        if late:
            async with journey.lock:
                for fulfillment in late:
                    status = fulfillment.status
                    if journey.finished or not fulfillment.is_open or status not in deadlines:
                        continue
                    limit, what = deadlines[status]
                    hours = limit.total_seconds() / 3600
                    await reject_fulfillment(
                        journey,
                        fulfillment,
                        RejectInput(
                            fulfillment.fulfillment_id,
                            reason=f"{what} within {hours:g} hours",
                            actor="deadline",
                        ),
                    )
            continue
        before = shape()
        timeout = min((at for at, _ in due), default=None)
        try:
            await workflow.wait_condition(
                lambda before=before: (  # type: ignore[misc]
                    done() or journey.finished or journey.has_leftovers or shape() != before
                ),
                timeout=None if timeout is None else timeout - now,
            )
        except TimeoutError:
            pass


async def take_pick(
    journey: OrderJourney,
    fulfillment: Fulfillment,
    request: PickInput,
    status: FulfillmentStatus,
    event_type: str,
    pickup_code: str = "",
    alongside: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Records a checked pick; what was not on the shelf goes to another
    location as a new fulfillment, or is cancelled when none has it.
    `alongside`: a step started once the pick is applied, run side by side
    with its records (RECORDS_SIDE_BY_SIDE_PATCH)."""
    picked = {line.sku: line.quantity for line in request.lines}
    # A sku left out was not found on the shelf.
    fulfillment.picked = {
        line.sku: picked.get(line.sku, 0)
        for line in fulfillment.lines
        if picked.get(line.sku, 0) > 0
    }
    fulfillment.status = status
    fulfillment.pickup_code = pickup_code
    # Picked: the pick is no longer late (the curbside clock may say so again).
    fulfillment.overdue = False

    async def records() -> None:
        rest, moved = await _reroute_unpicked(journey, fulfillment)
        journey.status = journey.live_status()
        await journey.record(
            fulfillment.step("picked"),
            event_type,
            _pick_detail(fulfillment, request.actor) + rest,
            [fulfillment, *([moved] if moved else [])],
        )
        if moved is not None:
            await _tell_rerouted(journey, fulfillment, moved)

    if alongside is None:
        await records()
    else:
        await side_by_side(records(), alongside())


def _pick_detail(fulfillment: Fulfillment, actor: str) -> str:
    short = [
        f"{line.sku} {fulfillment.picked.get(line.sku, 0)}/{line.quantity}"
        for line in fulfillment.lines
        if fulfillment.picked.get(line.sku, 0) < line.quantity
    ]
    who = f"{fulfillment.fulfillment_id} " if fulfillment.number > 1 else ""
    detail = f"{who}picked by {actor or 'store'}"
    return f"{detail}; short: {', '.join(short)}" if short else detail


async def reject_fulfillment(
    journey: OrderJourney, fulfillment: Fulfillment, request: RejectInput
) -> ActionResult:
    """The store cannot fulfill it: its lines go to the next location, or are
    cancelled (and the order with them when nothing else is left)."""
    why = (
        f"{fulfillment.fulfillment_id} rejected at {fulfillment.location_id}"
        f" by {request.actor or 'store'}: {request.reason or 'no reason given'}"
    )
    moved = await _reroute(journey, fulfillment, fulfillment.lines)
    await journey.release(fulfillment)
    fulfillment.picked = {}
    if moved is None:
        fulfillment.status = FulfillmentStatus.CANCELLED
        await _lines_cancelled(journey, fulfillment, f"{why}; no other location can take it")
        return journey.action_result(fulfillment)
    fulfillment.status = FulfillmentStatus.REROUTED
    journey.status = journey.live_status()
    await journey.record(
        fulfillment.step("rerouted"),
        "rerouted",
        f"{why}; rerouted to {moved.location_id} as {moved.fulfillment_id}",
        [fulfillment, moved],
    )
    await _tell_rerouted(journey, fulfillment, moved)
    return journey.action_result(fulfillment)


async def _lines_cancelled(journey: OrderJourney, fulfillment: Fulfillment, detail: str) -> None:
    """`fulfillment` was cancelled: the order goes on with the others, ends
    with what was delivered, or is cancelled when nothing is left."""
    if journey.open_fulfillments():
        journey.status = journey.live_status()
        await journey.record(
            fulfillment.step("cancelled"), "lines_cancelled", detail, [fulfillment]
        )
    elif any(f.delivered for f in journey.fulfillments):
        await journey.finish(detail, None)
    else:
        await journey.cancel(CancelInput(reason=detail))


async def _alternatives(
    journey: OrderJourney, lines: list[LineInput], exclude: list[str]
) -> list[str]:
    """Locations that could take `lines`, best first: for a pickup the
    pickup stores nearest the one the customer chose, for a shipment the
    shipping rule from the address; never one in `exclude`."""
    order = journey.order
    if journey.fulfillment_type == FulfillmentType.PICKUP:
        try:
            origin: LocationInfo = await run_activity(
                InventoryActivities.get_location,
                GetLocationInput(location_id=order.pickup_location_id),
            )
        except ActivityError as error:
            workflow.logger.warning("no origin to reroute from: %s", refusal(error)[0])
            return []
        lat, lon = origin.lat, origin.lon
    elif order.address is not None:
        lat, lon = order.address.lat, order.address.lon
    else:
        return []
    try:
        sources: FindSourcesResult = await run_activity(
            InventoryActivities.find_sources,
            FindSourcesInput(
                lines=[SkuQty(line.sku, line.quantity) for line in lines],
                lat=lat,
                lon=lon,
                fulfillment_type=journey.fulfillment_type,
                channel=order.channel,
                max_locations=1,
                exclude_location_ids=list(exclude),
            ),
        )
    except ActivityError as error:
        workflow.logger.warning("no sources to reroute to: %s", refusal(error)[0])
        return []
    return [location for location in sources.location_ids if location not in exclude]


async def _reroute(
    journey: OrderJourney, origin: Fulfillment, lines: list[LineInput]
) -> Fulfillment | None:
    """Holds `lines` at the best location not yet tried and opens a pending
    fulfillment there; None when none can take them. The origin's own hold
    is the caller's to settle — after this one is in place, so a failure in
    between leaves a hold the saga releases, never a line held nowhere."""
    tried = [*origin.tried, origin.location_id]
    limit = journey.order.max_reroute_locations or DEFAULT_REROUTE_LOCATIONS
    if len(tried) >= limit and workflow.patched(REROUTE_LIMIT_PATCH):
        workflow.logger.info("%s: %d locations tried, no reroute", origin.fulfillment_id, limit)
        return None
    number = len(journey.fulfillments) + 1
    for location_id in await _alternatives(journey, lines, tried):
        moved = Fulfillment(
            order_id=journey.order.order_id,
            number=number,
            type=journey.fulfillment_type,
            location_id=location_id,
            lines=[LineInput(line.sku, line.quantity, line.unit_price_minor) for line in lines],
            status=FulfillmentStatus.PENDING,
            tried=tried,
        )
        if not await open_at(journey, origin, moved, PERSISTENT_RETRY):
            journey.fulfillments.append(moved)
            return moved
        # Someone took the stock since sourcing ranked it: try the next.
    return None


async def open_at(
    journey: OrderJourney, origin: Fulfillment, moved: Fulfillment, retry: RetryPolicy
) -> str:
    """Holds `moved`'s lines at its location, for `origin`'s lines that move
    there: a split order's by a child of its own, as at placement (patch
    split-reroute-child; runs started before it hold in the parent), any
    other's by the parent itself. The refusal's reason, "" when held."""
    if origin.workflow_id and workflow.patched(SPLIT_REROUTE_CHILD_PATCH):
        moved.workflow_id = shipment_workflow_id(moved.order_id, moved.number)
        reason = (await hold_by_child(journey, moved)).reason
    else:
        try:
            moved.reservation_id = await journey.hold(
                moved.number, moved.location_id, moved.lines, retry
            )
            reason = ""
        except ActivityError as error:
            reason = refusal(error)[0]
    if reason:
        workflow.logger.warning("%s refused: %s", moved.location_id, reason)
    return reason


async def _tell_rerouted(journey: OrderJourney, origin: Fulfillment, moved: Fulfillment) -> None:
    """A pickup moved to another store: the customer is told where (a
    message that cannot be sent never undoes the reroute)."""
    if journey.fulfillment_type != FulfillmentType.PICKUP:
        return
    try:
        await journey.record_milestone(
            TimelineEventKind.PICKUP_REROUTED,
            f"pickup moved from {origin.location_id} to {moved.location_id}",
            step=moved.step("rerouted"),
            from_location=origin.location_id,
            to_location=moved.location_id,
            fulfillment_id=moved.fulfillment_id,
        )
    except ActivityError as error:
        workflow.logger.warning("reroute not told: %s", refusal(error)[0])


async def _reroute_unpicked(
    journey: OrderJourney, fulfillment: Fulfillment
) -> tuple[str, Fulfillment | None]:
    """A short pick's remainder: rerouted, or cancelled (what was picked is
    all that will be captured). Returns the words for the pick's event."""
    rest = fulfillment.unpicked()
    if not rest or not workflow.patched(REROUTE_SHORT_PICK_PATCH):
        return "", None
    names = ", ".join(f"{line.sku} x{line.quantity}" for line in rest)
    moved = await _reroute(journey, fulfillment, rest)
    if moved is None:
        return f"; the rest ({names}) cancelled: no other location has it", None
    return (
        f"; the rest ({names}) rerouted to {moved.location_id} as {moved.fulfillment_id}",
        moved,
    )
