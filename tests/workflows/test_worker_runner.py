"""The worker runs workflow code unsandboxed (issue 10: measured, the sandbox
cost about half the worker's CPU per placement; docs/architecture.md, "The
worker's sandbox"), so determinism is proven another way:

- every recorded history of the corpus replays under the very runner the
  worker uses (here), as well as under the sandbox (test_replay.py);
- the journey tests' workers keep Temporal's default sandbox, which refuses
  non-deterministic calls and restricted modules in workflow code (a planted
  `datetime.now()` fails there, as below), so a workflow that only works
  unsandboxed cannot pass the suite."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from services.common.temporal_codec import data_converter
from tests.workflows.planted_clock import ReadsTheClock
from tests.workflows.test_replay import HISTORIES, load
from workflows.worker import WORKFLOWS, WorkerSettings, workflow_runner

# The runner the worker uses when nothing is configured.
REPLAYER = Replayer(
    workflows=WORKFLOWS,
    data_converter=data_converter(),
    workflow_runner=workflow_runner(WorkerSettings().workflow_sandbox),
)


def test_the_worker_runs_workflows_unsandboxed_by_default() -> None:
    assert WorkerSettings().workflow_sandbox == "unsandboxed"
    assert isinstance(workflow_runner(WorkerSettings().workflow_sandbox), UnsandboxedWorkflowRunner)
    # The other settings stay available (bench placement measures them).
    assert isinstance(workflow_runner("sandboxed"), SandboxedWorkflowRunner)
    assert isinstance(workflow_runner("passthrough"), SandboxedWorkflowRunner)


@pytest.mark.parametrize("path", HISTORIES, ids=lambda path: path.name.removesuffix(".json.gz"))
async def test_history_replays_under_the_workers_runner(path: Path) -> None:
    result = await REPLAYER.replay_workflow(load(path), raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure


async def test_the_journey_tests_sandbox_refuses_non_deterministic_workflow_code(
    env: WorkflowEnvironment,
) -> None:
    """The journey tests' workers (tests/workflows/journeys.py) use Worker's
    default runner, the sandbox: a planted clock read fails the run there."""
    task_queue = f"sandbox-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=task_queue, workflows=[ReadsTheClock]):
        with pytest.raises(WorkflowFailureError) as failed:
            await env.client.execute_workflow(
                ReadsTheClock.run,
                id=f"reads-the-clock-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
                execution_timeout=timedelta(minutes=1),
            )
    assert "datetime.now" in str(failed.value.cause), failed.value.cause
