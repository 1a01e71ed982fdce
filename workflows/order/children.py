"""The parent's side of a split shipment's children (ShipmentWorkflow,
shipment.py): starting the child that holds one fulfillment's stock, and
taking its word (the hold, or the refusal).

Used by placement (ship_from_store.py, every child at once) and by whatever
opens a split order's fulfillment later, one at a time: a reroute
(reroute.py) and an address change (addresses.py).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from workflows.contracts.journeys import ShipmentHeld, ShipmentInput
    from workflows.order.shipment import ShipmentWorkflow
    from workflows.order.state import Fulfillment


async def start_shipment(
    journey: OrderJourney, fulfillment: Fulfillment, *, compensate: bool, persistent: bool = False
) -> None:
    """Starts the child holding `fulfillment` (its id is the fulfillment's
    workflow_id). With `compensate`, the hold's release (through the child) goes
    on the saga first; `persistent`: nobody waits on the hold (ShipmentInput)."""
    order = journey.order
    if compensate:
        journey.saga.push(fulfillment.step("reservation"), journey.settle_child_later(fulfillment))
    journey.children[fulfillment.workflow_id] = await workflow.start_child_workflow(
        ShipmentWorkflow.run,
        ShipmentInput(
            order_id=order.order_id,
            number=fulfillment.number,
            location_id=fulfillment.location_id,
            lines=fulfillment.lines,
            channel=order.channel,
            reservation_id=fulfillment.reservation_id,
            persistent=persistent,
        ),
        id=fulfillment.workflow_id,
        # docs/architecture.md: a parent that goes away cancels its
        # children, and a cancelled child releases its hold.
        parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
    )


def take_word(journey: OrderJourney, fulfillment: Fulfillment) -> ShipmentHeld:
    """What `fulfillment`'s child told (it has told): its reservation becomes
    the fulfillment's, or, refused, nothing is held and nothing is to release."""
    held = journey.held[fulfillment.number]
    if held.reason:
        # Nothing held there: its child has ended, nothing to release.
        fulfillment.settled = True
        journey.saga.drop(fulfillment.step("reservation"))
    else:
        fulfillment.reservation_id = held.reservation_id
    return held


async def hold_by_child(journey: OrderJourney, fulfillment: Fulfillment) -> ShipmentHeld:
    """A split order's fulfillment opened after placement: its own child holds
    its lines at its location (key `order-<id>/F<n>/reserve/<location>`) and
    the parent waits for its word. A number tried before at another location
    (that child refused and ended) starts its child again under the same id."""
    number, workflow_id = fulfillment.number, fulfillment.workflow_id
    earlier = journey.children.get(workflow_id)
    if earlier is not None:
        await earlier
    journey.held.pop(number, None)
    await start_shipment(journey, fulfillment, compensate=True, persistent=True)
    await workflow.wait_condition(lambda: number in journey.held)
    return take_word(journey, fulfillment)
