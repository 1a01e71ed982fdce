"""A new shipping address on a split shipment (issue 11), on the time-skipping
server: each fulfillment not yet picked is sourced again from the new point
and moves only when another location is now nearer — held there by a child
of its own first, then released through its old child; a picked one keeps
going. Once every open shipment is picked, or one has shipped, the address
is refused and nothing changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, place, running_worker
from tests.workflows.test_shipping_address import change
from tests.workflows.test_split_reroute import assert_settled, children, children_started
from tests.workflows.test_split_shipments import (
    FAR,
    NEAR,
    SHIPPING,
    SPLIT,
    TOTAL,
    captures,
    pick_all,
    ship,
    split_order,
)
from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    ERROR_INVALID_STATE,
    SHIP_FROM_STORE_WORKFLOW,
    ActionResult,
    AddressInput,
    CancelInput,
    LineInput,
    shipment_workflow_id,
)

ENDS_WITHIN = 60
# NEAR and FAR are by the order's address (40, -75); WEST by MOVED.
WEST = "store-west"
NEARBY = AddressInput("2 Main St", "Springfield", "12345", "US", 40.02, -75.0)


def split_fakes_by_point(**changes: Any) -> FakeServices:
    """Sourcing ranks by the point and the lines asked for: only NEAR has
    SKU-A; SKU-B is at FAR and at WEST, the nearer first."""
    fakes = FakeServices(
        sources=[],
        split=dict(SPLIT),
        locations={NEAR: (40.01, -75.0), FAR: (40.5, -75.0), WEST: (47.61, -122.3)},
        **changes,
    )

    async def ranked(request: Any) -> None:
        skus = {line.sku for line in request.lines}
        if request.max_locations > 1:
            fakes.sources = []  # placement: the split
        elif skus == {"SKU-A"}:
            fakes.sources = [NEAR]
        else:
            fakes.sources = [WEST, FAR] if request.lat > 45 else [FAR, WEST]

    for _ in range(8):
        fakes.on("find_sources", ranked)
    return fakes


def journey_calls(fakes: FakeServices) -> int:
    """Activity calls of the order's journey (not the shipped parcel's tracking)."""
    return len([name for name, _ in fakes.calls if name != "track_parcel"])


def sourced_skus(fakes: FakeServices) -> list[list[str]]:
    """The skus of each re-sourcing (placement's own left out)."""
    return [
        [line.sku for line in request.lines]
        for request in fakes.called("find_sources")
        if request.max_locations == 1
    ]


async def test_a_nearer_location_takes_the_unpicked_part_by_a_child_of_its_own(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes_by_point()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted
        moved = await change(handle)
        assert moved == ActionResult("placed", f"{oid}-F3", "pending")
        # Each fulfillment sourced again; only SKU-B has a nearer location.
        assert sourced_skus(fakes) == [["SKU-A"], ["SKU-B"]]
        assert await children_started(handle) == [shipment_workflow_id(oid, n) for n in (1, 2, 3)]
        holds = [(n, a.reservation_id) for n, a in fakes.calls if n in ("reserve", "release")]
        assert holds[2:] == [
            ("reserve", f"order-{oid}/F3/reserve/{WEST}"),
            ("release", f"order-{oid}/F2/reserve/{FAR}"),
        ]
        record = fakes.order_progress[-1]
        assert record.event_type == "address_changed"
        assert [(f.fulfillment_id, f.location_id, f.status) for f in record.fulfillments] == [
            (f"{oid}-F2", FAR, "rerouted"),
            (f"{oid}-F3", WEST, "pending"),
        ]
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await ship(handle, f"{oid}-F1")
        await pick_all(handle, f"{oid}-F3", [LineInput("SKU-B", 1)])
        await ship(handle, f"{oid}-F3", "1Z3")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))
        await keep_history(handle, "a_new_address_moves_a_split_part_to_a_child_of_its_own")

    assert final["status"] == "shipped"
    assert outcomes == ["committed", "released", "committed"]
    assert captures(fakes) == [(SHIPPING + 923, False), (TOTAL - SHIPPING - 923, True)]
    assert_settled(fakes, TOTAL)


async def test_the_same_best_locations_change_nothing_but_the_address(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes_by_point()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        kept = await change(handle, NEARBY)
        assert kept == ActionResult("placed", f"{oid}-F1", "pending")
        assert sourced_skus(fakes) == [["SKU-A"], ["SKU-B"]]
        assert sorted(r.location_id for r in fakes.called("reserve")) == sorted([NEAR, FAR])
        assert fakes.called("release") == []
        assert fakes.order_progress[-1].event_type == "address_changed"
        assert f"ships from {NEAR}, {FAR}" in fakes.order_progress[-1].event_detail
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        started = await children_started(handle)
    assert started == [shipment_workflow_id(oid, n) for n in (1, 2)]
    assert fakes.active_reservations == {}
    [payment] = fakes.payments.values()
    assert payment.status == "voided"


async def test_a_picked_part_keeps_going_and_the_unpicked_one_moves(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes_by_point()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        moved = await change(handle)
        assert moved == ActionResult("in_fulfillment", f"{oid}-F3", "pending")
        # F1 is picked: not sourced again, its hold stays.
        assert sourced_skus(fakes) == [["SKU-B"]]
        assert f"order-{oid}/reserve/{NEAR}" in fakes.active_reservations
        await ship(handle, f"{oid}-F1")
        await pick_all(handle, f"{oid}-F3", [LineInput("SKU-B", 1)])
        await ship(handle, f"{oid}-F3", "1Z3")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))
    assert final["status"] == "shipped"
    assert outcomes == ["committed", "released", "committed"]
    assert_settled(fakes, TOTAL)


async def test_a_nearer_location_that_cannot_hold_leaves_the_part_where_it_is(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes_by_point(out_of_stock_at={WEST})
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        kept = await change(handle)
        assert kept == ActionResult("placed", f"{oid}-F1", "pending")
        assert fakes.called("release") == []
        assert "could not hold" in fakes.order_progress[-1].event_detail
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await ship(handle, f"{oid}-F1")
        await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        await ship(handle, f"{oid}-F2", "1Z2")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))
    assert final["status"] == "shipped"
    # F3's child was refused at WEST: it held nothing, F2's child shipped.
    assert outcomes == ["committed", "committed", "refused"]
    assert_settled(fakes, TOTAL)


@pytest.mark.parametrize("shipped_one", [False, True], ids=["all_picked", "one_shipped"])
async def test_once_every_part_is_picked_or_one_shipped_the_address_is_refused(
    env: WorkflowEnvironment, shipped_one: bool
) -> None:
    fakes = split_fakes_by_point()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        if shipped_one:
            await ship(handle, f"{oid}-F1")
        else:
            await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        calls, records = journey_calls(fakes), len(fakes.order_progress)
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await change(handle)
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_STATE
        assert (journey_calls(fakes), len(fakes.order_progress)) == (calls, records)
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert fakes.active_reservations == {}


async def test_two_changes_at_once_leave_one_hold_per_part(env: WorkflowEnvironment) -> None:
    fakes = split_fakes_by_point()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        results = await asyncio.gather(change(handle), change(handle), return_exceptions=True)
        assert not [r for r in results if isinstance(r, BaseException)], results
        assert sorted(h.location_id for h in fakes.active_reservations.values()) == [NEAR, WEST]
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert fakes.active_reservations == {}
