"""Rejected fulfillments and short picks on the time-skipping server: the real
workflows, fake services. A store that cannot fulfill sends the lines to the
next location (a new fulfillment) or, with nowhere to go, cancels them."""

from __future__ import annotations

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.activities import SkuQty
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    ERROR_INVALID_STATE,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    REJECT_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    STATUS_QUERY,
    ActionResult,
    HandoverInput,
    LineInput,
    OrderStatus,
    PickInput,
    RejectInput,
    ShipInput,
)

ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


def code_of(fakes: FakeServices, fulfillment_id: str) -> str:
    """The pickup code the journey last recorded for `fulfillment_id`."""
    codes = [
        f.pickup_code
        for progress in fakes.order_progress
        for f in progress.fulfillments
        if f.fulfillment_id == fulfillment_id and f.pickup_code
    ]
    return codes[-1]


async def test_rejected_pickup_goes_to_the_nearest_other_store_and_the_customer_is_told(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pickup_sources=["store-1", "store-2", "store-3"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted, placement

        rejected = await handle.execute_update(
            REJECT_UPDATE,
            RejectInput(f"{oid}-F1", "freezer broke", "amy"),
            result_type=ActionResult,
        )
        assert rejected == ActionResult("placed", f"{oid}-F1", "rerouted")
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.fulfillments == {f"{oid}-F1": "rerouted", f"{oid}-F2": "pending"}

        # Sourced from the original store's point, never back to it.
        [sourcing] = fakes.called("find_sources")
        assert (sourcing.fulfillment_type, sourcing.lat, sourcing.lon) == ("pickup", 41.5, -72.5)
        assert sourcing.exclude_location_ids == ["store-1"]
        assert sourcing.lines == [SkuQty("SKU-A", 2), SkuQty("SKU-B", 1)]
        # The new hold is in place before the old one goes.
        holds = [
            (name, argument.reservation_id)
            for name, argument in fakes.calls
            if name in ("reserve", "release")
        ]
        assert holds == [
            ("reserve", f"order-{oid}/reserve/store-1"),
            ("reserve", f"order-{oid}/F2/reserve/store-2"),
            ("release", f"order-{oid}/reserve/store-1"),
        ]
        rerouted = fakes.order_progress[-1]
        assert rerouted.event_type == "rerouted" and "freezer broke" in rerouted.event_detail
        assert [(f.fulfillment_id, f.location_id, f.status) for f in rerouted.fulfillments] == [
            (f"{oid}-F1", "store-1", "rerouted"),
            (f"{oid}-F2", "store-2", "pending"),
        ]
        told = fakes.timeline[f"order-{oid}/timeline/F2/rerouted"]
        assert told.kind == "pickup_rerouted"
        assert (told.details["from_location"], told.details["to_location"]) == (
            "store-1",
            "store-2",
        )

        # The second store picks and hands over: the order completes there.
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F2", ALL_LINES))
        done = await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F2", code_of(fakes, f"{oid}-F2")),
            result_type=ActionResult,
        )
        assert done == ActionResult("completed", f"{oid}-F2", "picked_up")
        final = await handle.result()

    assert final["status"] == "completed"
    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [(1300, True)]
    [commit] = fakes.called("commit")
    assert commit.reservation_id == f"order-{oid}/F2/reserve/store-2"
    assert fakes.active_reservations == {} and fakes.called("void") == []


async def test_rejected_pickup_with_nowhere_to_go_cancels_the_order_and_voids(
    env: WorkflowEnvironment,
) -> None:
    # The only other store lost its stock since sourcing ranked it.
    fakes = FakeServices(pickup_sources=["store-2"], out_of_stock_at={"store-2"})
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        rejected = await handle.execute_update(
            REJECT_UPDATE, RejectInput(f"{oid}-F1", "flooded"), result_type=ActionResult
        )
        final = await handle.result()

    assert rejected == ActionResult("cancelled", f"{oid}-F1", "cancelled")
    assert final["status"] == "cancelled"
    assert [r.location_id for r in fakes.called("reserve")] == ["store-1", "store-2"]
    assert fakes.active_reservations == {}
    [void] = fakes.called("void")
    assert void.payment_id == f"pay-order-{oid}/authorize/0"
    assert fakes.called("capture") == []
    last = fakes.order_progress[-1]
    assert (last.status, last.fulfillments[0].status) == ("cancelled", "cancelled")
    assert "flooded" in last.event_detail and "no other location" in last.event_detail
    assert f"order-{oid}/timeline/order_cancelled" in fakes.timeline


async def test_short_pick_reroutes_the_remainder_and_captures_once_at_the_end(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pickup_sources=["store-2"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        # One SKU-A of two on the shelf, no SKU-B.
        picked = await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 1)]), result_type=ActionResult
        )
        # Part of the order is ready, the rest is not: not ready_for_pickup yet.
        assert picked == ActionResult("in_fulfillment", f"{oid}-F1", "ready_for_pickup")
        remainder = fakes.order_progress[-1].fulfillments[1]
        assert (remainder.fulfillment_id, remainder.location_id, remainder.status) == (
            f"{oid}-F2",
            "store-2",
            "pending",
        )
        assert [(line.sku, line.quantity) for line in remainder.lines] == [
            ("SKU-A", 1),
            ("SKU-B", 1),
        ]
        assert "rerouted to store-2" in fakes.order_progress[-1].event_detail
        assert fakes.active_reservations[f"order-{oid}/F2/reserve/store-2"].lines == [
            SkuQty("SKU-A", 1),
            SkuQty("SKU-B", 1),
        ]

        # The customer collects the first part; nothing is captured until the end.
        first = await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F1", code_of(fakes, f"{oid}-F1")),
            result_type=ActionResult,
        )
        assert first == ActionResult("in_fulfillment", f"{oid}-F1", "picked_up")
        assert fakes.called("capture") == []
        assert fakes.called("commit")[0].lines == [SkuQty("SKU-A", 1)]

        ready = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F2", [LineInput("SKU-A", 1), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        assert ready.order_status == "ready_for_pickup"
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F2", code_of(fakes, f"{oid}-F2"))
        )
        final = await handle.result()

    assert final["status"] == "completed"
    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [(1300, True)]
    assert [c.reservation_id for c in fakes.called("commit")] == [
        f"order-{oid}/reserve/store-1",
        f"order-{oid}/F2/reserve/store-2",
    ]
    assert fakes.active_reservations == {}
    completed = fakes.timeline[f"order-{oid}/timeline/order_completed"]
    assert completed.amount_minor == 1300


