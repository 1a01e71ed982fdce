"""Payments as placement uses it: authorize a tender (keyed by the order id:
workflows/contracts/journeys.authorization_key) and void it again when the
placement is refused."""

from __future__ import annotations

import grpc

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from omni.words import Channel, PaymentStatus, TenderType
from services.common.timestamps import from_timestamp
from services.orders.adapters.refusals import refusal_of
from services.orders.domain.placing import RequestedTender
from workflows.contracts.activities import PaymentInfo

PAYMENTS_TIMEOUT_SECONDS = 10.0


def payment_info(payment: payments_pb2.Payment) -> PaymentInfo:
    """The journey's view of a payment (the words, as its activities give them)."""
    expires = from_timestamp(payment.expires_at)
    return PaymentInfo(
        payment_id=payment.payment_id,
        tender_type=TenderType.from_proto(payment.tender_type) or "",
        status=PaymentStatus.from_proto(payment.status) or "",
        currency=payment.authorized.currency,
        authorized_minor=payment.authorized.amount_minor,
        captured_minor=payment.captured.amount_minor,
        refunded_minor=payment.refunded.amount_minor,
        # The journey renews the authorization before then (issue 11).
        expires_at=expires.isoformat() if expires is not None else "",
    )


class PaymentsClient:
    def __init__(
        self,
        stub: payments_pb2_grpc.PaymentsServiceStub,
        timeout_seconds: float = PAYMENTS_TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def authorize(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> PaymentInfo:
        """Raises BusinessRuleViolation (declined, bad tender) or Unavailable
        (the outcome is unknown: the same key asks again)."""
        info, _ = await self.authorize_answered(
            key, reference, tender, amount_minor, currency, channel
        )
        return info

    async def authorize_answered(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        """`authorize`, with the payment as payments answered it (a serialized
        payments.v1.Payment, as ListPayments shows it): a placement's answer
        carries it without asking payments again (issue 10)."""
        tender_type = TenderType.parse(tender.type)
        try:
            reply = await self._stub.AuthorizePayment(
                payments_pb2.AuthorizePaymentRequest(
                    idempotency_key=key,
                    reference=reference,
                    tender=payments_pb2.Tender(
                        type=tender_type.to_proto()
                        if tender_type
                        else payments_pb2.TENDER_TYPE_UNSPECIFIED,
                        token=tender.token,
                        code=tender.code,
                    ),
                    amount=common_pb2.Money(amount_minor=amount_minor, currency=currency),
                    channel=channel.to_proto(),
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("payments", error) from error
        return payment_info(reply.payment), reply.payment.SerializeToString()

    async def void(self, key: str, payment_id: str) -> None:
        """Gives an authorization back; a repeat of the key answers the first void."""
        try:
            await self._stub.VoidPayment(
                payments_pb2.VoidPaymentRequest(idempotency_key=key, payment_id=payment_id),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("payments", error) from error
