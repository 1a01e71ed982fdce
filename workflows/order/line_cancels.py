"""Line cancels (issue 11): units of an order's lines not yet handed over or
shipped are cancelled — their stock goes back, their share of the money is
no longer taken, and the customer is told.

The money: the order's authorization stays as it is and the final capture
takes less (OrderState.kept_total_minor: the total less each cancelled
unit's paid share, which the orders service priced with the one pricing
function and the update carries as `paid_upto`); the final capture releases
what is left of the authorization (a card's remainder let go, a gift card's
hold given back). Cancelling every unit left is the order's cancel
(OrderJourney.cancel): stock released, payments voided — or, when part was
delivered, that part captured.

Deterministic code run inside the order workflows (BOPIS, ship-from-store);
the update and its validator are in updates.py.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.order.policies import run_activity
from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, TimelineEventKind
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import ReleaseReservationLinesInput, SkuQty
    from workflows.contracts.journeys import (
        ERROR_INVALID_CANCEL,
        ERROR_INVALID_STATE,
        ActionResult,
        CancelInput,
        CancelLinesInput,
        LineInput,
    )
    from workflows.contracts.messages import lines_text
    from workflows.order import rules
    from workflows.order.state import Fulfillment


def still_ordered(journey: OrderJourney) -> dict[str, int]:
    """Units per sku of the order less those cancelled before."""
    ordered: dict[str, int] = {}
    for line in journey.order.lines:
        ordered[line.sku] = ordered.get(line.sku, 0) + line.quantity
    return {sku: units - journey.cancelled.get(sku, 0) for sku, units in ordered.items()}


def cancellable(journey: OrderJourney) -> dict[str, int]:
    """Units per sku in fulfillments not yet handed over or shipped."""
    units: dict[str, int] = {}
    for fulfillment in journey.open_fulfillments():
        for sku, count in fulfillment.cancellable().items():
            units[sku] = units.get(sku, 0) + count
    return units


def check_cancel_lines(journey: OrderJourney, request: CancelLinesInput) -> None:
    """INVALID_STATE (409) when the order or those units can no longer be
    cancelled; INVALID_LINE_CANCEL (422) for a sku the order lacks or more
    units than it has left."""
    refused = rules.cancel_refusal(journey.fulfillment_type, journey.status)
    if refused is not None:
        raise ApplicationError(
            refused.message,
            {"status": refused.status},
            type=ERROR_INVALID_STATE,
            non_retryable=True,
        )
    problem = rules.line_cancel_problem(still_ordered(journey), cancellable(journey), request.lines)
    if problem is None:
        return
    raise ApplicationError(
        problem.message,
        type=ERROR_INVALID_STATE if problem.conflict else ERROR_INVALID_CANCEL,
        non_retryable=True,
    )


def _allocate(
    journey: OrderJourney, request: CancelLinesInput
) -> list[tuple[Fulfillment, dict[str, int]]]:
    """Which open fulfillment gives up how many units of each sku: the latest
    first (a reroute's or a short pick's remainder before the original)."""
    wanted = {line.sku: line.quantity for line in request.lines}
    taken: list[tuple[Fulfillment, dict[str, int]]] = []
    for fulfillment in reversed(journey.open_fulfillments()):
        mine: dict[str, int] = {}
        for sku, units in fulfillment.cancellable().items():
            take = min(units, wanted.get(sku, 0))
            if take > 0:
                mine[sku] = take
                wanted[sku] -= take
        if mine:
            taken.append((fulfillment, mine))
    return taken


def _given_back(journey: OrderJourney, request: CancelLinesInput) -> tuple[int, int]:
    """(paid share, listed value) of the units cancelled, never more than is left."""
    prices = {line.sku: line.unit_price_minor for line in journey.order.lines}
    paid = listed = 0
    for line in request.lines:
        already = journey.cancelled.get(line.sku, 0)
        share = rules.cancelled_share(line.paid_upto, already, line.quantity)
        worth = prices.get(line.sku, 0) * line.quantity
        paid += journey.priced_share(worth) if share is None else share
        listed += worth
    if not journey.order.total_minor:
        # Priced before pricing: the unit prices are what is captured.
        return listed, listed
    return min(paid, journey.kept_total_minor), listed


def _shrink(fulfillment: Fulfillment, taking: dict[str, int]) -> None:
    """The fulfillment's lines (and what was picked) less the cancelled units;
    new line objects, since a first fulfillment shares the order's."""
    fulfillment.lines = [
        LineInput(line.sku, line.quantity - taking.get(line.sku, 0), line.unit_price_minor)
        for line in fulfillment.lines
        if line.quantity > taking.get(line.sku, 0)
    ]
    for sku, units in taking.items():
        if sku in fulfillment.picked:
            left = fulfillment.picked[sku] - units
            if left > 0:
                fulfillment.picked[sku] = left
            else:
                del fulfillment.picked[sku]


