"""The bopis-journey bench's floors (bench/floor_workflow.py): the floor
journey makes exactly the commands of the plan it is given, so that the
plan read back from its own history is that plan (the bench reads Omni's
journey the same way, bench/bopis_journey.py `_plan_of`), its activities
side by side in the groups the plan names; the bare floor makes none but
its activities. Time-skipping server."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateStage
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bopis_journey import _plan_of
from bench.floor_workflow import (
    FloorJourneyWorkflow,
    JourneyPhase,
    JourneyPlan,
    floor_step,
    journey,
    started_done,
)


def _floor_worker(env: WorkflowEnvironment, task_queue: str, step: Callable[..., Any]) -> Worker:
    """The floor journey's worker, its step activity as the test needs it."""
    return Worker(
        env.client, task_queue=task_queue, workflows=[FloorJourneyWorkflow], activities=[step]
    )


async def test_the_floor_journey_makes_the_commands_of_its_plan(
    env: WorkflowEnvironment,
) -> None:
    plan = JourneyPlan(
        [
            JourneyPhase(local=3, regular=0, patches=3, upserts=1, timers=2),
            JourneyPhase(
                local=0, regular=3, patches=1, upserts=1, timers=1, regular_rounds=[1, 1, 1]
            ),
            JourneyPhase(local=0, regular=5, patches=0, upserts=1, timers=0, regular_rounds=[1, 4]),
        ]
    )
    task_queue = f"floor-{uuid.uuid4().hex[:6]}"
    async with _floor_worker(env, task_queue, floor_step):
        with_commands = f"floor-journey-{uuid.uuid4().hex}"
        await journey(env.client, task_queue, with_commands, plan, started_done)
        await env.client.get_workflow_handle(with_commands).result()
        bare = f"floor-journey-{uuid.uuid4().hex}"
        await journey(env.client, task_queue, bare, plan.bare(), started_done)
        await env.client.get_workflow_handle(bare).result()
    assert await _plan_of(env.client, with_commands) == plan
    assert await _plan_of(env.client, bare) == JourneyPlan(
        [
            JourneyPhase(3, 0),
            JourneyPhase(0, 3, regular_rounds=[1, 1, 1]),
            JourneyPhase(0, 5, regular_rounds=[1, 4]),
        ]
    )


async def test_an_update_landing_while_phase_zero_runs_waits_for_it(
    env: WorkflowEnvironment,
) -> None:
    # Phase 0's first activity is held until the first update is accepted, so
    # the update lands mid-phase (as a pick may land while Omni confirms a
    # hold). Regular activities there: a held local one would keep the
    # workflow task open, and the update could not be delivered until then.
    accepted = asyncio.Event()

    @activity.defn(name="floor_step")
    async def held_floor_step(step: int) -> int:
        await accepted.wait()
        return step

    plan = JourneyPlan(
        [JourneyPhase(local=0, regular=2, regular_rounds=[1, 1]), JourneyPhase(local=2, regular=0)]
    )
    task_queue = f"floor-{uuid.uuid4().hex[:6]}"
    workflow_id = f"floor-journey-{uuid.uuid4().hex}"
    async with _floor_worker(env, task_queue, held_floor_step):
        handle = await env.client.start_workflow(
            FloorJourneyWorkflow.run, plan, id=workflow_id, task_queue=task_queue
        )
        update = await handle.start_update(
            "advance", 1, wait_for_stage=WorkflowUpdateStage.ACCEPTED, result_type=int
        )
        accepted.set()
        assert await update.result() == 1
        assert await handle.result() == 1
    kinds = [event.event_type for event in (await handle.fetch_history()).events]
    accepted_at = kinds.index(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED)
    scheduled = [
        n for n, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    markers = [n for n, kind in enumerate(kinds) if kind == EventType.EVENT_TYPE_MARKER_RECORDED]
    assert len(scheduled) == 2 and len(markers) == 2
    assert accepted_at < max(scheduled), "the update was meant to land mid-phase"
    assert max(scheduled) < min(markers), "phase 1 ran before phase 0 ended"
