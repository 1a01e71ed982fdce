"""The PaymentsService servicer: each RPC is its use case, nothing more.

Validation, rules and units of work live in use_cases.py; domain errors
become status codes in the server's ErrorInterceptor.
"""

from __future__ import annotations

import grpc

from omni.payments.v1 import payments_pb2 as pb
from omni.payments.v1 import payments_pb2_grpc
from services.payments import use_cases
from services.payments.access import OrderVisible, check_reference_visible
from services.payments.use_cases import App


async def _no_orders_service(reference: str) -> bool:
    """Without the orders service to ask, no customer or associate sees payments."""
    return False


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, app: App, orders: OrderVisible = _no_orders_service) -> None:
        self._app = app
        # Who may see which order: its owner check is the orders service's.
        self._order_visible = orders

    async def AuthorizePayment(
        self, request: pb.AuthorizePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.AuthorizePaymentResponse:
        return await use_cases.authorize_payment(self._app, request)

    async def CapturePayment(
        self, request: pb.CapturePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CapturePaymentResponse:
        return await use_cases.capture_payment(self._app, request)

    async def VoidPayment(
        self, request: pb.VoidPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.VoidPaymentResponse:
        return await use_cases.void_payment(self._app, request)

    async def ReauthorizePayment(
        self, request: pb.ReauthorizePaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReauthorizePaymentResponse:
        return await use_cases.reauthorize_payment(self._app, request)

    async def RefundPayment(
        self, request: pb.RefundPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.RefundPaymentResponse:
        return await use_cases.refund_payment(self._app, request)

    async def GetPayment(
        self, request: pb.GetPaymentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetPaymentResponse:
        return await use_cases.get_payment(self._app, request)

    async def ListPayments(
        self, request: pb.ListPaymentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListPaymentsResponse:
        await check_reference_visible(self._order_visible, request.reference)
        return await use_cases.list_payments(self._app, request)

    async def ListProviderOperations(
        self, request: pb.ListProviderOperationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListProviderOperationsResponse:
        return await use_cases.list_provider_operations(self._app, request)

    async def IssueGiftCard(
        self, request: pb.IssueGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> pb.IssueGiftCardResponse:
        return await use_cases.issue_gift_card(self._app, request)

    async def ReloadGiftCard(
        self, request: pb.ReloadGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> pb.ReloadGiftCardResponse:
        return await use_cases.reload_gift_card(self._app, request)

    async def GetGiftCard(
        self, request: pb.GetGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetGiftCardResponse:
        return await use_cases.get_gift_card(self._app, request)

    async def ListStoreCredit(
        self, request: pb.ListStoreCreditRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStoreCreditResponse:
        return await use_cases.list_store_credit(self._app, request)
