"""The orders service as a process, against real PostgreSQL and a real Temporal
dev server.

The journeys themselves are not under test here: a small stand-in workflow,
registered under the real workflow names, answers the updates the way the
contracts say and reports progress back over gRPC, as the real activities do.
Inventory is a tiny in-process catalog (GetProducts only).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
    Word,
)
from services.common.errors import NotFound
from services.common.grpc_errors import abort_with, describe_rpc_error
from services.common.temporal_codec import data_converter
from stack.temporal import TemporalDevServer
from tests.support.identity import trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    ERROR_INVALID_PICK,
    ERROR_INVALID_STATE,
    ERROR_WRONG_PICKUP_CODE,
    RETURN_WORKFLOW,
    TASK_QUEUE,
    ActionResult,
    CancelInput,
    HandoverInput,
    OrderInput,
    PickInput,
    PlacementResult,
    ReturnInput,
    return_workflow_id,
)

PICKUP_CODE = "4711"
CATALOG = {
    "TEE-1": (2500, 30),
    "MUG-1": (1200, 30),
    "HAT-1": (1800, 0),  # final sale: no return window
}


# ---------------------------------------------------------------- fake inventory


def wire(kind: type[Word], word: str) -> Any:
    """The wire number of a word; 99 (a number no enum has) for a word `kind` lacks."""
    found = kind.parse(word)
    return found.to_proto() if found is not None else 99  # type: ignore[attr-defined]


class CatalogOnly(inventory_pb2_grpc.InventoryServiceServicer):
    async def GetProducts(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        """As inventory answers: NOT_FOUND names the unknown SKUs (ResourceInfo)."""
        unknown = [sku for sku in request.skus if sku not in CATALOG]
        if unknown:
            await abort_with(
                context, NotFound(f"unknown sku {unknown[0]}", resource_type="product", ids=unknown)
            )
        products = []
        for sku in request.skus:
            price, days = CATALOG[sku]
            products.append(
                inventory_pb2.Product(
                    sku=sku,
                    name=sku,
                    price=common_pb2.Money(amount_minor=price, currency="USD"),
                    returnable_days=days,
                )
            )
        reply = inventory_pb2.GetProductsResponse(products=products)
        if request.location_id:
            # A pickup store's tax region (issue 13): none here, so no tax.
            reply.location.location_id = request.location_id
        return reply

    async def GetLocation(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        """Pricing asks a pickup store's tax region (issue 13): none here, so no tax."""
        return inventory_pb2.GetLocationResponse(
            location=inventory_pb2.Location(location_id=request.location_id)
        )


# ---------------------------------------------------------------- stand-in journey


@dataclass
class Progress:
    event_id: str
    order_id: str
    status: str = ""
    fulfillment_id: str = ""
    location_id: str = ""
    fulfillment_status: str = ""
    lines: list[tuple[str, int, int]] = field(default_factory=list)
    pickup_code: str = ""
    event_type: str = ""


@dataclass
class ReturnProgress:
    event_id: str
    return_id: str
    status: str


class OrdersActivities:
    def __init__(self, stub: orders_pb2_grpc.OrdersServiceStub) -> None:
        self.stub = stub

    @activity.defn(name="test_record_order_progress")
    async def record(self, progress: Progress) -> None:
        request = orders_pb2.RecordOrderProgressRequest(
            event_id=progress.event_id,
            order_id=progress.order_id,
            status=wire(OrderStatus, progress.status),
        )
        if progress.fulfillment_id:
            request.fulfillments.append(
                orders_pb2.Fulfillment(
                    fulfillment_id=progress.fulfillment_id,
                    type=FulfillmentType.PICKUP.to_proto(),
                    location_id=progress.location_id,
                    status=wire(FulfillmentStatus, progress.fulfillment_status),
                    pickup_code=progress.pickup_code,
                    lines=[
                        orders_pb2.FulfillmentLine(sku=s, quantity=q, quantity_picked=p)
                        for s, q, p in progress.lines
                    ],
                )
            )
        if progress.event_type:
            request.event.type = progress.event_type
        await self.stub.RecordOrderProgress(request)

    @activity.defn(name="test_peek_order")
    async def peek(self, order_id: str) -> str:
        """What a reader sees while the placement is still being decided."""
        try:
            await self.stub.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id))
        except grpc.aio.AioRpcError as error:
            return str(error.code().name)
        return "OK"

    @activity.defn(name="test_record_return_progress")
    async def record_return(self, progress: ReturnProgress) -> None:
        await self.stub.RecordReturnProgress(
            orders_pb2.RecordReturnProgressRequest(
                event_id=progress.event_id,
                return_id=progress.return_id,
                status=wire(ReturnStatus, progress.status),
                event=orders_pb2.OrderEvent(type="return_" + progress.status),
            )
        )


