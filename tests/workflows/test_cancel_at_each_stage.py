"""Cancel at any stage before handover or shipment (issue 11): the order's
cancel compensates in reverse at each stage - placed, picking, ready for
pickup (partially shipped: test_split_shipments) - and is refused, changing
nothing, once the goods are handed over or shipped."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    CANCEL_UPDATE,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    CancelInput,
    HandoverInput,
    LineInput,
    PickInput,
    ShipInput,
)

ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


def _pickup_code(fakes: FakeServices) -> str:
    ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
    return ready[-1].fulfillments[0].pickup_code


@pytest.mark.parametrize(
    ("workflow_name", "fulfillment_type"),
    [(BOPIS_WORKFLOW, "pickup"), (SHIP_FROM_STORE_WORKFLOW, "ship")],
)
async def test_a_picked_order_cancelled_releases_and_voids_in_reverse(
    env: WorkflowEnvironment, workflow_name: str, fulfillment_type: str
) -> None:
    """BOPIS picked = ready for pickup; ship-from-store picked = picking."""
    fakes = FakeServices(sources=["wh-1"]) if fulfillment_type == "ship" else FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type=fulfillment_type)
        oid = wanted.order_id
        _, handle = await place(env.client, workflow_name, wanted, queue)
        picked = await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES), result_type=ActionResult
        )
        assert picked.fulfillment_status in ("ready_for_pickup", "picking")
        result = await handle.execute_update(
            CANCEL_UPDATE, CancelInput("customer called", "agent"), result_type=ActionResult
        )
        final = await handle.result()

    assert result.order_status == "cancelled" and final["status"] == "cancelled"
    assert fakes.active_reservations == {}
    assert [p.status for p in fakes.payments.values()] == ["voided"]
    assert fakes.called("capture") == []
    # In reverse: each compensation undoes the forward steps last first.
    undo = {"reserve": "release", "authorize": "void"}
    forward = [undo[name] for name, _ in fakes.calls if name in undo]
    compensations = [name for name, _ in fakes.calls if name in undo.values()]
    assert compensations == forward[::-1], (forward, compensations)
    assert "customer called" in fakes.order_progress[-1].event_detail


@pytest.mark.parametrize(
    ("workflow_name", "fulfillment_type"),
    [(BOPIS_WORKFLOW, "pickup"), (SHIP_FROM_STORE_WORKFLOW, "ship")],
)
async def test_a_cancel_after_handover_or_shipment_is_refused_and_changes_nothing(
    env: WorkflowEnvironment, workflow_name: str, fulfillment_type: str
) -> None:
    fakes = FakeServices(sources=["wh-1"]) if fulfillment_type == "ship" else FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type=fulfillment_type)
        oid = wanted.order_id
        _, handle = await place(env.client, workflow_name, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        if fulfillment_type == "pickup":
            await handle.execute_update(
                HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", _pickup_code(fakes), "amy")
            )
        else:
            await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z9"))
        captured = [p.captured_minor for p in fakes.payments.values()]
        progress = len(fakes.order_progress)
        # Handed over or shipped, the journey's run is over (delivery is its own
        # workflow): nothing takes the cancel, and the orders service answers 409.
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await handle.execute_update(CANCEL_UPDATE, CancelInput("too late", "customer"))

    assert [p.captured_minor for p in fakes.payments.values()] == captured
    assert captured and all(amount > 0 for amount in captured)
    assert fakes.called("void") == [] and fakes.called("release") == []
    assert len(fakes.order_progress) == progress
