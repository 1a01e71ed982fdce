"""The records that follow a store action go out side by side
(RECORDS_SIDE_BY_SIDE_PATCH): a pick's progress record and its "ready for
pickup" milestone in one workflow task; a handover's stock commit, progress
record, customer activity and milestone in one, once the capture is done.
Read from the run's history on the time-skipping server; runs recorded
before replay one after another (test_replay.py), and one record that fails
still leaves the answer and every other record as they were."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices, internal
from tests.workflows.journeys import keep_history, order, place, running_worker
from tests.workflows.test_bopis import pickup_code
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    HandoverInput,
    LineInput,
    PickInput,
    ShipInput,
)
from workflows.order.steps import RECORDS_SIDE_BY_SIDE_PATCH


async def _rounds(handle: WorkflowHandle[Any, Any]) -> list[list[str]]:
    """The activities the run scheduled, grouped by the workflow task that
    scheduled them, in order."""
    history = await handle.fetch_history()
    rounds: dict[int, list[str]] = defaultdict(list)
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            rounds[scheduled.workflow_task_completed_event_id].append(scheduled.activity_type.name)
    return [sorted(names) for _, names in sorted(rounds.items())]


async def _patches(handle: WorkflowHandle[Any, Any]) -> list[str]:
    history = await handle.fetch_history()
    return [
        json.loads(event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)[
            "id"
        ]
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == "core_patch"
    ]


async def _walk(env: WorkflowEnvironment, fakes: FakeServices) -> WorkflowHandle[Any, Any]:
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)], "amy"),
            result_type=ActionResult,
        )
        assert picked == ActionResult("ready_for_pickup", f"{oid}-F1", "ready_for_pickup")
        done = await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F1", pickup_code(fakes), "amy"),
            result_type=ActionResult,
        )
        assert done == ActionResult("completed", f"{oid}-F1", "picked_up")
        final = await handle.result()
    assert final["status"] == "completed"
    return handle


async def test_a_pick_and_a_handover_each_send_their_records_in_one_round(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    handle = await _walk(env, fakes)
    await keep_history(handle, "records_side_by_side_pick_and_handover")
    rounds = await _rounds(handle)
    pick_records = ["customers.record_timeline_event", "orders.record_order_progress"]
    handover_records = [
        "customers.record_activity",
        "customers.record_timeline_event",
        "inventory.commit_reservation",
        "orders.record_order_progress",
    ]
    # The capture first (a refused one refuses the handover whole), then the rest at once.
    assert rounds[-3:] == [pick_records, ["payments.capture"], handover_records], rounds
    assert RECORDS_SIDE_BY_SIDE_PATCH in await _patches(handle)
    # Each record made once, as one after another made them.
    assert [p.status for p in fakes.order_progress] == ["placed", "ready_for_pickup", "completed"]
    assert len(fakes.called("commit")) == 1
    assert [a.status for a in fakes.customer_activities] == ["placed", "completed"]
    assert sorted(e.kind for e in fakes.timeline.values()) == [
        "order_completed",
        "order_placed",
        "ready_for_pickup",
    ]


async def test_a_record_that_fails_beside_the_others_is_finished_by_the_journey(
    env: WorkflowEnvironment,
) -> None:
    # The commit's one try in the handover fails as INTERNAL (not retried):
    # the handover still answers, the other three records are made beside
    # it, and the journey's main loop commits the stock afterwards, once.
    fakes = FakeServices()

    async def broken(_: Any) -> None:
        raise internal()

    fakes.on("commit", broken)
    handle = await _walk(env, fakes)
    commits = fakes.called("commit")
    assert len(commits) == 2 and commits[0] == commits[1]
    assert [k for k in fakes.done if k.startswith("commit/")] == [
        f"commit/{commits[0].reservation_id}"
    ]
    assert [p.status for p in fakes.order_progress][-1] == "completed"
    assert [a.status for a in fakes.customer_activities] == ["placed", "completed"]
    # The failed try and the retry are two rounds of their own after the records'.
    rounds = await _rounds(handle)
    assert rounds[-1] == ["inventory.commit_reservation"], rounds


async def test_a_last_shipment_sends_its_records_in_one_round(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=["store-1"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        shipped = await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z999"), result_type=ActionResult
        )
        assert shipped == ActionResult("shipped", f"{oid}-F1", "shipped")
        final = await handle.result()
    assert final["status"] == "shipped"
    await keep_history(handle, "records_side_by_side_last_shipment")
    rounds = await _rounds(handle)
    after_capture = rounds[rounds.index(["payments.capture"]) + 1]
    assert after_capture == [
        "customers.record_activity",
        "customers.record_timeline_event",
        "inventory.commit_reservation",
        "orders.record_order_progress",
    ], rounds
    assert len(fakes.called("commit")) == 1
    assert [p.status for p in fakes.order_progress] == ["placed", "in_fulfillment", "shipped"]
    shipped_events = [e for e in fakes.timeline.values() if e.kind == "order_shipped"]
    assert [(e.details["carrier"], e.details["tracking_number"]) for e in shipped_events] == [
        ("UPS", "1Z999")
    ]