_ACTIVITY_TIMEOUT = timedelta(seconds=20)


@workflow.defn(name=BOPIS_WORKFLOW)
class StandInBopis:
    @workflow.init
    def __init__(self, order: OrderInput) -> None:
        self.order = order
        self.status = "pending"
        self.fulfillment_id = f"ful_{order.order_id}"

    @workflow.run
    async def run(self, order: OrderInput) -> str:
        await workflow.wait_condition(
            lambda: (
                self.status in ("completed", "cancelled", "rejected")
                and workflow.all_handlers_finished()
            )
        )
        return self.status

    def _lines(self, picked: dict[str, int] | None = None) -> list[tuple[str, int, int]]:
        return [
            (line.sku, line.quantity, (picked or {}).get(line.sku, 0)) for line in self.order.lines
        ]

    async def _record(self, step: str, **changes: Any) -> None:
        progress = Progress(
            event_id=f"{workflow.info().workflow_id}/{step}",
            order_id=self.order.order_id,
            **changes,
        )
        await workflow.execute_activity(
            "test_record_order_progress", progress, start_to_close_timeout=_ACTIVITY_TIMEOUT
        )

    @workflow.update(name="place")
    async def place(self) -> PlacementResult:
        if self.order.customer_id.startswith("peek"):
            seen = await workflow.execute_activity(
                "test_peek_order",
                self.order.order_id,
                start_to_close_timeout=_ACTIVITY_TIMEOUT,
                result_type=str,
            )
            self.status = "rejected"
            await self._record("rejected", status="rejected", event_type="order_rejected")
            return PlacementResult(False, "NO_SOURCE", "peeked", {"seen": seen})
        if self.order.customer_id.startswith("reject"):
            self.status = "rejected"
            await self._record("rejected", status="rejected", event_type="order_rejected")
            return PlacementResult(
                False, "INSUFFICIENT_STOCK", "not enough stock", {"sku": self.order.lines[0].sku}
            )
        self.status = "placed"
        await self._record(
            "placed",
            status="placed",
            fulfillment_id=self.fulfillment_id,
            location_id=self.order.pickup_location_id,
            fulfillment_status="pending",
            lines=self._lines(),
            pickup_code=PICKUP_CODE,
            event_type="order_placed",
        )
        return PlacementResult(True)

    @workflow.update(name="pick")
    async def pick(self, pick: PickInput) -> ActionResult:
        if self.status != "placed":
            raise ApplicationError("not pickable now", type=ERROR_INVALID_STATE)
        if all(line.quantity == 0 for line in pick.lines):
            raise ApplicationError("nothing picked: reject instead", type=ERROR_INVALID_PICK)
        self.status = "ready_for_pickup"
        await self._record(
            "picked",
            status="ready_for_pickup",
            fulfillment_id=self.fulfillment_id,
            fulfillment_status="ready_for_pickup",
            lines=self._lines({line.sku: line.quantity for line in pick.lines}),
            event_type="fulfillment_ready",
        )
        return ActionResult(self.status, self.fulfillment_id, "ready_for_pickup")

    @workflow.update(name="handover")
    async def handover(self, handover: HandoverInput) -> ActionResult:
        if self.status != "ready_for_pickup":
            raise ApplicationError("not ready", type=ERROR_INVALID_STATE)
        if handover.pickup_code != PICKUP_CODE:
            raise ApplicationError("wrong pickup code", type=ERROR_WRONG_PICKUP_CODE)
        await self._record(
            "handed_over",
            status="completed",
            fulfillment_id=self.fulfillment_id,
            fulfillment_status="picked_up",
            event_type="order_completed",
        )
        self.status = "completed"
        return ActionResult(self.status, self.fulfillment_id, "picked_up")

    @workflow.update(name="cancel")
    async def cancel(self, cancel: CancelInput) -> ActionResult:
        if self.status not in ("placed", "ready_for_pickup"):
            raise ApplicationError("too late to cancel", type=ERROR_INVALID_STATE)
        await self._record(
            "cancelled",
            status="cancelled",
            fulfillment_id=self.fulfillment_id,
            fulfillment_status="cancelled",
            event_type="order_cancelled",
        )
        self.status = "cancelled"
        return ActionResult(self.status)


