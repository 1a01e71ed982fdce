"""Store clocks and partial handover on the time-skipping server (issue 11):
the pick SLA (overdue, then rerouted as a reject, with the reroute limit),
the curbside hand-off SLA, and a handover of fewer units than were picked.
Fractional SLA minutes throughout (seconds of workflow time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, order, place, running_worker
from workflows.contracts.activities import OrderProgress, SkuQty
from workflows.contracts.journeys import (
    ARRIVED_SIGNAL,
    BOPIS_WORKFLOW,
    ERROR_INVALID_PICK,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    STATUS_QUERY,
    ActionResult,
    ArrivedInput,
    HandoverInput,
    LineInput,
    OrderStatus,
    PickInput,
)
from workflows.order.sla import clocks_of

ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]
# 6 seconds of workflow time; overdue at 6 s, rerouted at 12 s.
SLA_MINUTES = 0.1
SLA = timedelta(minutes=SLA_MINUTES)
ENDS_WITHIN = 20.0


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Activities run in real time: wait (bounded) for their effect."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def events(fakes: FakeServices, event_type: str) -> list[OrderProgress]:
    return [p for p in fakes.order_progress if p.event_type == event_type]


def code_of(fakes: FakeServices, fulfillment_id: str) -> str:
    return [
        f.pickup_code
        for p in fakes.order_progress
        for f in p.fulfillments
        if f.fulfillment_id == fulfillment_id and f.pickup_code
    ][-1]


async def status(handle: WorkflowHandle[Any, Any]) -> OrderStatus:
    return await handle.query(STATUS_QUERY, result_type=OrderStatus)


def test_the_store_clocks_default_when_the_location_says_nothing() -> None:
    assert clocks_of(None).pick_sla == timedelta(minutes=120)
    assert clocks_of(None).curbside_sla == timedelta(minutes=10)


# ------------------------------------------------------------------ pick SLA


async def test_a_late_pick_is_overdue_then_rerouted_exactly_as_a_reject(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        pickup_sources=["store-1", "store-2"],
        pick_sla_minutes={"store-1": SLA_MINUTES, "store-2": 60},
    )
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted

        await env.sleep(SLA * 0.5)
        assert events(fakes, "pick_overdue") == []

        await env.sleep(SLA * 0.7)  # past the SLA, before twice it
        await eventually(lambda: len(events(fakes, "pick_overdue")) == 1)
        [overdue] = events(fakes, "pick_overdue")
        assert overdue.event_id == f"order-{oid}/pick_overdue"
        assert [(f.fulfillment_id, f.status, f.overdue) for f in overdue.fulfillments] == [
            (f"{oid}-F1", "pending", True)
        ]
        assert "0.1-minute pick SLA" in overdue.event_detail
        assert (await status(handle)).fulfillments == {f"{oid}-F1": "pending"}

        await env.sleep(SLA)  # past twice the SLA: rerouted as a reject would
        await eventually(lambda: len(events(fakes, "rerouted")) == 1)
        [rerouted] = events(fakes, "rerouted")
        assert "by pick SLA" in rerouted.event_detail
        assert "not picked within 0.2 minutes" in rerouted.event_detail
        assert [(f.fulfillment_id, f.location_id, f.status) for f in rerouted.fulfillments] == [
            (f"{oid}-F1", "store-1", "rerouted"),
            (f"{oid}-F2", "store-2", "pending"),
        ]
        # The new hold before the old one goes; the customer is told where.
        holds = [(n, a.reservation_id) for n, a in fakes.calls if n in ("reserve", "release")]
        assert holds == [
            ("reserve", f"order-{oid}/reserve/store-1"),
            ("reserve", f"order-{oid}/F2/reserve/store-2"),
            ("release", f"order-{oid}/reserve/store-1"),
        ]
        assert fakes.timeline[f"order-{oid}/timeline/F2/rerouted"].kind == "pickup_rerouted"

        # store-2 has its own (long) clock: still pending well after store-1's.
        await env.sleep(SLA * 4)
        assert (await status(handle)).fulfillments[f"{oid}-F2"] == "pending"
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F2", ALL_LINES))
        done = await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F2", code_of(fakes, f"{oid}-F2")),
            result_type=ActionResult,
        )
        assert done == ActionResult("completed", f"{oid}-F2", "picked_up")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_late_pick_is_overdue_then_rerouted")

    assert final["status"] == "completed"
    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [(1300, True)]
    assert fakes.active_reservations == {} and fakes.called("void") == []


async def test_the_reroute_limit_cancels_the_lines_after_three_locations(
    env: WorkflowEnvironment,
) -> None:
    # A fourth store would have it, but three locations is the limit.
    fakes = FakeServices(
        pickup_sources=["store-2", "store-3", "store-4"],
        pick_sla_minutes={"": SLA_MINUTES},
    )
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        for rerouted in (1, 2):
            await env.sleep(SLA * 2.2)
            await eventually(lambda n=rerouted: len(events(fakes, "rerouted")) == n)  # type: ignore[misc]
        await env.sleep(SLA * 2.2)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "the_reroute_limit_cancels_after_three_locations")

    assert final["status"] == "cancelled"
    assert [r.location_id for r in fakes.called("reserve")] == ["store-1", "store-2", "store-3"]
    assert fakes.active_reservations == {}
    assert [p.status for p in fakes.payments.values()] == ["voided"]
    assert fakes.called("capture") == []
    # Each store's pick was overdue before it was moved on.
    assert [p.event_id for p in events(fakes, "pick_overdue")] == [
        f"order-{oid}/pick_overdue",
        f"order-{oid}/F2/pick_overdue",
        f"order-{oid}/F3/pick_overdue",
    ]
    last = fakes.order_progress[-1]
    assert last.status == "cancelled" and "no other location" in last.event_detail
    assert f"order-{oid}/timeline/order_cancelled" in fakes.timeline


async def test_when_one_fulfillment_runs_out_of_locations_the_order_ends_with_the_rest(
    env: WorkflowEnvironment,
) -> None:
    """A short pick's remainder goes on as F2, is late everywhere it can go,
    and is cancelled: the order completes with what F1 handed over, and the
    cancelled lines' share is never captured."""
    fakes = FakeServices(
        pickup_sources=["store-2", "store-3"],
        pick_sla_minutes={"store-1": 600, "": SLA_MINUTES},
    )
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        # store-1 finds one SKU-A of two: the rest goes to store-2 as F2.
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 1), LineInput("SKU-B", 1)])
        )
        assert (await status(handle)).fulfillments[f"{oid}-F2"] == "pending"
        # F2 late at store-2 -> F3 at store-3 (the third location) -> late: cancelled.
        await env.sleep(SLA * 2.2)
        await eventually(lambda: len(events(fakes, "rerouted")) == 1)
        await env.sleep(SLA * 2.2)
        await eventually(lambda: len(events(fakes, "lines_cancelled")) == 1)
        done = await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F1", code_of(fakes, f"{oid}-F1")),
            result_type=ActionResult,
        )
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert done.order_status == "completed" and final["status"] == "completed"
    assert [r.location_id for r in fakes.called("reserve")] == ["store-1", "store-2", "store-3"]
    # One SKU-A (500) and one SKU-B (300): only what was handed over.
    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [(800, True)]
    assert fakes.active_reservations == {}


