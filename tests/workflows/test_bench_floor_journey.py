"""The bopis-journey bench's floors (bench/floor_workflow.py): the floor
journey makes exactly the commands of the plan it is given, so that the
plan read back from its own history is that plan (the bench reads Omni's
journey the same way, bench/bopis_journey.py `_plan_of`), its activities
side by side in the groups the plan names; the bare floor makes none but
its activities. Time-skipping server."""

from __future__ import annotations

import uuid

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.bopis_journey import _plan_of
from bench.floor_workflow import (
    FloorJourneyWorkflow,
    JourneyPhase,
    JourneyPlan,
    floor_step,
    journey,
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
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[FloorJourneyWorkflow],
        activities=[floor_step],
    ):
        with_commands = f"floor-journey-{uuid.uuid4().hex}"
        await journey(env.client, task_queue, with_commands, plan)
        await env.client.get_workflow_handle(with_commands).result()
        bare = f"floor-journey-{uuid.uuid4().hex}"
        await journey(env.client, task_queue, bare, plan.bare())
        await env.client.get_workflow_handle(bare).result()
    assert await _plan_of(env.client, with_commands) == plan
    assert await _plan_of(env.client, bare) == JourneyPlan(
        [
            JourneyPhase(3, 0),
            JourneyPhase(0, 3, regular_rounds=[1, 1, 1]),
            JourneyPhase(0, 5, regular_rounds=[1, 4]),
        ]
    )