@workflow.defn(name=RETURN_WORKFLOW)
class StandInReturn:
    @workflow.run
    async def run(self, request: ReturnInput) -> str:
        await workflow.execute_activity(
            "test_record_return_progress",
            ReturnProgress(
                f"{workflow.info().workflow_id}/awaiting", request.return_id, "awaiting_receipt"
            ),
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
        )
        return request.return_id


# ---------------------------------------------------------------- fixtures


@dataclass
class Stack:
    orders: orders_pb2_grpc.OrdersServiceStub
    temporal: Client
    inventory_addr: str


@pytest.fixture(scope="module")
def database_url(migrated_database: Any) -> str:
    # Alembic runs its own event loop, so this fixture is synchronous.
    url: str = migrated_database("orders")
    return url


@pytest.fixture(scope="module")
async def stack(database_url: str, logs_dir: Path) -> AsyncIterator[Stack]:

    inventory = grpc.aio.server()
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(CatalogOnly(), inventory)
    inventory_port = inventory.add_insecure_port("127.0.0.1:0")
    await inventory.start()

    temporal = TemporalDevServer(free_port(), free_port(), headless=True)
    temporal.start(logs_dir / "orders-temporal.log")
    orders_process = None
    channel = None
    try:
        temporal.wait_ready()
        orders_addr = f"127.0.0.1:{free_port()}"
        orders_process = start_module(
            "services.orders.main",
            {
                "DATABASE_URL": database_url,
                "GRPC_PORT": orders_addr.rsplit(":", 1)[1],
                "INVENTORY_ADDR": f"127.0.0.1:{inventory_port}",
                "TEMPORAL_ADDRESS": temporal.address,
                # This module drives the journey's `place` update through its
                # stand-in workflows; the orders-service placement path (which
                # needs inventory and payments) is tests/faults/test_placement_crash.py's
                # and tests/unit/test_orders_placement.py's.
                "PLACEMENT_BY_ORDERS": "false",
            },
            logs_dir / "orders-service.log",
        )
        wait_grpc_healthy(orders_addr, orders_process)
        channel = trusted_channel(orders_addr)
        stub = orders_pb2_grpc.OrdersServiceStub(channel)
        client = await Client.connect(temporal.address, data_converter=data_converter())
        worker = Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[StandInBopis, StandInReturn],
            activities=[
                OrdersActivities(stub).record,
                OrdersActivities(stub).peek,
                OrdersActivities(stub).record_return,
            ],
            workflow_runner=UnsandboxedWorkflowRunner(),
        )
        async with worker:
            yield Stack(stub, client, f"127.0.0.1:{inventory_port}")
    finally:
        if channel is not None:
            await channel.close()
        if orders_process is not None:
            stop_process(orders_process)
        temporal.stop()
        await inventory.stop(None)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def place_request(
    store_id: str,
    *,
    customer_id: str = "",
    lines: list[tuple[str, int]] | None = None,
    key: str = "",
    token: str = "tok_approve",
) -> orders_pb2.PlaceOrderRequest:
    return orders_pb2.PlaceOrderRequest(
        idempotency_key=key or unique("key"),
        customer_id=customer_id or unique("cust"),
        channel=Channel.WEB.to_proto(),
        lines=[common_pb2.SkuQuantity(sku=s, quantity=q) for s, q in (lines or [("TEE-1", 2)])],
        fulfillment=orders_pb2.FulfillmentRequest(
            type=FulfillmentType.PICKUP.to_proto(), location_id=store_id
        ),
        tenders=[payments_pb2.Tender(type=TenderType.CARD.to_proto(), token=token)],
    )


async def rpc_error(call: Any) -> Any:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    return describe_rpc_error(caught.value)


async def place(stack: Stack, store_id: str, **kwargs: Any) -> orders_pb2.Order:
    reply = await stack.orders.PlaceOrder(place_request(store_id, **kwargs))
    return reply.order


async def complete(stack: Stack, order: orders_pb2.Order) -> orders_pb2.Order:
    """Marks an order collected, the way the journey's activity reports it."""
    reply = await stack.orders.RecordOrderProgress(
        orders_pb2.RecordOrderProgressRequest(
            event_id=unique("evt"),
            order_id=order.order_id,
            status=OrderStatus.COMPLETED.to_proto(),
            fulfillments=[
                orders_pb2.Fulfillment(
                    fulfillment_id=order.fulfillments[0].fulfillment_id,
                    status=FulfillmentStatus.PICKED_UP.to_proto(),
                )
            ],
            event=orders_pb2.OrderEvent(type="order_completed"),
        )
    )
    return reply.order


