"""The OrdersService servicer: request -> mapping -> use case -> mapping -> response.
Domain errors go to the error interceptor."""

from __future__ import annotations

import grpc

from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from services.orders import mapping, use_cases
from services.orders.use_cases import Dependencies, Keyed


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(self, dependencies: Dependencies) -> None:
        self._deps = dependencies

    async def PlaceOrder(
        self, request: orders_pb2.PlaceOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PlaceOrderResponse:
        order = await use_cases.place_order(
            self._deps, mapping.order_request(request), Keyed(request.idempotency_key, request)
        )
        return orders_pb2.PlaceOrderResponse(order=mapping.order_proto(order))

    async def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        order = await use_cases.get_order(self._deps, request.order_id)
        return orders_pb2.GetOrderResponse(order=mapping.order_proto(order))

    async def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CancelOrderResponse:
        order = await use_cases.cancel_order(
            self._deps, request.order_id, request.reason, request.actor
        )
        return orders_pb2.CancelOrderResponse(order=mapping.order_proto(order))

    async def ListStoreTasks(
        self, request: orders_pb2.ListStoreTasksRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListStoreTasksResponse:
        page = await use_cases.list_store_tasks(
            self._deps,
            request.store_id,
            mapping.task_type(request),
            request.limit,
            request.page_token,
        )
        return orders_pb2.ListStoreTasksResponse(
            tasks=[mapping.store_task_proto(task) for task in page.items],
            next_page_token=page.next_cursor,
        )

    async def GetFulfillment(
        self, request: orders_pb2.GetFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetFulfillmentResponse:
        fulfillment = await use_cases.get_fulfillment(self._deps, request.fulfillment_id)
        return orders_pb2.GetFulfillmentResponse(fulfillment=mapping.fulfillment_proto(fulfillment))

    async def PickFulfillment(
        self, request: orders_pb2.PickFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PickFulfillmentResponse:
        fulfillment = await use_cases.pick_fulfillment(
            self._deps, request.fulfillment_id, mapping.picked_lines(request), request.actor
        )
        return orders_pb2.PickFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def HandoverFulfillment(
        self, request: orders_pb2.HandoverFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.HandoverFulfillmentResponse:
        fulfillment = await use_cases.hand_over_fulfillment(
            self._deps, request.fulfillment_id, request.pickup_code, request.actor
        )
        return orders_pb2.HandoverFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def ShipFulfillment(
        self, request: orders_pb2.ShipFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ShipFulfillmentResponse:
        fulfillment = await use_cases.ship_fulfillment(
            self._deps,
            request.fulfillment_id,
            request.carrier,
            request.tracking_number,
            request.actor,
        )
        return orders_pb2.ShipFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def RejectFulfillment(
        self, request: orders_pb2.RejectFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RejectFulfillmentResponse:
        fulfillment = await use_cases.reject_fulfillment(
            self._deps, request.fulfillment_id, request.reason, request.actor
        )
        return orders_pb2.RejectFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def MarkCustomerArrived(
        self, request: orders_pb2.MarkCustomerArrivedRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.MarkCustomerArrivedResponse:
        fulfillment = await use_cases.mark_customer_arrived(
            self._deps, request.fulfillment_id, request.note
        )
        return orders_pb2.MarkCustomerArrivedResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def CreateReturn(
        self, request: orders_pb2.CreateReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreateReturnResponse:
        record = await use_cases.create_return(
            self._deps, mapping.return_request(request), Keyed(request.idempotency_key, request)
        )
        return orders_pb2.CreateReturnResponse(**{"return": mapping.return_proto(record)})

    async def GetReturn(
        self, request: orders_pb2.GetReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetReturnResponse:
        record = await use_cases.get_return(self._deps, request.return_id)
        return orders_pb2.GetReturnResponse(**{"return": mapping.return_proto(record)})

    async def ReceiveReturn(
        self, request: orders_pb2.ReceiveReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ReceiveReturnResponse:
        record = await use_cases.receive_return(
            self._deps,
            request.return_id,
            request.location_id,
            mapping.return_lines(list(request.lines)),
            request.actor,
        )
        return orders_pb2.ReceiveReturnResponse(**{"return": mapping.return_proto(record)})

    async def RecordOrderProgress(
        self, request: orders_pb2.RecordOrderProgressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordOrderProgressResponse:
        order = await use_cases.record_order_progress(
            self._deps, mapping.order_progress(request, self._deps.now()), request
        )
        return orders_pb2.RecordOrderProgressResponse(order=mapping.order_proto(order))

    async def RecordReturnProgress(
        self, request: orders_pb2.RecordReturnProgressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordReturnProgressResponse:
        record = await use_cases.record_return_progress(
            self._deps, mapping.return_progress(request, self._deps.now()), request
        )
        return orders_pb2.RecordReturnProgressResponse(**{"return": mapping.return_proto(record)})

    async def ErasePersonalData(
        self, request: orders_pb2.ErasePersonalDataRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ErasePersonalDataResponse:
        erased = await use_cases.erase_personal_data(self._deps, list(request.customer_ids))
        return orders_pb2.ErasePersonalDataResponse(orders_erased=erased)
