"""The pick SLA for ship-from-store and the store outbox on the time-skipping
server (issue 11): a ship-from-store pick not done within the location's
pick_sla_minutes is overdue (event, task flag) and the store is told once; at
twice the SLA it goes to the next location by the shipping rule, as a reject
would. Fractional SLA minutes (seconds of workflow time)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices, unavailable
from tests.workflows.journeys import keep_history, order, place, running_worker
from workflows.contracts.activities import OrderProgress
from workflows.contracts.journeys import (
    ARRIVED_SIGNAL,
    BOPIS_WORKFLOW,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    ArrivedInput,
    LineInput,
    PickInput,
    ShipInput,
)

ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]
SLA_MINUTES = 0.1
SLA = timedelta(minutes=SLA_MINUTES)
ENDS_WITHIN = 20.0


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def events(fakes: FakeServices, event_type: str) -> list[OrderProgress]:
    return [p for p in fakes.order_progress if p.event_type == event_type]


async def test_a_late_ship_from_store_pick_is_overdue_the_store_told_then_rerouted(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        sources=["store-1", "store-2"],
        pick_sla_minutes={"store-1": SLA_MINUTES, "store-2": 60},
    )
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement

        await env.sleep(SLA * 0.5)
        assert events(fakes, "pick_overdue") == []
        assert fakes.store_notifications == {}

        await env.sleep(SLA * 0.7)  # past the SLA, before twice it
        await eventually(lambda: len(fakes.store_notifications) == 1)
        [overdue] = events(fakes, "pick_overdue")
        assert [(f.fulfillment_id, f.status, f.overdue) for f in overdue.fulfillments] == [
            (f"{oid}-F1", "pending", True)
        ]
        [told] = fakes.store_notifications.values()
        assert told.notification_id == f"order-{oid}/store_notify/pick_overdue"
        assert (told.store_id, told.kind, told.reference_id) == ("store-1", "pick_overdue", oid)
        assert told.details["fulfillment_id"] == f"{oid}-F1"
        assert told.details["lines"] == "2 x SKU-A, 1 x SKU-B"

        await env.sleep(SLA)  # past twice the SLA: rerouted as a reject would
        await eventually(lambda: len(events(fakes, "rerouted")) == 1)
        [rerouted] = events(fakes, "rerouted")
        assert "by pick SLA" in rerouted.event_detail
        assert [(f.fulfillment_id, f.location_id, f.status) for f in rerouted.fulfillments] == [
            (f"{oid}-F1", "store-1", "rerouted"),
            (f"{oid}-F2", "store-2", "pending"),
        ]
        # store-2's own (long) clock: nothing more for a while; told only once.
        await env.sleep(SLA * 4)
        assert len(fakes.store_notifications) == 1
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F2", ALL_LINES))
        shipped = await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F2", "UPS", "1Z-F2"), result_type=ActionResult
        )
        assert shipped == ActionResult("shipped", f"{oid}-F2", "shipped")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_late_ship_from_store_pick_rerouted")

    assert final["status"] == "shipped"
    assert [r.location_id for r in fakes.called("reserve")] == ["store-1", "store-2"]
    assert [c.amount_minor for c in fakes.called("capture")] == [1300]
    assert len(events(fakes, "pick_overdue")) == 1


async def test_the_store_is_told_once_even_when_the_message_is_retried(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pickup_sources=[], pick_sla_minutes={"": SLA_MINUTES})

    async def lost_answer(_: Any) -> None:
        raise unavailable()

    # The first send lands, then its answer is lost: the activity is retried.
    fakes.on("store_notify", lost_answer, after=True)
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await env.sleep(SLA * 1.2)
        await eventually(lambda: len(fakes.called("store_notify")) == 2)
        # The clocks' loop woken again and again (two arrivals change what it
        # watches): the overdue clock does not run out a second time.
        for _ in range(2):
            await handle.signal(ARRIVED_SIGNAL, ArrivedInput(f"{oid}-F1", "here"))
            await env.sleep(SLA * 0.1)
        assert len(fakes.called("store_notify")) == 2
        # Twice the SLA, nowhere to go: cancelled; no second message for it.
        await env.sleep(SLA * 1.5)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "an_overdue_pick_tells_the_store_once")

    assert final["status"] == "cancelled"
    sent = fakes.called("store_notify")
    assert {s.notification_id for s in sent} == {f"order-{oid}/store_notify/pick_overdue"}
    assert list(fakes.store_notifications) == [f"order-{oid}/store_notify/pick_overdue"]
    assert fakes.store_notifications[f"order-{oid}/store_notify/pick_overdue"].store_id == "store-1"