def return_request(order_id: str, lines: list[tuple[str, int]], **kwargs: Any) -> Any:
    return orders_pb2.CreateReturnRequest(
        idempotency_key=kwargs.pop("key", None) or unique("rkey"),
        order_id=order_id,
        lines=[
            orders_pb2.ReturnLine(sku=s, quantity=q, condition=ItemCondition.SELLABLE.to_proto())
            for s, q in lines
        ],
        method=wire(ReturnMethod, kwargs.pop("method", "in_store")),
        location_id=kwargs.pop("location_id", "S-RETURNS"),
        **kwargs,
    )


# ---------------------------------------------------------------- placing


async def test_place_order_answers_with_the_placed_order(stack: Stack) -> None:
    store_id = unique("S")
    request = place_request(store_id, lines=[("TEE-1", 2), ("MUG-1", 1), ("TEE-1", 1)])

    order = (await stack.orders.PlaceOrder(request)).order

    assert OrderStatus.from_proto(order.status) == "placed"
    assert order.workflow_id == f"order-{order.order_id}"
    assert order.order_id.startswith("ord_")
    assert [(line.sku, line.quantity) for line in order.lines] == [("TEE-1", 3), ("MUG-1", 1)]
    assert order.lines[0].unit_price.amount_minor == 2500
    assert order.lines[0].returnable_days == 30
    assert order.total.amount_minor == 3 * 2500 + 1200
    assert order.total.currency == "USD"
    assert order.fulfillment_request.location_id == store_id
    assert [
        (FulfillmentStatus.from_proto(f.status), f.location_id) for f in order.fulfillments
    ] == [("pending", store_id)]
    assert [e.type for e in order.events] == ["order_placed"]
    fetched = await stack.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order.order_id))
    assert OrderStatus.from_proto(fetched.order.status) == "placed"


async def test_place_order_retry_returns_the_same_order_and_reused_key_conflicts(
    stack: Stack,
) -> None:
    request = place_request(unique("S"))
    first = (await stack.orders.PlaceOrder(request)).order
    again = (await stack.orders.PlaceOrder(request)).order
    assert again.order_id == first.order_id
    assert len(again.events) == 1

    changed = orders_pb2.PlaceOrderRequest()
    changed.CopyFrom(request)
    changed.lines[0].quantity = 5
    info = await rpc_error(stack.orders.PlaceOrder(changed))
    assert info.code == grpc.StatusCode.FAILED_PRECONDITION
    assert info.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_rejected_placement_is_a_business_rule_and_stays_hidden(stack: Stack) -> None:
    request = place_request(unique("S"), customer_id=unique("reject"))
    info = await rpc_error(stack.orders.PlaceOrder(request))
    assert info.code == grpc.StatusCode.FAILED_PRECONDITION
    assert info.reason == "INSUFFICIENT_STOCK"
    assert info.metadata == {"sku": "TEE-1"}

    # The retry answers the same way, from the stored refusal.
    again = await rpc_error(stack.orders.PlaceOrder(request))
    assert (again.code, again.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")


async def test_pending_order_is_not_visible(stack: Stack) -> None:
    # The stand-in reads the order while its placement is being decided.
    request = place_request(unique("S"), customer_id=unique("peek"))
    info = await rpc_error(stack.orders.PlaceOrder(request))
    assert info.reason == "NO_SOURCE"
    assert info.metadata["seen"] == "NOT_FOUND"


async def test_place_order_validation_names_fields(stack: Stack) -> None:
    card_number = "4111 1111 1111 1111"
    info = await rpc_error(stack.orders.PlaceOrder(place_request(unique("S"), token=card_number)))
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in info.violations] == ["tenders[0].token"]
    assert "4111" not in info.message

    info = await rpc_error(
        stack.orders.PlaceOrder(place_request(unique("S"), lines=[("NOPE-9", 1)]))
    )
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in info.violations] == ["lines[0].sku"]
    assert "NOPE-9" in info.violations[0].message

    bad = place_request("")
    bad.lines[0].quantity = 0
    info = await rpc_error(stack.orders.PlaceOrder(bad))
    assert {v.field for v in info.violations} == {"lines[0].quantity", "fulfillment.location_id"}

    no_key = place_request(unique("S"))
    no_key.idempotency_key = ""
    info = await rpc_error(stack.orders.PlaceOrder(no_key))
    assert [v.field for v in info.violations] == ["idempotency_key"]


# ---------------------------------------------------------------- progress and tasks


