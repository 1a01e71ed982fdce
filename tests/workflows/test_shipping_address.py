"""A new shipping address before anything is picked (issue 11), on the
time-skipping server: sourcing for the new point; the order's one fulfillment
moves only when another location is now nearer (held there first, then
released at the old one); after a pick the address is refused."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, order, place, running_worker
from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    ERROR_INVALID_STATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    SHIPPING_ADDRESS_UPDATE,
    ActionResult,
    AddressInput,
    CancelInput,
    LineInput,
    PickInput,
    ShipInput,
    ShippingAddressInput,
)

ENDS_WITHIN = 60
# The order's address is at (40, -75): OLD is next to it, NEW far away.
OLD, NEW = "store-old", "store-new"
MOVED = AddressInput("9 Far Rd", "Farville", "99999", "US", 47.6, -122.3)
ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


def fakes_for_move(**changes: Any) -> FakeServices:
    fakes = FakeServices(
        sources=[OLD, NEW],
        locations={OLD: (40.01, -75.0), NEW: (47.61, -122.3)},
        **changes,
    )

    async def from_the_new_point(request: Any) -> None:
        # Sourcing ranks by the point it is asked for.
        if request.lat > 45:
            fakes.sources = [NEW, OLD]

    fakes.on("find_sources", from_the_new_point)
    fakes.on("find_sources", from_the_new_point)
    return fakes


async def change(handle: Any, address: AddressInput = MOVED) -> ActionResult:
    result: ActionResult = await handle.execute_update(
        SHIPPING_ADDRESS_UPDATE,
        ShippingAddressInput(address, actor="cus"),
        result_type=ActionResult,
    )
    return result


async def test_a_nearer_location_for_the_new_address_takes_the_order(
    env: WorkflowEnvironment,
) -> None:
    fakes = fakes_for_move()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted
        moved = await change(handle)
        assert moved == ActionResult("placed", f"{oid}-F2", "pending")
        # Held at NEW first, then released at OLD.
        assert [r.location_id for r in fakes.called("reserve")] == [OLD, NEW]
        assert [r.reservation_id for r in fakes.called("release")] == [f"order-{oid}/reserve/{OLD}"]
        record = fakes.order_progress[-1]
        assert record.event_type == "address_changed"
        assert [(f.fulfillment_id, f.location_id, f.status) for f in record.fulfillments] == [
            (f"{oid}-F1", OLD, "rerouted"),
            (f"{oid}-F2", NEW, "pending"),
        ]
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F2", ALL_LINES))
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F2", "UPS", "1Z"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_new_address_moves_the_order_to_a_nearer_location")
    assert final["status"] == "shipped"
    assert [c.amount_minor for c in fakes.called("capture")] == [1300]
    assert fakes.active_reservations == {}


async def test_the_same_best_location_changes_nothing_but_the_address(
    env: WorkflowEnvironment,
) -> None:
    fakes = fakes_for_move()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        nearby = AddressInput("2 Main St", "Springfield", "12345", "US", 40.02, -75.0)
        kept = await change(handle, nearby)
        assert kept == ActionResult("placed", f"{oid}-F1", "pending")
        assert [r.location_id for r in fakes.called("reserve")] == [OLD]
        assert fakes.called("release") == []
        assert fakes.order_progress[-1].event_type == "address_changed"
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)


async def test_sourcing_that_still_ranks_its_own_store_first_moves_nothing(
    env: WorkflowEnvironment,
) -> None:
    """Sourcing does not see the stock the order holds: OLD may be missing from
    its answer; OLD still nearer than what it offers keeps the order."""
    fakes = FakeServices(sources=[OLD], locations={OLD: (40.01, -75.0), NEW: (47.61, -122.3)})

    async def only_new(_: Any) -> None:
        fakes.sources = [NEW]

    fakes.on("find_sources", only_new)
    fakes.on("find_sources", only_new)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [NEW]
        nearby = AddressInput("2 Main St", "Springfield", "12345", "US", 40.02, -75.0)
        kept = await change(handle, nearby)
        assert kept.fulfillment_id == f"{wanted.order_id}-F1"
        assert fakes.called("release") == []
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)


async def test_a_nearer_location_that_cannot_hold_leaves_the_order_where_it_is(
    env: WorkflowEnvironment,
) -> None:
    fakes = fakes_for_move(out_of_stock_at={NEW})
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        kept = await change(handle)
        assert kept == ActionResult("placed", f"{oid}-F1", "pending")
        assert fakes.called("release") == []
        assert "could not hold" in fakes.order_progress[-1].event_detail
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert fakes.active_reservations == {}


async def test_after_a_pick_the_address_is_refused_and_nothing_changes(
    env: WorkflowEnvironment,
) -> None:
    fakes = fakes_for_move()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        calls = len(fakes.calls)
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await change(handle)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_STATE
        assert len(fakes.calls) == calls
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)


async def test_two_changes_at_once_leave_one_hold(env: WorkflowEnvironment) -> None:
    fakes = fakes_for_move()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        results = await asyncio.gather(change(handle), change(handle), return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)], results
        assert len(fakes.active_reservations) == 1
        [held] = fakes.active_reservations.values()
        assert held.location_id == NEW
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert fakes.active_reservations == {}


async def test_after_a_short_pick_the_rerouted_rest_still_moves(env: WorkflowEnvironment) -> None:
    """A short pick split the order: the picked part keeps going, the pending
    remainder is sourced again for the new address (the parent holds it: the
    order was not split at placement)."""
    fakes = fakes_for_move()
    third = "store-third"
    fakes.locations[third] = (40.3, -75.0)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [third]
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2)]))
        fakes.sources = [NEW, third]
        moved = await change(handle)
        assert moved == ActionResult("in_fulfillment", f"{oid}-F3", "pending")
        # Only the pending remainder (SKU-B at store-third) was sourced again.
        [again] = [r for r in fakes.called("find_sources")][-1:]
        assert [(x.sku, x.quantity) for x in again.lines] == [("SKU-B", 1)]
        assert f"order-{oid}/reserve/{OLD}" in fakes.active_reservations
        assert f"order-{oid}/F3/reserve/{NEW}" in fakes.active_reservations
        assert f"order-{oid}/F2/reserve/{third}" not in fakes.active_reservations
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z1"))
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F3", [LineInput("SKU-B", 1)]))
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F3", "UPS", "1Z3"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "shipped"
    assert sum(c.amount_minor for c in fakes.called("capture")) == 1300
    assert fakes.active_reservations == {}