async def test_a_pick_in_time_is_never_overdue_and_an_overdue_pick_clears_when_picked(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pick_sla_minutes={"": SLA_MINUTES})
    async with running_worker(env.client, fakes) as queue:
        on_time, late = order(), order()
        _, first = await place(env.client, BOPIS_WORKFLOW, on_time, queue)
        _, second = await place(env.client, BOPIS_WORKFLOW, late, queue)
        await first.execute_update(PICK_UPDATE, PickInput(f"{on_time.order_id}-F1", ALL_LINES))
        await env.sleep(SLA * 1.5)
        await eventually(
            lambda: any(p.order_id == late.order_id for p in events(fakes, "pick_overdue"))
        )
        picked = await second.execute_update(
            PICK_UPDATE, PickInput(f"{late.order_id}-F1", ALL_LINES), result_type=ActionResult
        )
        # Long past twice the SLA: a picked order is never rerouted.
        await env.sleep(SLA * 5)
        assert (await status(second)).status == "ready_for_pickup"

    assert picked.fulfillment_status == "ready_for_pickup"
    assert [p.order_id for p in events(fakes, "pick_overdue")] == [late.order_id]
    ready = [p for p in fakes.order_progress if p.order_id == late.order_id][-1]
    assert [f.overdue for f in ready.fulfillments] == [False]
    assert events(fakes, "rerouted") == []


# ------------------------------------------------------------------ curbside


async def ready(
    env: WorkflowEnvironment, fakes: FakeServices, queue: str
) -> tuple[str, WorkflowHandle[Any, Any]]:
    wanted = order()
    placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
    assert placement.accepted
    await handle.execute_update(PICK_UPDATE, PickInput(f"{wanted.order_id}-F1", ALL_LINES))
    return wanted.order_id, handle


