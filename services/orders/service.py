"""The OrdersService servicer: request -> mapping -> use case -> mapping -> response.
Domain errors go to the error interceptor."""

from __future__ import annotations

import grpc

from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.words import ReturnMethod
from services.common.carrier import Carrier, DevCarrier
from services.common.errors import Unavailable
from services.common.identity import Role, actor_of
from services.common.timestamps import from_timestamp
from services.orders import access, mapping, quoting, staff, use_cases
from services.orders.domain.records import ReturnRecord
from services.orders.quoting import Pricing
from services.orders.use_cases import Dependencies, Keyed


class OrdersServicer(orders_pb2_grpc.OrdersServiceServicer):
    def __init__(
        self,
        dependencies: Dependencies,
        same_customer: access.SameCustomer | None = None,
        carrier: Carrier | None = None,
    ) -> None:
        self._deps = dependencies
        # Mail returns' labels (services/common/carrier.py; the development one by default).
        self._carrier: Carrier = carrier or DevCarrier()
        # Customers' merged ids, for the object-level checks (access.py).
        self._same_customer = same_customer

    async def _visible_order(
        self, order_id: str, checked: tuple[Role, ...] = (Role.CUSTOMER, Role.ASSOCIATE)
    ) -> None:
        order = await use_cases.get_order(self._deps, order_id)
        await access.check_order_visible(order, self._same_customer, checked)

    async def PlaceOrder(
        self, request: orders_pb2.PlaceOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PlaceOrderResponse:
        placed = await use_cases.place_order_answered(
            self._deps, mapping.order_request(request), Keyed(request.idempotency_key, request)
        )
        order = placed.order
        reply = orders_pb2.PlaceOrderResponse(order=mapping.order_proto(order))
        # The caller just placed it (or retried their own key): its payments
        # come with the answer, so the gateway's ListPayments as the caller -
        # and payments' GetOrder back to this service to check it - are not
        # needed (issue 10). The authorizations this call made are what
        # payments answered them; only a retry or a till sale lists them.
        if placed.payments is not None:
            for answered in placed.payments:
                reply.payments.add().MergeFromString(answered)
        elif self._deps.till is not None:
            reply.payments.extend(await self._deps.till.payments.listed(order.order_id))
        return reply

    async def GetOrder(
        self, request: orders_pb2.GetOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetOrderResponse:
        order = await use_cases.get_order(self._deps, request.order_id)
        await access.check_order_visible(order, self._same_customer)
        return orders_pb2.GetOrderResponse(order=mapping.order_proto(order))

    async def CancelOrder(
        self, request: orders_pb2.CancelOrderRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CancelOrderResponse:
        await self._visible_order(request.order_id)
        order = await use_cases.cancel_order(
            self._deps,
            request.order_id,
            request.reason,
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.CancelOrderResponse(order=mapping.order_proto(order))

    async def CancelOrderLines(
        self, request: orders_pb2.CancelOrderLinesRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CancelOrderLinesResponse:
        await self._visible_order(request.order_id)
        order = await use_cases.cancel_order_lines(
            self._deps,
            request.order_id,
            [(line.sku, line.quantity) for line in request.lines],
            request.reason,
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.CancelOrderLinesResponse(order=mapping.order_proto(order))

    async def ChangeShippingAddress(
        self, request: orders_pb2.ChangeShippingAddressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ChangeShippingAddressResponse:
        await self._visible_order(request.order_id)
        order = await use_cases.change_shipping_address(
            self._deps,
            request.order_id,
            mapping.address_from_proto(request.address),
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.ChangeShippingAddressResponse(order=mapping.order_proto(order))

    async def SubmitOrderPayment(
        self, request: orders_pb2.SubmitOrderPaymentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.SubmitOrderPaymentResponse:
        await self._visible_order(request.order_id)
        order = await use_cases.submit_order_payment(
            self._deps,
            request.order_id,
            mapping.requested_tenders(request.tenders),
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.SubmitOrderPaymentResponse(order=mapping.order_proto(order))

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
        await access.check_fulfillment_visible(
            fulfillment,
            lambda: use_cases.get_order(self._deps, fulfillment.order_id),
            self._same_customer,
        )
        return orders_pb2.GetFulfillmentResponse(fulfillment=mapping.fulfillment_proto(fulfillment))

    async def PickFulfillment(
        self, request: orders_pb2.PickFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PickFulfillmentResponse:
        fulfillment = await use_cases.pick_fulfillment(
            self._deps,
            request.fulfillment_id,
            mapping.picked_lines(request),
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.PickFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def HandoverFulfillment(
        self, request: orders_pb2.HandoverFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.HandoverFulfillmentResponse:
        fulfillment = await use_cases.hand_over_fulfillment(
            self._deps,
            request.fulfillment_id,
            request.pickup_code,
            actor_of(request.actor),
            key=request.idempotency_key,
            taken=mapping.taken_lines(request.lines),
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
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.ShipFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def RejectFulfillment(
        self, request: orders_pb2.RejectFulfillmentRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RejectFulfillmentResponse:
        fulfillment = await use_cases.reject_fulfillment(
            self._deps,
            request.fulfillment_id,
            request.reason,
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.RejectFulfillmentResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def MarkCustomerArrived(
        self, request: orders_pb2.MarkCustomerArrivedRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.MarkCustomerArrivedResponse:
        arriving = await use_cases.get_fulfillment(self._deps, request.fulfillment_id)
        await access.check_fulfillment_visible(
            arriving,
            lambda: use_cases.get_order(self._deps, arriving.order_id),
            self._same_customer,
        )
        fulfillment = await use_cases.mark_customer_arrived(
            self._deps, request.fulfillment_id, request.note
        )
        return orders_pb2.MarkCustomerArrivedResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    async def IssuePickupCode(
        self, request: orders_pb2.IssuePickupCodeRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.IssuePickupCodeResponse:
        locked = await use_cases.get_fulfillment(self._deps, request.fulfillment_id)
        await access.check_fulfillment_visible(
            locked,
            lambda: use_cases.get_order(self._deps, locked.order_id),
            self._same_customer,
        )
        fulfillment = await use_cases.issue_pickup_code(
            self._deps, request.fulfillment_id, actor_of(request.actor)
        )
        return orders_pb2.IssuePickupCodeResponse(
            fulfillment=mapping.fulfillment_proto(fulfillment)
        )

    def _return(self, record: ReturnRecord) -> orders_pb2.Return:
        """The return as answered: a mail return carries its carrier's label
        (the same label for the same return, so every answer shows one)."""
        label = (
            self._carrier.return_label(record.return_id)
            if record.method == ReturnMethod.MAIL
            else None
        )
        return mapping.return_proto(record, label)

    async def CreateReturn(
        self, request: orders_pb2.CreateReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreateReturnResponse:
        # An associate takes back at their store what was bought anywhere.
        await self._visible_order(request.order_id, (Role.CUSTOMER,))
        record = await use_cases.create_return(
            self._deps, mapping.return_request(request), Keyed(request.idempotency_key, request)
        )
        return orders_pb2.CreateReturnResponse(**{"return": self._return(record)})

    async def GetReturn(
        self, request: orders_pb2.GetReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetReturnResponse:
        record = await use_cases.get_return(self._deps, request.return_id)
        await access.check_return_visible(record, self._same_customer)
        return orders_pb2.GetReturnResponse(**{"return": self._return(record)})

    async def ReceiveReturn(
        self, request: orders_pb2.ReceiveReturnRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ReceiveReturnResponse:
        record = await use_cases.receive_return(
            self._deps,
            request.return_id,
            request.location_id,
            mapping.return_lines(list(request.lines)),
            actor_of(request.actor),
            key=request.idempotency_key,
        )
        return orders_pb2.ReceiveReturnResponse(**{"return": self._return(record)})

    async def RecordOrderProgress(
        self, request: orders_pb2.RecordOrderProgressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordOrderProgressResponse:
        order = await use_cases.record_order_progress(
            self._deps, mapping.order_progress(request, self._deps.now()), request
        )
        return orders_pb2.RecordOrderProgressResponse(order=mapping.order_proto(order))

    async def PlaceExchange(
        self, request: orders_pb2.PlaceExchangeRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PlaceExchangeResponse:
        order = await use_cases.place_exchange(
            self._deps, request.return_id, request.order_id, mapping.credit_tenders(request)
        )
        return orders_pb2.PlaceExchangeResponse(order=mapping.order_proto(order))

    async def RecordReturnProgress(
        self, request: orders_pb2.RecordReturnProgressRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.RecordReturnProgressResponse:
        record = await use_cases.record_return_progress(
            self._deps, mapping.return_progress(request, self._deps.now()), request
        )
        return orders_pb2.RecordReturnProgressResponse(**{"return": self._return(record)})

    async def ErasePersonalData(
        self, request: orders_pb2.ErasePersonalDataRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ErasePersonalDataResponse:
        erased = await use_cases.erase_personal_data(self._deps, list(request.customer_ids))
        return orders_pb2.ErasePersonalDataResponse(orders_erased=erased)

    # ------------------------------------------------------------ pricing (issue 13)

    def _pricing(self) -> Pricing:
        if self._deps.pricing is None:
            raise Unavailable("pricing is not configured in this orders service")
        return self._deps.pricing

    async def QuoteBasket(
        self, request: orders_pb2.QuoteBasketRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.QuoteBasketResponse:
        basket = await quoting.price_basket(self._pricing(), mapping.basket_request(request))
        return orders_pb2.QuoteBasketResponse(quote=mapping.quote_proto(basket))

    async def CreatePromotion(
        self, request: orders_pb2.CreatePromotionRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreatePromotionResponse:
        promotion = mapping.promotion_from_proto(
            request.promotion, quoting.promotion_id_for(request.idempotency_key)
        )
        created = await quoting.create_promotion(self._pricing(), promotion)
        return orders_pb2.CreatePromotionResponse(promotion=mapping.promotion_proto(created))

    async def ListPromotions(
        self, request: orders_pb2.ListPromotionsRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListPromotionsResponse:
        page = await quoting.list_promotions(self._pricing(), request.limit, request.page_token)
        return orders_pb2.ListPromotionsResponse(
            promotions=[mapping.promotion_proto(p) for p in page.items],
            next_page_token=page.next_cursor,
        )

    async def EndPromotion(
        self, request: orders_pb2.EndPromotionRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.EndPromotionResponse:
        ended = await quoting.end_promotion(self._pricing(), request.promotion_id)
        return orders_pb2.EndPromotionResponse(promotion=mapping.promotion_proto(ended))

    async def PutTaxRegion(
        self, request: orders_pb2.PutTaxRegionRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.PutTaxRegionResponse:
        region = await quoting.put_tax_region(
            self._pricing(), mapping.tax_region_from_proto(request.tax_region)
        )
        return orders_pb2.PutTaxRegionResponse(tax_region=mapping.tax_region_proto(region))

    async def CreateShippingMethod(
        self, request: orders_pb2.CreateShippingMethodRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreateShippingMethodResponse:
        method = await quoting.create_shipping_method(
            self._pricing(), mapping.shipping_method_from_proto(request.shipping_method)
        )
        return orders_pb2.CreateShippingMethodResponse(
            shipping_method=mapping.shipping_method_proto(method)
        )

    async def ListShippingMethods(
        self, request: orders_pb2.ListShippingMethodsRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListShippingMethodsResponse:
        methods = await quoting.list_shipping_methods(self._pricing())
        return orders_pb2.ListShippingMethodsResponse(
            shipping_methods=[mapping.shipping_method_proto(m) for m in methods]
        )

    # ------------------------------------------------ associates and staff credit (issue 14)

    def _staff(self) -> staff.Staff:
        if self._deps.staff is None:
            raise Unavailable("the associates registry is not configured in this orders service")
        return self._deps.staff

    async def CreateAssociate(
        self, request: orders_pb2.CreateAssociateRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.CreateAssociateResponse:
        associate, created = await staff.create_associate(
            self._staff(), mapping.associate_from_proto(request.associate)
        )
        return orders_pb2.CreateAssociateResponse(
            associate=mapping.associate_proto(associate), created=created
        )

    async def GetAssociate(
        self, request: orders_pb2.GetAssociateRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetAssociateResponse:
        associate = await staff.get_associate(self._staff(), request.associate_id)
        return orders_pb2.GetAssociateResponse(associate=mapping.associate_proto(associate))

    async def ListAssociates(
        self, request: orders_pb2.ListAssociatesRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListAssociatesResponse:
        page = await staff.list_associates(
            self._staff(), request.store_id, request.limit, request.page_token
        )
        return orders_pb2.ListAssociatesResponse(
            associates=[mapping.associate_proto(a) for a in page.items],
            next_page_token=page.next_cursor,
        )

    async def DeactivateAssociate(
        self, request: orders_pb2.DeactivateAssociateRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.DeactivateAssociateResponse:
        associate = await staff.deactivate_associate(self._staff(), request.associate_id)
        return orders_pb2.DeactivateAssociateResponse(associate=mapping.associate_proto(associate))

    async def GetStaffSales(
        self, request: orders_pb2.GetStaffSalesRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.GetStaffSalesResponse:
        sales, currency = await staff.staff_sales(
            self._staff(),
            request.store_id,
            from_timestamp(request.period_start) if request.HasField("period_start") else None,
            from_timestamp(request.period_end) if request.HasField("period_end") else None,
        )
        return orders_pb2.GetStaffSalesResponse(
            associates=[mapping.staff_sales_proto(s, currency) for s in sales], currency=currency
        )

    async def ListOrders(
        self, request: orders_pb2.ListOrdersRequest, context: grpc.aio.ServicerContext
    ) -> orders_pb2.ListOrdersResponse:
        page = await staff.list_orders(
            self._staff(),
            request.customer_id,
            mapping.order_status_filter(request),
            request.location_id,
            request.limit,
            request.page_token,
        )
        return orders_pb2.ListOrdersResponse(
            orders=[mapping.order_proto(o) for o in page.items], next_page_token=page.next_cursor
        )