async def test_record_order_progress_is_idempotent_and_upserts_fulfillments(stack: Stack) -> None:
    order = await place(stack, unique("S"))
    fulfillment_id = order.fulfillments[0].fulfillment_id
    request = orders_pb2.RecordOrderProgressRequest(
        event_id=unique("evt"),
        order_id=order.order_id,
        status=OrderStatus.IN_FULFILLMENT.to_proto(),
        fulfillments=[
            orders_pb2.Fulfillment(
                fulfillment_id=fulfillment_id,
                status=FulfillmentStatus.PICKING.to_proto(),
                lines=[orders_pb2.FulfillmentLine(sku="TEE-1", quantity=2, quantity_picked=1)],
            )
        ],
        event=orders_pb2.OrderEvent(type="picking_started", detail="by A1"),
    )
    first = (await stack.orders.RecordOrderProgress(request)).order
    second = (await stack.orders.RecordOrderProgress(request)).order

    assert [e.type for e in second.events] == ["order_placed", "picking_started"]
    assert second == first
    assert OrderStatus.from_proto(second.status) == "in_fulfillment"
    assert len(second.fulfillments) == 1
    assert FulfillmentStatus.from_proto(second.fulfillments[0].status) == "picking"
    assert second.fulfillments[0].lines[0].quantity_picked == 1
    assert second.fulfillments[0].pickup_code == PICKUP_CODE  # kept when not resent

    later = orders_pb2.RecordOrderProgressRequest(
        event_id=unique("evt"),
        order_id=order.order_id,
        fulfillments=[
            orders_pb2.Fulfillment(
                fulfillment_id=fulfillment_id, status=FulfillmentStatus.REROUTED.to_proto()
            )
        ],
    )
    third = (await stack.orders.RecordOrderProgress(later)).order
    assert OrderStatus.from_proto(third.status) == "in_fulfillment"
    assert [FulfillmentStatus.from_proto(f.status) for f in third.fulfillments] == ["rerouted"]

    bad = orders_pb2.RecordOrderProgressRequest(
        event_id=unique("evt"), order_id=order.order_id, status=wire(OrderStatus, "teleported")
    )
    info = await rpc_error(stack.orders.RecordOrderProgress(bad))
    assert [v.field for v in info.violations] == ["status"]

    missing = orders_pb2.RecordOrderProgressRequest(event_id=unique("evt"), order_id="ord_nope")
    info = await rpc_error(stack.orders.RecordOrderProgress(missing))
    assert info.code == grpc.StatusCode.NOT_FOUND


async def test_list_store_tasks_filters_by_store_and_type_and_pages(stack: Stack) -> None:
    store_a, store_b = unique("SA"), unique("SB")
    to_pick = await place(stack, store_a)
    to_collect = await place(stack, store_a)
    elsewhere = await place(stack, store_b)
    await stack.orders.PickFulfillment(
        orders_pb2.PickFulfillmentRequest(
            fulfillment_id=to_collect.fulfillments[0].fulfillment_id,
            lines=[common_pb2.SkuQuantity(sku="TEE-1", quantity=2)],
        )
    )
    returned = await complete(stack, await place(stack, unique("SC")))
    created = await stack.orders.CreateReturn(
        return_request(returned.order_id, [("TEE-1", 1)], location_id=store_a)
    )

    async def tasks(store_id: str, task_type: str = "", **kw: Any) -> Any:
        return await stack.orders.ListStoreTasks(
            orders_pb2.ListStoreTasksRequest(
                store_id=store_id, type=wire(TaskType, task_type) if task_type else None, **kw
            )
        )

    picks = (await tasks(store_a, "pick")).tasks
    assert [(TaskType.from_proto(t.type), t.order_id) for t in picks] == [
        ("pick", to_pick.order_id)
    ]
    pickups = (await tasks(store_a, "pickup")).tasks
    assert [(TaskType.from_proto(t.type), t.order_id) for t in pickups] == [
        ("pickup", to_collect.order_id)
    ]
    return_tasks = (await tasks(store_a, "return")).tasks
    assert [(TaskType.from_proto(t.type), t.return_id) for t in return_tasks] == [
        ("return", getattr(created, "return").return_id)
    ]
    assert [t.order_id for t in (await tasks(store_b)).tasks] == [elsewhere.order_id]

    everything = (await tasks(store_a)).tasks
    assert len(everything) == 3
    seen, token = [], ""
    while True:
        page = await tasks(store_a, limit=1, page_token=token)
        seen += [t.fulfillment_id or t.return_id for t in page.tasks]
        token = page.next_page_token
        if not token:
            break
    assert seen == [t.fulfillment_id or t.return_id for t in everything]

    info = await rpc_error(tasks(store_a, "laundry"))
    assert [v.field for v in info.violations] == ["type"]


