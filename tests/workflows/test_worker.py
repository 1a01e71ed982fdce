"""`python -m workflows.worker` against the real dev server: polls, then stops cleanly."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from stack.temporal import TemporalDevServer
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process
from workflows.contracts.journeys import TASK_QUEUE


@pytest.fixture
def dev_server(logs_dir: Path) -> Iterator[TemporalDevServer]:
    server = TemporalDevServer(port=free_port(), ui_port=free_port(), headless=True)
    server.start(logs_dir / "temporal-worker-test.log")
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


async def workflow_pollers(client: Client) -> int:
    response = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace="default",
            task_queue=TaskQueue(name=TASK_QUEUE),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        )
    )
    return len(response.pollers)


async def test_worker_polls_the_task_queue_and_stops_on_sigterm(
    dev_server: TemporalDevServer, logs_dir: Path
) -> None:
    log_path = logs_dir / "worker.log"
    worker = start_module(
        "workflows.worker",
        {
            "TEMPORAL_ADDRESS": dev_server.address,
            "TEMPORAL_NAMESPACE": "default",
            # Nothing listens there; the worker must start anyway.
            "INVENTORY_ADDR": f"127.0.0.1:{free_port()}",
        },
        log_path,
    )
    try:
        client = await Client.connect(dev_server.address)
        for _ in range(300):
            if await workflow_pollers(client) > 0 or worker.poll() is not None:
                break
            await asyncio.sleep(0.1)
        assert worker.poll() is None, log_path.read_text()
        assert await workflow_pollers(client) > 0
    finally:
        status = stop_process(worker)

    assert status == 0, log_path.read_text()
    lines = log_path.read_text().splitlines()
    messages = [json.loads(line)["message"] for line in lines if line.startswith("{")]
    assert "worker stopped" in messages