async def test_reject_after_ready_for_pickup_is_an_invalid_state(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pickup_sources=["store-2"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(REJECT_UPDATE, RejectInput(f"{oid}-F1", "too late"))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_STATE
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.status == "ready_for_pickup"
        assert status.fulfillments == {f"{oid}-F1": "ready_for_pickup"}
        assert fakes.called("find_sources") == []
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code_of(fakes, f"{oid}-F1"))
        )
        await handle.result()


async def test_rejected_shipment_goes_to_the_next_location_by_the_shipping_rule(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(sources=["store-near", "store-far"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        # Picked, then the store finds it cannot ship after all.
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        rejected = await handle.execute_update(
            REJECT_UPDATE, RejectInput(f"{oid}-F1", "no carrier today"), result_type=ActionResult
        )
        assert rejected == ActionResult("placed", f"{oid}-F1", "rerouted")
        rerouting = fakes.called("find_sources")[-1]
        assert (rerouting.fulfillment_type, rerouting.lat, rerouting.lon) == ("ship", 40.0, -75.0)
        assert rerouting.exclude_location_ids == ["store-near"]

        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F2", ALL_LINES))
        shipped = await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F2", "UPS", "1Z2"), result_type=ActionResult
        )
        assert shipped == ActionResult("shipped", f"{oid}-F2", "shipped")
        await handle.result()

    assert [c.amount_minor for c in fakes.called("capture")] == [1300]
    [commit] = fakes.called("commit")
    assert commit.reservation_id == f"order-{oid}/F2/reserve/store-far"
    assert fakes.active_reservations == {}


async def test_short_shipment_ships_in_two_parts_and_each_captures_its_share(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(sources=["store-near", "store-far"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2)]), result_type=ActionResult
        )
        first = await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z1"), result_type=ActionResult
        )
        assert first == ActionResult("partially_shipped", f"{oid}-F1", "shipped")
        # Issue 11: each shipment captures its own share when it ships.
        assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [(1000, False)]
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F2", [LineInput("SKU-B", 1)]), result_type=ActionResult
        )
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F2", "DHL", "JD1"))
        final = await handle.result()

    assert final["status"] == "shipped"
    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [
        (1000, False),
        (300, True),
    ]
    # F1's "shipped" and the order's end are two records, two event ids.
    event_ids = [p.event_id for p in fakes.order_progress]
    assert len(event_ids) == len(set(event_ids)), event_ids
    shipped = [e for e in fakes.timeline.values() if e.kind == "order_shipped"]
    assert [(e.amount_minor, e.details["tracking_number"]) for e in shipped] == [
        (1000, "1Z1"),
        (300, "JD1"),
    ]
