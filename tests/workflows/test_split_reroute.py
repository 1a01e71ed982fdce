"""A reroute on a split shipment (issue 11) on the time-skipping server: the
fulfillment a reject, a short pick or the pick SLA opens later is held by its
own child ShipmentWorkflow (`order-<id>-f<n>`), exactly as placement's are:
it holds at the new location (`order-<id>/F<n>/reserve/<location>`), tells
the parent, and commits or releases when the parent settles it. The reroute
limit still applies; every case ends with no hold left and each share
captured once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, place, running_worker
from tests.workflows.test_split_shipments import (
    FAR,
    NEAR,
    SHIPPING,
    TOTAL,
    captures,
    child_result,
    pick_all,
    ship,
    split_fakes,
    split_order,
)
from tests.workflows.test_store_slas import eventually
from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    REJECT_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    STATUS_QUERY,
    ActionResult,
    CancelInput,
    LineInput,
    OrderStatus,
    RejectInput,
    shipment_workflow_id,
)

ENDS_WITHIN = 60
THIRD, FOURTH = "store-third", "store-fourth"


async def children_started(handle: Any) -> list[str]:
    """The ids of the ShipmentWorkflow children the order's journey started, in
    order (not the delivery journeys a shipment starts)."""
    history = await handle.fetch_history()
    started = [
        event.start_child_workflow_execution_initiated_event_attributes
        for event in history.events
        if event.HasField("start_child_workflow_execution_initiated_event_attributes")
    ]
    return [
        child.workflow_id for child in started if child.workflow_type.name == "ShipmentWorkflow"
    ]


async def status(handle: Any) -> OrderStatus:
    view: OrderStatus = await handle.query(STATUS_QUERY, result_type=OrderStatus)
    return view


def holds(fakes: FakeServices) -> list[tuple[str, str]]:
    return [(n, a.reservation_id) for n, a in fakes.calls if n in ("reserve", "release")]


def assert_settled(fakes: FakeServices, total: int) -> None:
    """Stock and money invariants at the end: no hold left, every capture
    key once, exactly one final capture, what was captured is `total`."""
    assert fakes.active_reservations == {}
    done = captures(fakes)
    assert [final for _, final in done].count(True) == 1, done
    assert sum(amount for amount, _ in done) == total
    [payment] = fakes.payments.values()
    assert payment.captured_minor == total
    keys = [key for key in fakes.done if "/capture/" in key]
    assert len(keys) == len(set(keys))


async def children(client: Client, oid: str, numbers: range) -> list[str]:
    return [(await child_result(client, oid, n))["outcome"] for n in numbers]


async def test_a_rejected_split_fulfillment_goes_to_a_child_of_its_own(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted
        fakes.sources = [THIRD]  # the shipping rule's next location for SKU-B
        rejected = await handle.execute_update(
            REJECT_UPDATE, RejectInput(f"{oid}-F2", "flooded"), result_type=ActionResult
        )
        assert rejected == ActionResult("placed", f"{oid}-F2", "rerouted")
        # Held at THIRD by child f3 (its own key) before FAR's child released.
        assert await children_started(handle) == [shipment_workflow_id(oid, n) for n in (1, 2, 3)]
        assert holds(fakes)[2:] == [
            ("reserve", f"order-{oid}/F3/reserve/{THIRD}"),
            ("release", f"order-{oid}/F2/reserve/{FAR}"),
        ]
        [record] = [p for p in fakes.order_progress if p.event_type == "rerouted"]
        assert [(f.fulfillment_id, f.location_id, f.status) for f in record.fulfillments] == [
            (f"{oid}-F2", FAR, "rerouted"),
            (f"{oid}-F3", THIRD, "pending"),
        ]

        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        assert (await ship(handle, f"{oid}-F1")).order_status == "partially_shipped"
        await pick_all(handle, f"{oid}-F3", [LineInput("SKU-B", 1)])
        last = await ship(handle, f"{oid}-F3", "1Z3")
        assert last == ActionResult("shipped", f"{oid}-F3", "shipped")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))
        await keep_history(handle, "a_rejected_split_shipment_reroutes_to_a_child_of_its_own")

    assert final["status"] == "shipped"
    assert outcomes == ["committed", "released", "committed"]
    assert [c.reservation_id for c in fakes.called("commit")] == [
        f"order-{oid}/reserve/{NEAR}",
        f"order-{oid}/F3/reserve/{THIRD}",
    ]
    assert captures(fakes) == [(SHIPPING + 923, False), (TOTAL - SHIPPING - 923, True)]
    assert_settled(fakes, TOTAL)
    assert fakes.called("void") == []


async def test_a_short_picked_split_remainder_goes_to_a_child_of_its_own(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [THIRD]
        # One SKU-A of two on the shelf: the other goes to THIRD as F3.
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 1)])
        assert await children_started(handle) == [shipment_workflow_id(oid, n) for n in (1, 2, 3)]
        [third] = [r for r in fakes.called("reserve") if r.location_id == THIRD]
        assert third.reservation_id == f"order-{oid}/F3/reserve/{THIRD}"
        assert [(x.sku, x.quantity) for x in third.lines] == [("SKU-A", 1)]
        # A short pick keeps its own hold until it ships.
        assert f"order-{oid}/reserve/{NEAR}" in fakes.active_reservations

        await ship(handle, f"{oid}-F1")
        await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        await ship(handle, f"{oid}-F2", "1Z2")
        await pick_all(handle, f"{oid}-F3", [LineInput("SKU-A", 1)])
        await ship(handle, f"{oid}-F3", "1Z3")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))

    assert final["status"] == "shipped"
    assert outcomes == ["committed", "committed", "committed"]
    commits = {
        c.reservation_id: [(x.sku, x.quantity) for x in c.lines] for c in fakes.called("commit")
    }
    assert commits == {
        f"order-{oid}/reserve/{NEAR}": [("SKU-A", 1)],
        f"order-{oid}/F2/reserve/{FAR}": [("SKU-B", 1)],
        f"order-{oid}/F3/reserve/{THIRD}": [("SKU-A", 1)],
    }
    assert_settled(fakes, TOTAL)


async def test_a_late_split_pick_is_rerouted_by_the_sla_to_a_child_of_its_own(
    env: WorkflowEnvironment,
) -> None:
    sla = timedelta(minutes=0.1)
    fakes = split_fakes(pick_sla_minutes={FAR: 0.1})
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [THIRD]
        await env.sleep(sla * 2.2)
        await eventually(lambda: any(p.event_type == "rerouted" for p in fakes.order_progress))
        [record] = [p for p in fakes.order_progress if p.event_type == "rerouted"]
        assert "by pick SLA" in record.event_detail
        assert (await status(handle)).fulfillments == {
            f"{oid}-F1": "pending",
            f"{oid}-F2": "rerouted",
            f"{oid}-F3": "pending",
        }
        assert await children_started(handle) == [shipment_workflow_id(oid, n) for n in (1, 2, 3)]
        assert (await child_result(env.client, oid, 2))["outcome"] == "released"
        await handle.execute_update(CANCEL_UPDATE, CancelInput("changed my mind"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))
        await keep_history(handle, "a_late_split_pick_rerouted_to_a_child_then_cancelled")

    assert final["status"] == "cancelled"
    assert outcomes == ["released", "released", "released"]
    assert f"order-{oid}/F3/reserve/{THIRD}" in [r.reservation_id for r in fakes.called("release")]
    assert fakes.active_reservations == {} and captures(fakes) == []
    [payment] = fakes.payments.values()
    assert payment.status == "voided"


async def test_the_reroute_limit_holds_for_a_split_child(env: WorkflowEnvironment) -> None:
    """Two locations at most: F2 goes FAR -> THIRD, and THIRD's reject
    cancels its lines (FOURTH is never asked); F1 ships alone."""
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order(max_reroute_locations=2)
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [THIRD, FOURTH]
        await handle.execute_update(REJECT_UPDATE, RejectInput(f"{oid}-F2", "flooded"))
        again = await handle.execute_update(
            REJECT_UPDATE, RejectInput(f"{oid}-F3", "no staff"), result_type=ActionResult
        )
        assert again == ActionResult("placed", f"{oid}-F3", "cancelled")
        assert (await child_result(env.client, oid, 3))["outcome"] == "released"
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        assert (await ship(handle, f"{oid}-F1")).order_status == "shipped"
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        started = await children_started(handle)

    assert final["status"] == "shipped"
    assert started == [shipment_workflow_id(oid, n) for n in (1, 2, 3)]
    assert FOURTH not in [r.location_id for r in fakes.called("reserve")]
    assert captures(fakes) == [(SHIPPING + 923, True)]
    assert_settled(fakes, SHIPPING + 923)


async def test_a_refused_reroute_child_lets_the_next_location_try(
    env: WorkflowEnvironment,
) -> None:
    """Someone took THIRD's stock since sourcing ranked it: its child says so
    and ends; fulfillment F3's child is started again at FOURTH."""
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [THIRD, FOURTH]
        fakes.out_of_stock_at = {THIRD}
        await handle.execute_update(REJECT_UPDATE, RejectInput(f"{oid}-F2", "flooded"))
        assert (await status(handle)).fulfillments[f"{oid}-F3"] == "pending"
        assert [r.location_id for r in fakes.called("reserve")][2:] == [THIRD, FOURTH]
        await pick_all(handle, f"{oid}-F3", [LineInput("SKU-B", 1)])
        await ship(handle, f"{oid}-F3")
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await ship(handle, f"{oid}-F1", "1Z1b")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))

    assert final["status"] == "shipped"
    # The child id of F3 names its latest run: the one at FOURTH.
    assert outcomes == ["committed", "released", "committed"]
    assert f"order-{oid}/F3/reserve/{FOURTH}" in [c.reservation_id for c in fakes.called("commit")]
    assert_settled(fakes, TOTAL)


async def test_a_reroute_every_location_refuses_cancels_the_lines(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        fakes.sources = [THIRD]
        fakes.out_of_stock_at = {THIRD}
        await handle.execute_update(REJECT_UPDATE, RejectInput(f"{oid}-F2", "flooded"))
        assert (await status(handle)).fulfillments == {
            f"{oid}-F1": "pending",
            f"{oid}-F2": "cancelled",
        }
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await ship(handle, f"{oid}-F1")
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        outcomes = await children(env.client, oid, range(1, 4))
    # F3's child was tried at THIRD and refused: nothing held anywhere.
    assert outcomes == ["committed", "released", "refused"]
    assert_settled(fakes, SHIPPING + 923)
