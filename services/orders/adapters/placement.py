"""Starting an order's journey with the placement the orders service took
(OrderInput.placed), or with `abandoned` when recovery takes over a placement
that stopped half way. One run per order id, ever: a start finds a journey
already there instead of starting a second one, and then reads what that
journey was started with (its first history event).
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from omni.words import FulfillmentType
from services.common.errors import Unavailable
from services.common.telemetry import current_traceparent, tag_span
from services.orders.adapters.journeys import (
    TRACEPARENT_MEMO,
    TemporalJourneys,
    search_attributes,
)
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import OrderRecord
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    SHIP_FROM_STORE_WORKFLOW,
    TASK_QUEUE,
    OrderInput,
    PlacedInput,
    order_summary,
    order_workflow_id,
)

logger = logging.getLogger(__name__)


class TemporalPlacements:
    def __init__(self, journeys: TemporalJourneys) -> None:
        self._journeys = journeys

    async def _start(self, order: OrderRecord, journey_input: OrderInput, store_id: str) -> bool:
        client = await self._journeys.client()
        workflow = (
            BOPIS_WORKFLOW
            if order.fulfillment_type == FulfillmentType.PICKUP
            else SHIP_FROM_STORE_WORKFLOW
        )
        try:
            await client.start_workflow(
                workflow,
                journey_input,
                id=order_workflow_id(order.order_id),
                # Not USE_EXISTING: the caller must learn that a journey is
                # already there (recovery's, or an earlier attempt's) and read it.
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                # An order id never gets a second run, even after the first ended.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                task_queue=TASK_QUEUE,
                search_attributes=search_attributes(
                    order.order_id, order.customer_id, store_id, order.channel
                ),
                memo={TRACEPARENT_MEMO: current_traceparent()},
                static_summary=order_summary(journey_input, store_id),
            )
        except WorkflowAlreadyStartedError:
            return False
        except RPCError as error:
            raise Unavailable(f"temporal: {error.message}") from error
        return True

    async def start_placed(
        self,
        order: OrderRecord,
        tenders: list[RequestedTender],
        placed: PlacedInput,
        store_id: str,
    ) -> bool:
        """Starts `order-<id>` with the hold and authorizations; False when a
        journey for the order already exists (nothing started)."""
        tag_span(order_id=order.order_id, store_id=store_id, channel=order.channel)
        journey_input = self._journeys.order_input(order, tenders)
        journey_input.placed = placed
        return await self._start(order, journey_input, store_id)

    async def start_abandoned(self, order: OrderRecord) -> bool:
        """Starts `order-<id>` to give back whatever the placement took; False
        when a journey for the order already exists."""
        journey_input = self._journeys.order_input(order, [])
        journey_input.abandoned = True
        return await self._start(order, journey_input, order.location_id)

    async def started_with(self, order_id: str) -> OrderInput | None:
        """What `order-<id>` was started with; None when there is no such journey."""
        client: Client = await self._journeys.client()
        handle = client.get_workflow_handle(order_workflow_id(order_id))
        try:
            async for event in handle.fetch_history_events(page_size=1):
                started = event.workflow_execution_started_event_attributes
                values: list[Any] = await client.data_converter.decode(
                    list(started.input.payloads), [OrderInput]
                )
                found = values[0]
                return found if isinstance(found, OrderInput) else None
        except RPCError as error:
            if error.status == RPCStatusCode.NOT_FOUND:
                return None
            raise Unavailable(f"temporal: {error.message}") from error
        return None