def coming(fakes: FakeServices) -> list[Any]:
    return [n for n in fakes.called("notify") if n.kind == "curbside_coming"]


async def test_a_curbside_customer_kept_waiting_is_told_it_is_coming_once(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(curbside_sla_minutes=0.05)  # 3 s
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready(env, fakes, queue)
        await handle.signal(ARRIVED_SIGNAL, ArrivedInput(f"{oid}-F1", "blue car"))
        await handle.signal(ARRIVED_SIGNAL, ArrivedInput(f"{oid}-F1", "again"))  # a repeat
        await env.sleep(timedelta(seconds=1))
        assert coming(fakes) == []
        await env.sleep(timedelta(seconds=3))
        await eventually(lambda: len(coming(fakes)) == 1)
        [overdue] = events(fakes, "curbside_overdue")
        assert [(f.status, f.overdue) for f in overdue.fulfillments] == [("ready_for_pickup", True)]
        await env.sleep(timedelta(seconds=30))
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code_of(fakes, f"{oid}-F1"))
        )
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_curbside_customer_kept_waiting_is_told")

    assert final["status"] == "completed"
    [told] = coming(fakes)
    assert told.notification_id == f"order-{oid}/notify/curbside_coming"
    assert told.details["order_id"] == oid
    assert len(events(fakes, "curbside_overdue")) == 1


async def test_a_curbside_hand_off_in_time_tells_nobody_and_no_arrival_starts_no_clock(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(curbside_sla_minutes=0.05)
    async with running_worker(env.client, fakes) as queue:
        served, _ = await ready(env, fakes, queue)
        never_arrived, idle = await ready(env, fakes, queue)
        handle = env.client.get_workflow_handle(f"order-{served}")
        await handle.signal(ARRIVED_SIGNAL, ArrivedInput(f"{served}-F1"))
        await env.sleep(timedelta(seconds=1))
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{served}-F1", code_of(fakes, f"{served}-F1"))
        )
        await env.sleep(timedelta(seconds=30))
        assert (await status(idle)).status == "ready_for_pickup"

    assert coming(fakes) == [] and events(fakes, "curbside_overdue") == []
    assert never_arrived


# ------------------------------------------------------------ partial handover


async def test_a_partial_handover_charges_and_commits_only_what_was_taken(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready(env, fakes, queue)
        done = await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F1", code_of(fakes, f"{oid}-F1"), "amy", [LineInput("SKU-A", 1)]),
            result_type=ActionResult,
        )
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_partial_handover_charges_only_what_was_taken")

    assert done == ActionResult("completed", f"{oid}-F1", "picked_up")
    assert final["status"] == "completed"
    # One SKU-A at 500: SKU-A's second unit and SKU-B were left at the counter.
    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [(500, True)]
    [commit] = fakes.called("commit")
    assert commit.lines == [SkuQty("SKU-A", 1)]  # the rest of the hold goes back
    assert fakes.active_reservations == {}
    last = fakes.order_progress[-1]
    assert last.status == "completed"
    assert "not taken, released: SKU-A x1, SKU-B x1" in last.event_detail
    [line_a, line_b] = last.fulfillments[0].lines
    assert (line_a.quantity_picked, line_b.quantity_picked) == (1, 0)
    assert fakes.timeline[f"order-{oid}/timeline/order_completed"].amount_minor == 500


@pytest.mark.parametrize(
    ("lines", "words"),
    [
        ([LineInput("SKU-Z", 1)], "SKU-Z was not picked"),
        ([LineInput("SKU-A", 3)], "taken 3, picked 2"),
        ([LineInput("SKU-A", 1), LineInput("SKU-A", 1)], "listed twice"),
        ([LineInput("SKU-A", -1), LineInput("SKU-B", 1)], "must not be negative"),
        ([LineInput("SKU-A", 0)], "nothing was taken"),
    ],
)
async def test_a_partial_handover_that_does_not_fit_is_refused_and_changes_nothing(
    env: WorkflowEnvironment, lines: list[LineInput], words: str
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready(env, fakes, queue)
        code = code_of(fakes, f"{oid}-F1")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code, "", lines)
            )
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_PICK
        assert words in cause.message
        assert fakes.called("capture") == [] and fakes.called("commit") == []
        assert (await status(handle)).status == "ready_for_pickup"
        # The whole handover still works after.
        await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert final["status"] == "completed"
    assert [c.amount_minor for c in fakes.called("capture")] == [1300]