async def _give_back_stock(
    journey: OrderJourney, fulfillment: Fulfillment, taking: dict[str, int], step: str
) -> None:
    """Releases the units from the fulfillment's hold (a split child's hold
    too: the parent knows its reservation once the child holds it)."""
    if fulfillment.workflow_id:
        await workflow.wait_condition(lambda: bool(fulfillment.reservation_id))
    releasing = ReleaseReservationLinesInput(
        reservation_id=fulfillment.reservation_id,
        lines=[SkuQty(sku, units) for sku, units in sorted(taking.items())],
        idempotency_key=journey.key(f"{step}/{fulfillment.fulfillment_id}"),
    )
    await journey.must(
        f"release cancelled lines of {fulfillment.fulfillment_id}",
        lambda: run_activity(InventoryActivities.release_reservation_lines, releasing),
    )


async def cancel_lines(journey: OrderJourney, request: CancelLinesInput) -> ActionResult:
    """Cancels the units (checked: check_cancel_lines, under the journey's lock)."""
    info = workflow.current_update_info()
    step = f"lines_cancelled/{info.id if info else len(journey.cancelled)}"
    who = f" by {request.actor}" if request.actor else ""
    reason = request.reason or "lines cancelled"
    paid, listed = _given_back(journey, request)
    cancelled_text = lines_text((line.sku, line.quantity) for line in request.lines)
    left = sum(cancellable(journey).values()) - sum(line.quantity for line in request.lines)
    for line in request.lines:
        journey.cancelled[line.sku] = journey.cancelled.get(line.sku, 0) + line.quantity
    journey.cancelled_minor += paid
    journey.cancelled_listed_minor += listed
    allocation = _allocate(journey, request)
    for fulfillment, taking in allocation:
        _shrink(fulfillment, taking)
    if left <= 0:
        # Nothing is left to hand over or ship: the order's own cancel.
        await journey.cancel(
            CancelInput(reason=f"{reason} ({cancelled_text})", actor=request.actor)
        )
        return journey.action_result()
    changed: list[Fulfillment] = []
    for fulfillment, taking in allocation:
        changed.append(fulfillment)
        if not fulfillment.cancellable():
            fulfillment.status = FulfillmentStatus.CANCELLED
            await journey.release(fulfillment)
        else:
            await _give_back_stock(journey, fulfillment, taking, step)
    if not journey.open_fulfillments():
        # What was left of them is delivered already: capture it, end the order.
        await journey.finish(f"the rest cancelled{who}: {reason}", None)
        return journey.action_result()
    journey.status = journey.live_status()
    await journey.record(
        step,
        "lines_cancelled",
        f"{cancelled_text} cancelled{who}: {reason}; {paid} given back",
        changed,
    )
    await journey.record_milestone(
        TimelineEventKind.ORDER_CANCELLED,
        f"lines cancelled: {cancelled_text}",
        paid,
        step=step,
        lines=cancelled_text,
        # Part of the order: the customer is told what, not that the order is gone.
        scope="lines",
    )
    return journey.action_result(changed[0] if changed else None)
