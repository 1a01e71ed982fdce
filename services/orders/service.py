"""The OrdersService servicer: parse and validate, domain + store in one unit of
work, talk to the journeys, map back. Domain errors go to the interceptor."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
from sqlalchemy.ext.asyncio import AsyncSession

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from services.common.db import Database
from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.grpc_errors import describe_rpc_error
from services.common.idempotency import request_fingerprint, validate_key
from services.orders import domain, mapping, store
from services.orders.domain import (
    CatalogPrice,
    Event,
    FulfillmentRecord,
    OrderRecord,
    ReturnLineRecord,
    ReturnRecord,
)
from services.orders.journeys import Journeys
from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    REJECT_UPDATE,
    SHIP_UPDATE,
    CancelInput,
    HandoverInput,
    LineInput,
    PickInput,
    ReceiveInput,
    RejectInput,
    ReturnLineInput,
    ShipInput,
    order_workflow_id,
    return_workflow_id,
)

INVENTORY_TIMEOUT_SECONDS = 10.0
# A customer and the ids merged into it; orders.customer_id is String(128).
MAX_ERASE_IDS = 100
MAX_CUSTOMER_ID_LENGTH = 128


def _required(value: str, name: str) -> str:
    if not value:
        raise InvalidArgument.field(name, "is required")
    return value


def _now() -> datetime:
    return datetime.now(UTC)


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(
        self,
        database: Database,
        inventory: inventory_pb2_grpc.InventoryServiceStub,
        journeys: Journeys,
    ) -> None:
        self._db = database
        self._inventory = inventory
        self._journeys = journeys

    # ------------------------------------------------------------ placing

    async def PlaceOrder(
        self, request: orders_pb2.PlaceOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PlaceOrderResponse:
        mapping.reject_card_numbers(request)
        validate_key(request.idempotency_key)
        wanted = domain.validate_order_request(mapping.order_request(request))
        catalog = await self._catalog([line.sku for line in wanted.lines])
        priced = domain.price_order(wanted.lines, catalog)
        tenders = domain.settle_tenders(wanted.tenders, priced.total_minor)

        # The key and the pending order are committed before Temporal is asked,
        # so a retry or a concurrent duplicate finds the same order id.
        async with self._db.transaction() as session:
            order_id, created = await store.claim_key(
                session,
                request.idempotency_key,
                "order",
                domain.new_order_id(),
                request_fingerprint(request),
            )
            if created:
                await store.insert_pending_order(
                    session, order_id, order_workflow_id(order_id), wanted, priced
                )
            order = await self._order(session, order_id, visible_only=False)
        if order.status == "rejected":
            raise self._rejection(order)
        if order.status == "pending":
            store_id = order.location_id or wanted.store_id
            result = await self._journeys.place(order, tenders, store_id)
            if not result.accepted:
                async with self._db.transaction() as session:
                    await store.mark_rejected(
                        session, order_id, result.reason, result.message, dict(result.details)
                    )
                raise BusinessRuleViolation(
                    result.reason or "ORDER_REJECTED", result.message, dict(result.details)
                )
            async with self._db.transaction() as session:
                order = await self._order(session, order_id, visible_only=False)
        return orders_pb2.PlaceOrderResponse(order=mapping.order_proto(order))

    async def _catalog(self, skus: list[str]) -> dict[str, CatalogPrice]:
        try:
            reply = await self._inventory.GetProducts(
                inventory_pb2.GetProductsRequest(skus=skus), timeout=INVENTORY_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError as error:
            info = describe_rpc_error(error)
            if info.code == grpc.StatusCode.NOT_FOUND:
                raise await self._unknown_sku(skus, info.message) from error
            raise Unavailable(f"inventory: {info.message}") from error
        catalog = {product.sku: mapping.catalog_price(product) for product in reply.products}
        missing = [sku for sku in skus if sku not in catalog]
        if missing:
            raise InvalidArgument.field(
                f"lines[{skus.index(missing[0])}].sku", f"unknown sku {missing[0]}"
            )
        return catalog

    async def _unknown_sku(self, skus: list[str], message: str) -> InvalidArgument:
        """Names the first unknown SKU (inventory's message may not say which)."""
        for index, sku in enumerate(skus):
            if sku in message:
                return InvalidArgument.field(f"lines[{index}].sku", f"unknown sku {sku}")
        for index, sku in enumerate(skus):
            try:
                await self._inventory.GetProducts(
                    inventory_pb2.GetProductsRequest(skus=[sku]),
                    timeout=INVENTORY_TIMEOUT_SECONDS,
                )
            except grpc.aio.AioRpcError as error:
                if error.code() == grpc.StatusCode.NOT_FOUND:
                    return InvalidArgument.field(f"lines[{index}].sku", f"unknown sku {sku}")
        return InvalidArgument.field("lines", message or "unknown sku")

    @staticmethod
    def _rejection(order: OrderRecord) -> BusinessRuleViolation:
        return BusinessRuleViolation(
            order.rejection_reason or "ORDER_REJECTED",
            order.rejection_message or "the order was not placed",
            order.rejection_details,
        )

    # ------------------------------------------------------------ reading

    async def _order(
        self, session: AsyncSession, order_id: str, *, visible_only: bool = True
    ) -> OrderRecord:
        order = await store.load_order(session, order_id)
        if order is None or (visible_only and not order.visible):
            raise NotFound(f"order {order_id} not found")
        return order

    async def _visible_order(self, order_id: str) -> OrderRecord:
        async with self._db.transaction() as session:
            return await self._order(session, order_id)

    async def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        _required(request.order_id, "order_id")
        order = await self._visible_order(request.order_id)
        return orders_pb2.GetOrderResponse(order=mapping.order_proto(order))

    async def _fulfillment(self, fulfillment_id: str) -> FulfillmentRecord:
        _required(fulfillment_id, "fulfillment_id")
        async with self._db.transaction() as session:
            fulfillment = await store.load_fulfillment(session, fulfillment_id)
        if fulfillment is None:
            raise NotFound(f"fulfillment {fulfillment_id} not found")
        return fulfillment

    async def GetFulfillment(
        self, request: orders_pb2.GetFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetFulfillmentResponse:
        fulfillment = await self._fulfillment(request.fulfillment_id)
        return orders_pb2.GetFulfillmentResponse(fulfillment=mapping.fulfillment_proto(fulfillment))

    async def ListStoreTasks(
        self, request: orders_pb2.ListStoreTasksRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListStoreTasksResponse:
        _required(request.store_id, "store_id")
        if request.type and request.type not in domain.TASK_TYPES:
            raise InvalidArgument.field("type", "must be pick, pickup, return or empty")
        types = (request.type,) if request.type else domain.TASK_TYPES
        size = domain.page_size(request.limit)
        after = domain.decode_cursor(request.page_token)
        async with self._db.transaction() as session:
            tasks = await store.list_store_tasks(session, request.store_id, types, after, size + 1)
        next_token = domain.encode_cursor(tasks[size - 1].cursor) if len(tasks) > size else ""
        return orders_pb2.ListStoreTasksResponse(
            tasks=[mapping.store_task_proto(task) for task in tasks[:size]],
            next_page_token=next_token,
        )

    # ------------------------------------------------------------ store actions

    async def _act_on_fulfillment(
        self, fulfillment: FulfillmentRecord, update: str, action: object
    ) -> orders_pb2.Fulfillment:
        """Hands a store action to the order's journey, then answers with the
        fulfillment as the journey left it."""
        await self._journeys.act(fulfillment.order_id, update, action)
        return mapping.fulfillment_proto(await self._fulfillment(fulfillment.fulfillment_id))

    async def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CancelOrderResponse:
        _required(request.order_id, "order_id")
        order = await self._visible_order(request.order_id)
        domain.check_cancellable(order.status)
        await self._journeys.act(
            order.order_id,
            CANCEL_UPDATE,
            CancelInput(reason=request.reason or "cancelled", actor=request.actor),
        )
        order = await self._visible_order(request.order_id)
        return orders_pb2.CancelOrderResponse(order=mapping.order_proto(order))

    async def PickFulfillment(
        self, request: orders_pb2.PickFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PickFulfillmentResponse:
        fulfillment = await self._fulfillment(request.fulfillment_id)
        picked = mapping.picked_lines(request)
        domain.validate_pick({line.sku: line.quantity for line in fulfillment.lines}, picked)
        return orders_pb2.PickFulfillmentResponse(
            fulfillment=await self._act_on_fulfillment(
                fulfillment,
                PICK_UPDATE,
                PickInput(
                    fulfillment_id=fulfillment.fulfillment_id,
                    lines=[LineInput(line.sku, line.quantity_picked) for line in picked],
                    actor=request.actor,
                ),
            )
        )

    async def HandoverFulfillment(
        self, request: orders_pb2.HandoverFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.HandoverFulfillmentResponse:
        _required(request.pickup_code, "pickup_code")
        fulfillment = await self._fulfillment(request.fulfillment_id)
        if fulfillment.type != "pickup":
            raise Conflict("INVALID_STATE", "only a pickup is handed over")
        return orders_pb2.HandoverFulfillmentResponse(
            fulfillment=await self._act_on_fulfillment(
                fulfillment,
                HANDOVER_UPDATE,
                HandoverInput(
                    fulfillment_id=fulfillment.fulfillment_id,
                    pickup_code=request.pickup_code,
                    actor=request.actor,
                ),
            )
        )

    async def ShipFulfillment(
        self, request: orders_pb2.ShipFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ShipFulfillmentResponse:
        _required(request.carrier, "carrier")
        _required(request.tracking_number, "tracking_number")
        fulfillment = await self._fulfillment(request.fulfillment_id)
        if fulfillment.type != "ship":
            raise Conflict("INVALID_STATE", "only a ship fulfillment is shipped")
        return orders_pb2.ShipFulfillmentResponse(
            fulfillment=await self._act_on_fulfillment(
                fulfillment,
                SHIP_UPDATE,
                ShipInput(
                    fulfillment_id=fulfillment.fulfillment_id,
                    carrier=request.carrier,
                    tracking_number=request.tracking_number,
                    actor=request.actor,
                ),
            )
        )

    async def RejectFulfillment(
        self, request: orders_pb2.RejectFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RejectFulfillmentResponse:
        """The store cannot do it: the journey reroutes or cancels its lines."""
        domain.validate_reject_reason(request.reason)
        fulfillment = await self._fulfillment(request.fulfillment_id)
        domain.check_rejectable(fulfillment.status)
        return orders_pb2.RejectFulfillmentResponse(
            fulfillment=await self._act_on_fulfillment(
                fulfillment,
                REJECT_UPDATE,
                RejectInput(
                    fulfillment_id=fulfillment.fulfillment_id,
                    reason=request.reason,
                    actor=request.actor,
                ),
            )
        )

    async def MarkCustomerArrived(
        self, request: orders_pb2.MarkCustomerArrivedRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.MarkCustomerArrivedResponse:
        """Curbside: recorded once (a repeat answers the same), no journey involved."""
        fulfillment = await self._fulfillment(request.fulfillment_id)
        domain.check_arrival(fulfillment.type, fulfillment.status, request.note)
        now = _now()
        async with self._db.transaction() as session:
            if await store.mark_customer_arrived(
                session, fulfillment.fulfillment_id, request.note, now
            ):
                detail = f"at {fulfillment.location_id}" + (
                    f": {request.note}" if request.note else ""
                )
                await store.append_order_event(
                    session, fulfillment.order_id, Event(now, "customer_arrived", detail)
                )
        fulfillment = await self._fulfillment(request.fulfillment_id)
        if fulfillment.arrived_at is None:
            # It left ready_for_pickup between the check and the write.
            domain.check_arrival(fulfillment.type, fulfillment.status, request.note)
        return orders_pb2.MarkCustomerArrivedResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    # ------------------------------------------------------------ returns

    async def CreateReturn(
        self, request: orders_pb2.CreateReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreateReturnResponse:
        mapping.reject_card_numbers(request)
        validate_key(request.idempotency_key)
        _required(request.order_id, "order_id")
        lines = mapping.return_lines(list(request.lines))
        domain.validate_return_shape(request.method, request.location_id, lines)
        refund_method = domain.refund_method(request.refund_method)
        if request.channel and request.channel not in domain.CHANNELS:
            raise InvalidArgument.field("channel", f"must be one of {', '.join(domain.CHANNELS)}")
        location_id = request.location_id if request.method == "in_store" else ""

        async with self._db.transaction() as session:
            return_id, created = await store.claim_key(
                session,
                request.idempotency_key,
                "return",
                domain.new_return_id(),
                request_fingerprint(request),
            )
            if created:
                order = await self._order(session, request.order_id)
                plan = domain.plan_return(
                    order_status=order.status,
                    handed_over=order.handed_over,
                    bought={
                        line.sku: domain.BoughtLine(
                            line.sku,
                            line.quantity,
                            line.returned_quantity,
                            line.unit_price_minor,
                            line.returnable_days,
                        )
                        for line in order.lines
                    },
                    lines=lines,
                    window_reference=order.completed_at or order.created_at,
                    now=_now(),
                )
                await store.insert_return(
                    session,
                    ReturnRecord(
                        return_id=return_id,
                        order_id=order.order_id,
                        customer_id=order.customer_id,
                        channel=request.channel or order.channel,
                        status="requested",
                        method=request.method,
                        location_id=location_id,
                        currency=order.currency,
                        refund_minor=plan.refund_minor,
                        lines=[
                            ReturnLineRecord(
                                line.sku, line.quantity, line.condition, plan.unit_prices[line.sku]
                            )
                            for line in plan.lines
                        ],
                        refunds=[],
                        workflow_id=return_workflow_id(return_id),
                        created_at=_now(),
                        refund_method=refund_method,
                    ),
                )
                # Conditional updates: two concurrent returns cannot over-return.
                for line in plan.lines:
                    if not await store.reserve_returned_quantity(
                        session, order.order_id, line.sku, line.quantity
                    ):
                        # A concurrent return took what was left.
                        raise domain.return_quantity_exceeded(line.sku, line.quantity, None)
            record = await self._return(session, return_id)
        if record.status == "requested":
            await self._journeys.start_return(record, record.location_id)
        return orders_pb2.CreateReturnResponse(**{"return": mapping.return_proto(record)})

    async def _return(self, session: AsyncSession, return_id: str) -> ReturnRecord:
        record = await store.load_return(session, return_id)
        if record is None:
            raise NotFound(f"return {return_id} not found")
        return record

    async def GetReturn(
        self, request: orders_pb2.GetReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetReturnResponse:
        _required(request.return_id, "return_id")
        async with self._db.transaction() as session:
            record = await self._return(session, request.return_id)
        return orders_pb2.GetReturnResponse(**{"return": mapping.return_proto(record)})

    async def ReceiveReturn(
        self, request: orders_pb2.ReceiveReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ReceiveReturnResponse:
        """A mail return's parcel arrived: the journey restocks and refunds it."""
        _required(request.return_id, "return_id")
        lines = mapping.return_lines(list(request.lines))
        async with self._db.transaction() as session:
            record = await self._return(session, request.return_id)
            domain.check_receivable(record.method, record.status)
            domain.validate_receipt(
                request.location_id, {line.sku: line.quantity for line in record.lines}, lines
            )
            if not await store.claim_receiving_location(
                session, record.return_id, request.location_id, domain.RECEIVABLE_RETURN_STATUSES
            ):
                raise Conflict(
                    "INVALID_STATE", "this return is already being received at another location"
                )
        prices = {line.sku: line.unit_price_minor for line in record.lines}
        await self._journeys.receive_return(
            record.return_id,
            ReceiveInput(
                location_id=request.location_id,
                lines=[
                    ReturnLineInput(line.sku, line.quantity, line.condition, prices[line.sku])
                    for line in lines
                ],
                actor=request.actor,
            ),
        )
        async with self._db.transaction() as session:
            record = await self._return(session, record.return_id)
        return orders_pb2.ReceiveReturnResponse(**{"return": mapping.return_proto(record)})

    # ------------------------------------------------------------ progress from journeys

    async def RecordOrderProgress(
        self, request: orders_pb2.RecordOrderProgressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordOrderProgressResponse:
        _required(request.event_id, "event_id")
        _required(request.order_id, "order_id")
        domain.validate_record_status(request.status, domain.RECORDABLE_ORDER_STATUSES, "status")
        for index, f in enumerate(request.fulfillments):
            _required(f.fulfillment_id, f"fulfillments[{index}].fulfillment_id")
            if f.type and f.type not in domain.FULFILLMENT_TYPES:
                raise InvalidArgument.field(f"fulfillments[{index}].type", "must be pickup or ship")
            _required(f.status, f"fulfillments[{index}].status")
            domain.validate_record_status(
                f.status, domain.FULFILLMENT_STATUSES, f"fulfillments[{index}].status"
            )
        now = _now()
        async with self._db.transaction() as session:
            order = await store.load_order(session, request.order_id, for_update=True)
            if order is None:
                raise NotFound(f"order {request.order_id} not found")
            if await store.mark_event_applied(session, request.event_id):
                if request.status:
                    await store.set_order_status(session, order.order_id, request.status)
                for f in request.fulfillments:
                    record = mapping.fulfillment_record(f, order, now)
                    if not record.location_id and not any(
                        existing.fulfillment_id == record.fulfillment_id
                        for existing in order.fulfillments
                    ):
                        raise InvalidArgument.field("fulfillments.location_id", "is required")
                    await store.upsert_fulfillment(session, record)
                event = mapping.progress_event(request.event, now)
                if event is not None:
                    await store.append_order_event(session, order.order_id, event)
                order = await self._order(session, order.order_id, visible_only=False)
        return orders_pb2.RecordOrderProgressResponse(order=mapping.order_proto(order))

    # ------------------------------------------------------------ privacy

    async def ErasePersonalData(
        self, request: orders_pb2.ErasePersonalDataRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ErasePersonalDataResponse:
        customer_ids = list(dict.fromkeys(request.customer_ids))
        if not customer_ids:
            raise InvalidArgument.field("customer_ids", "at least one is required")
        if len(customer_ids) > MAX_ERASE_IDS:
            raise InvalidArgument.field("customer_ids", f"at most {MAX_ERASE_IDS} ids")
        for index, customer_id in enumerate(customer_ids):
            if not customer_id or len(customer_id) > MAX_CUSTOMER_ID_LENGTH:
                raise InvalidArgument.field(
                    f"customer_ids[{index}]", f"must be 1 to {MAX_CUSTOMER_ID_LENGTH} characters"
                )
        async with self._db.transaction() as session:
            erased = await store.erase_addresses(session, customer_ids)
        return orders_pb2.ErasePersonalDataResponse(orders_erased=erased)

    async def RecordReturnProgress(
        self, request: orders_pb2.RecordReturnProgressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordReturnProgressResponse:
        _required(request.event_id, "event_id")
        _required(request.return_id, "return_id")
        domain.validate_record_status(request.status, domain.RETURN_STATUSES, "status")
        for index, refund in enumerate(request.refunds):
            domain.validate_record_status(
                refund.status, domain.REFUND_STATUSES, f"refunds[{index}].status"
            )
        now = _now()
        async with self._db.transaction() as session:
            record = await self._return(session, request.return_id)
            if await store.mark_event_applied(session, request.event_id):
                if request.status:
                    await store.set_return_status(session, record.return_id, request.status)
                    if request.status in domain.RETURN_STATUSES_RELEASING:
                        await store.release_returned_quantities(session, record.return_id)
                if request.refunds:
                    await store.replace_refunds(
                        session,
                        record.return_id,
                        mapping.refund_records(list(request.refunds), record.currency),
                    )
                event = mapping.progress_event(request.event, now)
                if event is not None:
                    await store.append_return_event(session, record.return_id, event)
                record = await self._return(session, record.return_id)
        return orders_pb2.RecordReturnProgressResponse(**{"return": mapping.return_proto(record)})