# ---------------------------------------------------------------- store actions


async def test_pick_and_handover_go_through_the_journey(stack: Stack) -> None:
    order = await place(stack, unique("S"))
    fulfillment_id = order.fulfillments[0].fulfillment_id

    info = await rpc_error(
        stack.orders.PickFulfillment(
            orders_pb2.PickFulfillmentRequest(
                fulfillment_id=fulfillment_id,
                lines=[common_pb2.SkuQuantity(sku="MUG-1", quantity=1)],
            )
        )
    )
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT  # not in this fulfillment

    info = await rpc_error(
        stack.orders.PickFulfillment(
            orders_pb2.PickFulfillmentRequest(
                fulfillment_id=fulfillment_id,
                lines=[common_pb2.SkuQuantity(sku="TEE-1", quantity=0)],
            )
        )
    )
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT  # refused by the journey

    picked = await stack.orders.PickFulfillment(
        orders_pb2.PickFulfillmentRequest(
            fulfillment_id=fulfillment_id,
            lines=[common_pb2.SkuQuantity(sku="TEE-1", quantity=2)],
        )
    )
    assert FulfillmentStatus.from_proto(picked.fulfillment.status) == "ready_for_pickup"
    assert picked.fulfillment.lines[0].quantity_picked == 2

    info = await rpc_error(
        stack.orders.HandoverFulfillment(
            orders_pb2.HandoverFulfillmentRequest(fulfillment_id=fulfillment_id, pickup_code="0")
        )
    )
    assert (info.code, info.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "WRONG_PICKUP_CODE")

    handed = await stack.orders.HandoverFulfillment(
        orders_pb2.HandoverFulfillmentRequest(
            fulfillment_id=fulfillment_id, pickup_code=PICKUP_CODE
        )
    )
    assert FulfillmentStatus.from_proto(handed.fulfillment.status) == "picked_up"

    info = await rpc_error(
        stack.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id=order.order_id))
    )
    assert (info.code, info.reason) == (grpc.StatusCode.ABORTED, "INVALID_STATE")

    info = await rpc_error(
        stack.orders.ShipFulfillment(
            orders_pb2.ShipFulfillmentRequest(fulfillment_id=fulfillment_id, carrier="UPS")
        )
    )
    assert [v.field for v in info.violations] == ["tracking_number"]


async def test_cancel_order_goes_through_the_journey(stack: Stack) -> None:
    order = await place(stack, unique("S"))
    cancelled = await stack.orders.CancelOrder(
        orders_pb2.CancelOrderRequest(order_id=order.order_id, reason="changed mind")
    )
    assert OrderStatus.from_proto(cancelled.order.status) == "cancelled"
    assert [FulfillmentStatus.from_proto(f.status) for f in cancelled.order.fulfillments] == [
        "cancelled"
    ]

    info = await rpc_error(
        stack.orders.CancelOrder(orders_pb2.CancelOrderRequest(order_id="ord_missing"))
    )
    assert info.code == grpc.StatusCode.NOT_FOUND


# ---------------------------------------------------------------- returns


async def test_create_return_refunds_captured_prices_and_starts_its_journey(
    stack: Stack,
) -> None:
    order = await complete(stack, await place(stack, unique("S"), lines=[("TEE-1", 2)]))
    request = return_request(order.order_id, [("TEE-1", 1)], method="mail", location_id="")

    created = getattr(await stack.orders.CreateReturn(request), "return")
    again = getattr(await stack.orders.CreateReturn(request), "return")

    assert again.return_id == created.return_id
    assert created.return_id.startswith("ret_")
    assert ReturnStatus.from_proto(created.status) == "requested"
    assert created.refund.amount_minor == 2500
    assert created.customer_id == order.customer_id
    assert Channel.from_proto(created.channel) == "web"
    assert created.workflow_id == return_workflow_id(created.return_id)
    handle = stack.temporal.get_workflow_handle(created.workflow_id)
    assert await handle.result() == created.return_id
    fetched = getattr(
        await stack.orders.GetReturn(orders_pb2.GetReturnRequest(return_id=created.return_id)),
        "return",
    )
    assert ReturnStatus.from_proto(fetched.status) == "awaiting_receipt"
    assert [e.type for e in fetched.events] == ["return_awaiting_receipt"]
    reread = await stack.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order.order_id))
    assert reread.order.lines[0].returned_quantity == 1


