"""The bare-Temporal floor: a workflow whose update-with-start handler runs K
trivial activities (regular or local) and answers, on the same dev server
Omni uses. Whatever Omni's placement costs above this is Omni's own.

`python -m bench.floor_workflow` runs its worker (TEMPORAL_ADDRESS,
FLOOR_TASK_QUEUE); the bench drives it with `place()`.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker


@dataclass
class FloorInput:
    activities: int
    local: bool


@activity.defn(name="floor_step")
async def floor_step(step: int) -> int:
    return step


@workflow.defn(name="FloorWorkflow", sandboxed=False)
class FloorWorkflow:
    def __init__(self) -> None:
        self._answered = False

    @workflow.run
    async def run(self, plan: FloorInput) -> None:
        await workflow.wait_condition(lambda: self._answered)

    @workflow.update(name="place")
    async def place(self, plan: FloorInput) -> int:
        done = 0
        for step in range(plan.activities):
            if plan.local:
                done += await workflow.execute_local_activity(
                    floor_step, step, start_to_close_timeout=timedelta(seconds=10)
                )
            else:
                done += await workflow.execute_activity(
                    floor_step, step, start_to_close_timeout=timedelta(seconds=10)
                )
        self._answered = True
        return done


@workflow.defn(name="FloorStartedWorkflow", sandboxed=False)
class FloorStartedWorkflow:
    """The floor of placement taken by the orders service: the caller only
    starts it (no update, no wait for a workflow task); it then runs K local
    activities on its own, as an order journey confirms its hold."""

    @workflow.run
    async def run(self, plan: FloorInput) -> int:
        done = 0
        for step in range(plan.activities):
            done += await workflow.execute_local_activity(
                floor_step, step, start_to_close_timeout=timedelta(seconds=10)
            )
        return done


async def start_only(client: Client, task_queue: str, workflow_id: str, plan: FloorInput) -> None:
    """One start (FAIL on conflict, as the orders service starts journeys)."""
    await client.start_workflow(
        FloorStartedWorkflow.run,
        plan,
        id=workflow_id,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        task_queue=task_queue,
    )


async def place(client: Client, task_queue: str, workflow_id: str, plan: FloorInput) -> int:
    start = WithStartWorkflowOperation(
        FloorWorkflow.run,
        plan,
        id=workflow_id,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=task_queue,
    )
    result: int = await client.execute_update_with_start_workflow(
        "place", plan, start_workflow_operation=start, result_type=int
    )
    return result


async def _serve() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    worker = Worker(
        client,
        task_queue=os.environ["FLOOR_TASK_QUEUE"],
        workflows=[FloorWorkflow, FloorStartedWorkflow],
        activities=[floor_step],
    )
    print("floor worker ready", flush=True)
    await worker.run()


if __name__ == "__main__":
    try:
        asyncio.run(_serve())
    except KeyboardInterrupt:
        pass
    sys.stdout.flush()
    os._exit(0)  # temporalio can crash the interpreter at exit (sdk-python #300)
