"""The pickup reminder on the time-skipping server: once before the window
ends, never after the customer collected."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.activities import NotificationInput
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    STATUS_QUERY,
    HandoverInput,
    LineInput,
    OrderStatus,
    PickInput,
)
from workflows.order.bopis import pickup_reminder_after

DEADLINE_SECONDS = 10.0
ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


@pytest.mark.parametrize(
    ("window_hours", "reminder_after_hours"),
    [
        (72, 48),  # 24 h before the end is also a third left
        (120, 80),  # a third left (40 h) comes before 24 h left
        (30, 6),  # 24 h before the end comes before a third left
        (3, 2),  # too short for 24 h: a third left
    ],
)
def test_the_reminder_goes_out_at_the_earlier_of_a_third_left_and_24_hours_left(
    window_hours: float, reminder_after_hours: float
) -> None:
    window = timedelta(hours=window_hours)
    assert pickup_reminder_after(window) == timedelta(hours=reminder_after_hours)


async def eventually(check: Callable[[], bool]) -> None:
    """Activities run in real time: wait (bounded) for their effect."""
    deadline = asyncio.get_running_loop().time() + DEADLINE_SECONDS
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def reminders(fakes: FakeServices) -> list[NotificationInput]:
    return [n for n in fakes.called("notify") if n.kind == "pickup_reminder"]


async def ready_for_pickup(
    env: WorkflowEnvironment, fakes: FakeServices, queue: str
) -> tuple[str, WorkflowHandle[Any, Any]]:
    wanted = order()
    placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
    assert placement.accepted, placement
    await handle.execute_update(PICK_UPDATE, PickInput(f"{wanted.order_id}-F1", ALL_LINES))
    return wanted.order_id, handle


def pickup_code(fakes: FakeServices) -> str:
    ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
    return ready[-1].fulfillments[0].pickup_code


async def test_one_reminder_before_the_window_ends_then_expiry(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(pickup_window_hours=3)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_for_pickup(env, fakes, queue)
        await env.sleep(timedelta(hours=1.5))
        assert reminders(fakes) == []
        await env.sleep(timedelta(hours=1))  # 2.5 h: past the reminder (2 h), before the end
        await eventually(lambda: len(reminders(fakes)) == 1)
        assert (await handle.query(STATUS_QUERY, result_type=OrderStatus)).status == (
            "ready_for_pickup"
        )
        # (A handle from update-with-start does not skip time on its own.)
        await env.sleep(timedelta(hours=1))  # 3.5 h: the window has ended
        final = await handle.result()

    assert final["status"] == "cancelled"
    [reminder] = reminders(fakes)
    assert reminder.notification_id == f"order-{oid}/notify/pickup_reminder"
    assert reminder.reference_id == oid
    assert reminder.details == {"order_id": oid, "pickup_code": pickup_code(fakes)}
    assert reminder.customer_id == fakes.customer_activities[0].customer_id


async def test_no_reminder_when_collected_in_time(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(pickup_window_hours=72)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_for_pickup(env, fakes, queue)
        await env.sleep(timedelta(hours=47))
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes), "amy")
        )
        final = await handle.result()
        # Well past where the reminder would have been due.
        await env.sleep(timedelta(hours=30))

    assert final["status"] == "completed"
    assert reminders(fakes) == []


async def test_a_collection_after_the_reminder_completes_normally(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pickup_window_hours=72)
    async with running_worker(env.client, fakes) as queue:
        oid, handle = await ready_for_pickup(env, fakes, queue)
        await env.sleep(timedelta(hours=49))
        await eventually(lambda: len(reminders(fakes)) == 1)
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes), "amy")
        )
        final = await handle.result()

    assert final["status"] == "completed"
    assert len(reminders(fakes)) == 1
    assert fakes.called("void") == []
