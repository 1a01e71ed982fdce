"""Helpers that drive the journeys the way the orders service does."""

from __future__ import annotations

import gzip
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.worker import Worker

from tests.workflows.fakes import FakeServices
from workflows.contracts.journeys import (
    PLACE_UPDATE,
    AddressInput,
    LineInput,
    OrderInput,
    PlacementResult,
    TenderInput,
    order_workflow_id,
)
from workflows.delivery.workflow import DeliveryWorkflow
from workflows.order.bopis import BopisWorkflow
from workflows.order.ship_from_store import ShipFromStoreWorkflow
from workflows.order.shipment import ShipmentWorkflow
from workflows.returns.workflow import ReturnWorkflow


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def running_worker(client: Client, fakes: FakeServices) -> AsyncIterator[str]:
    """A worker with the real workflows and the fake activities; yields its task queue.

    Each test has its own queue, so no other test's fakes can answer.
    """
    task_queue = unique("journeys")
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[
            BopisWorkflow,
            ShipFromStoreWorkflow,
            ShipmentWorkflow,
            ReturnWorkflow,
            DeliveryWorkflow,
        ],
        activities=fakes.activities(),
    ):
        yield task_queue


def order(
    *,
    fulfillment_type: str = "pickup",
    lines: list[LineInput] | None = None,
    tenders: list[TenderInput] | None = None,
    location_id: str = "store-1",
) -> OrderInput:
    return OrderInput(
        order_id=unique("ord"),
        customer_id=unique("cus"),
        channel="web",
        currency="USD",
        lines=lines or [LineInput("SKU-A", 2, 500), LineInput("SKU-B", 1, 300)],
        tenders=tenders or [TenderInput("card", token="tok_visa")],
        fulfillment_type=fulfillment_type,
        pickup_location_id=location_id if fulfillment_type == "pickup" else "",
        address=(
            AddressInput("1 Main St", "Springfield", "12345", "US", 40.0, -75.0)
            if fulfillment_type == "ship"
            else None
        ),
    )


async def place(
    client: Client, workflow: str, order_input: OrderInput, task_queue: str
) -> tuple[PlacementResult, WorkflowHandle[Any, Any]]:
    """Update-with-start, as services/orders/adapters/journeys.py sends it.

    (The test server has no custom search attributes, so none are set here.)
    """
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        workflow,
        order_input,
        id=order_workflow_id(order_input.order_id),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=task_queue,
    )
    result: PlacementResult = await client.execute_update_with_start_workflow(
        PLACE_UPDATE,
        start_workflow_operation=start,
        id=PLACE_UPDATE,
        result_type=PlacementResult,
    )
    return result, await start.workflow_handle()


HISTORIES = Path(__file__).parent / "histories"


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With OMNI_RECORD_HISTORIES=1, writes the run's history to histories/
    for test_replay (how new branches are recorded)."""
    if not os.environ.get("OMNI_RECORD_HISTORIES"):
        return
    history = await handle.fetch_history()
    (HISTORIES / f"{name}.json.gz").write_bytes(gzip.compress(history.to_json().encode()))
