"""Ship-from-store on the time-skipping server: the real workflow, fake services."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.activities import SkuQty
from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    ERROR_INVALID_STATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    CancelInput,
    LineInput,
    PickInput,
    ShipInput,
)


async def test_lost_race_at_first_source_ships_from_the_second(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=["store-near", "store-far"], out_of_stock_at={"store-near"})
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        [sourcing] = fakes.called("find_sources")
        assert (sourcing.fulfillment_type, sourcing.lat, sourcing.max_locations) == ("ship", 40, 3)
        assert [r.location_id for r in fakes.called("reserve")] == ["store-near", "store-far"]
        placed = fakes.order_progress[0]
        assert placed.status == "placed"
        assert (placed.fulfillments[0].type, placed.fulfillments[0].location_id) == (
            "ship",
            "store-far",
        )

        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        assert picked == ActionResult("in_fulfillment", f"{oid}-F1", "picking")
        shipped = await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z999"), result_type=ActionResult
        )
        assert shipped == ActionResult("shipped", f"{oid}-F1", "shipped")
        final = await handle.result()

    assert final["status"] == "shipped"
    assert [c.amount_minor for c in fakes.called("capture")] == [1300]
    [commit] = fakes.called("commit")
    assert commit.reservation_id == f"order-{oid}/reserve/store-far"
    assert commit.lines == [SkuQty("SKU-A", 2), SkuQty("SKU-B", 1)]
    last = fakes.order_progress[-1].fulfillments[0]
    assert (last.status, last.carrier, last.tracking_number) == ("shipped", "UPS", "1Z999")
    assert [p.status for p in fakes.order_progress] == ["placed", "in_fulfillment", "shipped"]


async def test_no_source_rejects_the_order(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=[])
    async with running_worker(env.client, fakes) as queue:
        placement, handle = await place(
            env.client, SHIP_FROM_STORE_WORKFLOW, order(fulfillment_type="ship"), queue
        )
        await handle.result()
    assert (placement.accepted, placement.reason) == (False, "NO_SOURCE")
    assert fakes.called("reserve") == [] and fakes.called("authorize") == []


async def test_every_source_out_of_stock_rejects_with_insufficient_stock(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(sources=["s1", "s2"], out_of_stock_at={"s1", "s2"})
    async with running_worker(env.client, fakes) as queue:
        placement, handle = await place(
            env.client, SHIP_FROM_STORE_WORKFLOW, order(fulfillment_type="ship"), queue
        )
        await handle.result()
    assert (placement.accepted, placement.reason) == (False, "INSUFFICIENT_STOCK")
    assert fakes.called("authorize") == [] and fakes.active_reservations == {}


async def test_ship_before_pick_is_an_invalid_state(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=["store-1"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z1"))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_STATE
        assert fakes.called("capture") == [] and fakes.called("commit") == []

        # Still cancellable after the pick, until shipped.
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        cancelled = await handle.execute_update(
            CANCEL_UPDATE, CancelInput("address problem"), result_type=ActionResult
        )
        await handle.result()
    assert cancelled.order_status == "cancelled"
    assert len(fakes.called("release")) == 1 and len(fakes.called("void")) == 1