async def test_return_quantities_are_held_and_given_back_when_rejected(stack: Stack) -> None:
    order = await complete(stack, await place(stack, unique("S"), lines=[("TEE-1", 2)]))
    first = getattr(
        await stack.orders.CreateReturn(return_request(order.order_id, [("TEE-1", 2)])), "return"
    )

    info = await rpc_error(
        stack.orders.CreateReturn(return_request(order.order_id, [("TEE-1", 1)]))
    )
    assert (info.code, info.reason) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "RETURN_QUANTITY_EXCEEDED",
    )

    rejected = orders_pb2.RecordReturnProgressRequest(
        event_id=unique("evt"),
        return_id=first.return_id,
        status=ReturnStatus.REJECTED.to_proto(),
    )
    await stack.orders.RecordReturnProgress(rejected)
    await stack.orders.RecordReturnProgress(rejected)  # a repeat gives nothing back twice
    reread = await stack.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order.order_id))
    assert reread.order.lines[0].returned_quantity == 0

    second = getattr(
        await stack.orders.CreateReturn(return_request(order.order_id, [("TEE-1", 2)])), "return"
    )
    assert second.refund.amount_minor == 5000


async def test_create_return_validation(stack: Stack) -> None:
    placed = await place(stack, unique("S"), lines=[("TEE-1", 1), ("HAT-1", 1)])

    info = await rpc_error(
        stack.orders.CreateReturn(return_request(placed.order_id, [("TEE-1", 1)]))
    )
    assert (info.code, info.reason) == (grpc.StatusCode.ABORTED, "INVALID_STATE")

    order = await complete(stack, placed)
    cases = [
        (return_request(order.order_id, [("TEE-1", 2)]), "RETURN_QUANTITY_EXCEEDED"),
        (return_request(order.order_id, [("HAT-1", 1)]), "RETURN_WINDOW_CLOSED"),
    ]
    for request, reason in cases:
        info = await rpc_error(stack.orders.CreateReturn(request))
        assert (info.code, info.reason) == (grpc.StatusCode.FAILED_PRECONDITION, reason)

    invalid = [
        (return_request(order.order_id, [("MUG-1", 1)]), "lines[0].sku"),
        (return_request(order.order_id, [("TEE-1", 1)], method="courier"), "method"),
        (return_request(order.order_id, [("TEE-1", 1)], location_id=""), "location_id"),
        (return_request(order.order_id, [("TEE-1", 0)]), "lines[0].quantity"),
    ]
    for request, field_name in invalid:
        info = await rpc_error(stack.orders.CreateReturn(request))
        assert info.code == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in info.violations] == [field_name]

    info = await rpc_error(stack.orders.CreateReturn(return_request("ord_missing", [("TEE-1", 1)])))
    assert info.code == grpc.StatusCode.NOT_FOUND
    reread = await stack.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order.order_id))
    assert [line.returned_quantity for line in reread.order.lines] == [0, 0]


async def test_place_order_without_temporal_is_unavailable_and_leaves_nothing_visible(
    stack: Stack, database_url: str, logs_dir: Path
) -> None:
    # A second orders process whose Temporal address has nobody listening.
    address = f"127.0.0.1:{free_port()}"
    process = start_module(
        "services.orders.main",
        {
            "DATABASE_URL": database_url,
            "GRPC_PORT": address.rsplit(":", 1)[1],
            "INVENTORY_ADDR": stack.inventory_addr,
            "TEMPORAL_ADDRESS": f"127.0.0.1:{free_port()}",
            "PLACEMENT_BY_ORDERS": "false",
        },
        logs_dir / "orders-no-temporal.log",
    )
    try:
        wait_grpc_healthy(address, process)
        async with trusted_channel(address) as channel:
            orders = orders_pb2_grpc.OrdersServiceStub(channel)
            request = place_request(unique("S"))
            info = await rpc_error(orders.PlaceOrder(request))
            assert info.code == grpc.StatusCode.UNAVAILABLE
    finally:
        stop_process(process)
    # The key kept the order id: the retry, with Temporal back, places that order.
    order = (await stack.orders.PlaceOrder(request)).order
    assert OrderStatus.from_proto(order.status) == "placed"
    again = (await stack.orders.PlaceOrder(request)).order
    assert again.order_id == order.order_id


async def test_concurrent_returns_cannot_over_return(stack: Stack) -> None:
    order = await complete(stack, await place(stack, unique("S"), lines=[("TEE-1", 2)]))
    results = await asyncio.gather(
        *(
            stack.orders.CreateReturn(return_request(order.order_id, [("TEE-1", 2)]))
            for _ in range(4)
        ),
        return_exceptions=True,
    )
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [describe_rpc_error(r) for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(created) == 1
    assert [info.reason for info in refused] == ["RETURN_QUANTITY_EXCEEDED"] * 3
    reread = await stack.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order.order_id))
    assert reread.order.lines[0].returned_quantity == 2


