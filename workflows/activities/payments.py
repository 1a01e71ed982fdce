"""Payment activities: thin calls to omni.payments.v1."""

from __future__ import annotations

from temporalio import activity

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from omni.words import Channel, PaymentStatus, TenderType
from services.common.timestamps import from_timestamp
from workflows.activities.rpc import RPC_TIMEOUT_SECONDS, call
from workflows.contracts.activities import (
    AuthorizeInput,
    CaptureInput,
    ListPaymentsInput,
    PaymentInfo,
    PaymentList,
    ReauthorizeInput,
    RefundInput,
    VoidInput,
)


def _payment(payment: payments_pb2.Payment) -> PaymentInfo:
    # Workflow payloads carry the words (a StrEnum serialises as its string).
    return PaymentInfo(
        payment_id=payment.payment_id,
        tender_type=TenderType.from_proto(payment.tender_type) or "",
        status=PaymentStatus.from_proto(payment.status) or "",
        currency=payment.authorized.currency,
        authorized_minor=payment.authorized.amount_minor,
        captured_minor=payment.captured.amount_minor,
        refunded_minor=payment.refunded.amount_minor,
        expires_at=_expiry(payment),
    )


def _expiry(payment: payments_pb2.Payment) -> str:
    """When the authorization lapses (ISO 8601), "" when it never does."""
    at = from_timestamp(payment.expires_at)
    return at.isoformat() if at is not None else ""


def _tender_type(word: str) -> payments_pb2.TenderType:
    """The wire number of a tender word; unspecified (refused by payments) if unknown."""
    tender_type = TenderType.parse(word)
    return tender_type.to_proto() if tender_type else payments_pb2.TENDER_TYPE_UNSPECIFIED


def _channel(word: str) -> common_pb2.Channel:
    channel = Channel.parse(word)
    return channel.to_proto() if channel else common_pb2.CHANNEL_UNSPECIFIED


class PaymentActivities:
    def __init__(self, stub: payments_pb2_grpc.PaymentsServiceStub) -> None:
        self._stub = stub

    @activity.defn(name="payments.authorize")
    async def authorize(self, request: AuthorizeInput) -> PaymentInfo:
        response = await call(
            self._stub.AuthorizePayment(
                payments_pb2.AuthorizePaymentRequest(
                    idempotency_key=request.idempotency_key,
                    reference=request.reference,
                    tender=payments_pb2.Tender(
                        type=_tender_type(request.tender_type),
                        token=request.token,
                        code=request.code,
                    ),
                    amount=common_pb2.Money(
                        amount_minor=request.amount_minor, currency=request.currency
                    ),
                    channel=_channel(request.channel),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _payment(response.payment)

    @activity.defn(name="payments.capture")
    async def capture(self, request: CaptureInput) -> PaymentInfo:
        response = await call(
            self._stub.CapturePayment(
                payments_pb2.CapturePaymentRequest(
                    idempotency_key=request.idempotency_key,
                    payment_id=request.payment_id,
                    amount=common_pb2.Money(
                        amount_minor=request.amount_minor, currency=request.currency
                    ),
                    final=request.final,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _payment(response.payment)

    @activity.defn(name="payments.void")
    async def void(self, request: VoidInput) -> PaymentInfo:
        response = await call(
            self._stub.VoidPayment(
                payments_pb2.VoidPaymentRequest(
                    idempotency_key=request.idempotency_key, payment_id=request.payment_id
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _payment(response.payment)

    @activity.defn(name="payments.reauthorize")
    async def reauthorize(self, request: ReauthorizeInput) -> PaymentInfo:
        response = await call(
            self._stub.ReauthorizePayment(
                payments_pb2.ReauthorizePaymentRequest(
                    idempotency_key=request.idempotency_key, payment_id=request.payment_id
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _payment(response.payment)

    @activity.defn(name="payments.refund")
    async def refund(self, request: RefundInput) -> PaymentInfo:
        response = await call(
            self._stub.RefundPayment(
                payments_pb2.RefundPaymentRequest(
                    idempotency_key=request.idempotency_key,
                    payment_id=request.payment_id,
                    amount=common_pb2.Money(
                        amount_minor=request.amount_minor, currency=request.currency
                    ),
                    to_store_credit=request.to_store_credit,
                    customer_id=request.customer_id,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        payment = _payment(response.payment)
        if response.HasField("store_credit"):
            payment.store_credit_code = response.store_credit.code
        return payment

    @activity.defn(name="payments.list_payments")
    async def list_payments(self, request: ListPaymentsInput) -> PaymentList:
        response = await call(
            self._stub.ListPayments(
                payments_pb2.ListPaymentsRequest(reference=request.reference),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return PaymentList(payments=[_payment(p) for p in response.payments])
