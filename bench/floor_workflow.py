"""The bare-Temporal floor: a workflow whose update-with-start handler runs K
trivial activities (regular or local) and answers, on the same dev server
Omni uses. Whatever Omni's placement costs above this is Omni's own.

`python -m bench.floor_workflow` runs its worker (TEMPORAL_ADDRESS,
FLOOR_TASK_QUEUE); the bench drives it with `place()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import SearchAttributeKey, WorkflowIDConflictPolicy
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


@dataclass
class JourneyPhase:
    """What one part of a journey runs: local and regular trivial activities;
    for the floor with the journey's other commands also `patches`
    (`workflow.patched`: a marker, and the TemporalChangeVersion upsert the
    SDK adds to each), `upserts` of a search attribute and `timers` started
    (all cancelled when the journey ends). The bare floor has none of them."""

    local: int
    regular: int
    patches: int = 0
    upserts: int = 0
    timers: int = 0
    # How the regular activities go out: the sizes of the groups run side by
    # side (scheduled by one workflow task), in order; empty: one at a time.
    # (Local ones run one at a time: a workflow task records the markers of
    # all the local activities it ran together, side by side or not.)
    regular_rounds: list[int] = field(default_factory=list)

    def bare(self) -> JourneyPhase:
        return JourneyPhase(self.local, self.regular, regular_rounds=list(self.regular_rounds))


@dataclass
class JourneyPlan:
    """Phase 0 runs after the start; phase n (n >= 1) inside the n-th update."""

    phases: list[JourneyPhase]

    def bare(self) -> JourneyPlan:
        return JourneyPlan([phase.bare() for phase in self.phases])


# The keyword attribute the floor upserts (registered by `omni up`, as Omni's are).
_FLOOR_ATTRIBUTE = SearchAttributeKey.for_keyword("OrderStatus")


def _other_commands(index: int, phase: JourneyPhase, timers: list[asyncio.Task[None]]) -> None:
    for patch in range(phase.patches):
        workflow.patched(f"floor-patch-{index}-{patch}")
    for upsert in range(phase.upserts):
        workflow.upsert_search_attributes([_FLOOR_ATTRIBUTE.value_set(f"floor-{index}-{upsert}")])
    for _ in range(phase.timers):
        timers.append(asyncio.ensure_future(workflow.sleep(timedelta(days=1))))


def _local_step(step: int) -> Awaitable[int]:
    return workflow.execute_local_activity(
        floor_step, step, start_to_close_timeout=timedelta(seconds=10)
    )


def _regular_step(step: int) -> Awaitable[int]:
    return workflow.execute_activity(floor_step, step, start_to_close_timeout=timedelta(seconds=10))


async def _in_rounds(count: int, rounds: list[int], step: Callable[[int], Awaitable[int]]) -> int:
    """`count` steps, each group of `rounds` side by side (one at a time without)."""
    done, made = 0, 0
    for size in rounds or [1] * count:
        done += sum(await asyncio.gather(*(step(made + n) for n in range(size))))
        made += size
    return done


async def _run_phase(phase: JourneyPhase) -> int:
    done = await _in_rounds(phase.local, [], _local_step)
    return done + await _in_rounds(phase.regular, phase.regular_rounds, _regular_step)


@workflow.defn(name="FloorJourneyWorkflow", sandboxed=False)
class FloorJourneyWorkflow:
    """The floor of a whole BOPIS journey (bench bopis-journey): started as
    the orders service starts a journey, then one update per store action
    (pick, handover), each running the activities Omni's journey ran in that
    phase, then it ends."""

    def __init__(self) -> None:
        self._advanced = 0
        self._plan: JourneyPlan | None = None
        self._started_done = False
        self._timers: list[asyncio.Task[None]] = []

    @workflow.run
    async def run(self, plan: JourneyPlan) -> int:
        self._plan = plan
        _other_commands(0, plan.phases[0], self._timers)
        done = await _run_phase(plan.phases[0])
        self._started_done = True
        await workflow.wait_condition(lambda: self._advanced >= len(plan.phases) - 1)
        await workflow.wait_condition(workflow.all_handlers_finished)
        for timer in self._timers:
            timer.cancel()
        return done

    @workflow.query(name="started_done")
    def started_done(self) -> bool:
        return self._started_done

    @workflow.update(name="advance")
    async def advance(self, phase: int) -> int:
        # As Omni's store actions wait for placement under the journey's
        # lock: an update that lands while phase 0 runs waits for it.
        await workflow.wait_condition(lambda: self._started_done)
        assert self._plan is not None
        _other_commands(phase, self._plan.phases[phase], self._timers)
        done = await _run_phase(self._plan.phases[phase])
        self._advanced += 1
        return done


async def started_done(handle: WorkflowHandle[Any, Any]) -> None:
    """Returns once the journey's phase 0 has ended. (The bench does not wait:
    its first update may land while phase 0 runs, as Omni's pick may; a
    reader of the history then cannot tell which phase made what, so a test
    of the plan waits.) Each query is answered by the worker after the
    workflow task in flight, so this asks about once per task."""
    while not await handle.query("started_done", result_type=bool):
        pass


async def journey(
    client: Client,
    task_queue: str,
    workflow_id: str,
    plan: JourneyPlan,
    before_updates: Callable[[WorkflowHandle[Any, Any]], Awaitable[None]] | None = None,
) -> None:
    """One floor journey: the start, then each update in turn (as the store
    acts); `before_updates` runs between the two."""
    handle = await client.start_workflow(
        FloorJourneyWorkflow.run,
        plan,
        id=workflow_id,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        task_queue=task_queue,
    )
    if before_updates is not None:
        await before_updates(handle)
    for phase in range(1, len(plan.phases)):
        await handle.execute_update("advance", phase, result_type=int)


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
    try:
        result: int = await client.execute_update_with_start_workflow(
            "place", plan, start_workflow_operation=start, result_type=int
        )
    except BaseException:
        # The start's handle holds the same error: read it, or asyncio logs
        # "Future exception was never retrieved" for every refused start.
        with contextlib.suppress(BaseException):
            await start.workflow_handle()
        raise
    return result


async def _serve() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    worker = Worker(
        client,
        task_queue=os.environ["FLOOR_TASK_QUEUE"],
        workflows=[FloorWorkflow, FloorStartedWorkflow, FloorJourneyWorkflow],
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