# ---------------------------------------------------------------- curbside and mail receipts


async def test_customer_arrival_is_recorded_once_and_listed_first(stack: Stack) -> None:
    store_id = unique("S")
    waiting, arriving = await place(stack, store_id), await place(stack, store_id)
    for order in (waiting, arriving):
        await stack.orders.PickFulfillment(
            orders_pb2.PickFulfillmentRequest(
                fulfillment_id=order.fulfillments[0].fulfillment_id,
                lines=[common_pb2.SkuQuantity(sku="TEE-1", quantity=2)],
            )
        )
    fulfillment_id = arriving.fulfillments[0].fulfillment_id

    def arrive(note: str, fid: str = fulfillment_id) -> Any:
        return stack.orders.MarkCustomerArrived(
            orders_pb2.MarkCustomerArrivedRequest(fulfillment_id=fid, note=note)
        )

    info = await rpc_error(arrive("x" * 501))
    assert [v.field for v in info.violations] == ["note"]
    first = (await arrive("red car")).fulfillment
    again = (await arrive("still here")).fulfillment
    assert first.HasField("arrived_at") and first.arrival_note == "red car"
    assert (again.arrived_at, again.arrival_note) == (first.arrived_at, "red car")

    tasks = await stack.orders.ListStoreTasks(orders_pb2.ListStoreTasksRequest(store_id=store_id))
    assert [t.order_id for t in tasks.tasks] == [arriving.order_id, waiting.order_id]
    assert tasks.tasks[0].arrival_note == "red car"
    assert not tasks.tasks[1].HasField("arrived_at")
    order = await stack.orders.GetOrder(orders_pb2.GetOrderRequest(order_id=arriving.order_id))
    assert [e.type for e in order.order.events].count("customer_arrived") == 1

    info = await rpc_error(
        stack.orders.MarkCustomerArrived(
            orders_pb2.MarkCustomerArrivedRequest(
                fulfillment_id=(await place(stack, store_id)).fulfillments[0].fulfillment_id
            )
        )
    )
    assert (info.code, info.reason) == (grpc.StatusCode.ABORTED, "INVALID_STATE")
    info = await rpc_error(arrive("", "ful_missing"))
    assert info.code == grpc.StatusCode.NOT_FOUND


async def test_receive_return_checks_the_return_and_the_parcel(stack: Stack) -> None:
    order = await complete(stack, await place(stack, unique("S"), lines=[("TEE-1", 2)]))
    by_mail = getattr(
        await stack.orders.CreateReturn(
            return_request(order.order_id, [("TEE-1", 2)], method="mail", location_id="")
        ),
        "return",
    )

    def receive(return_id: str, location_id: str, *lines: tuple[str, int, str]) -> Any:
        return stack.orders.ReceiveReturn(
            orders_pb2.ReceiveReturnRequest(
                return_id=return_id,
                location_id=location_id,
                lines=[
                    orders_pb2.ReturnLine(sku=s, quantity=q, condition=wire(ItemCondition, c))
                    for s, q, c in lines
                ],
            )
        )

    info = await rpc_error(
        receive(
            by_mail.return_id,
            "",
            ("MUG-1", 1, "sellable"),
            ("TEE-1", 2, "sellable"),
            ("TEE-1", 1, "damaged"),
            ("TEE-1", 1, "used"),
        )
    )
    assert [v.field for v in info.violations] == [
        "location_id",
        "lines[0].sku",
        "lines[2].quantity",
        "lines[3].condition",
        "lines[3].quantity",
    ]
    info = await rpc_error(receive(by_mail.return_id, "W1"))
    assert [v.field for v in info.violations] == ["lines"]
    info = await rpc_error(receive("ret_missing", "W1", ("TEE-1", 1, "sellable")))
    assert info.code == grpc.StatusCode.NOT_FOUND

    other = await complete(stack, await place(stack, unique("S"), lines=[("TEE-1", 1)]))
    in_store = getattr(
        await stack.orders.CreateReturn(return_request(other.order_id, [("TEE-1", 1)])), "return"
    )
    info = await rpc_error(receive(in_store.return_id, "W1", ("TEE-1", 1, "sellable")))
    assert (info.code, info.reason) == (grpc.StatusCode.ABORTED, "INVALID_STATE")
    reread = await stack.orders.GetReturn(orders_pb2.GetReturnRequest(return_id=by_mail.return_id))
    assert getattr(reread, "return").location_id == ""
