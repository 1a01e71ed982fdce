"""The PaymentsService servicer: validate at the edge, then one unit of work per call.

The provider is called inside the unit of work, after the idempotency key row
is inserted: if it is unavailable, Unavailable rolls everything back (the key
too) and the caller's retry with the same key asks the provider again.
"""

from __future__ import annotations

import uuid

import grpc

from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.db import Database
from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument
from services.common.idempotency import run_once, validate_key
from services.payments import domain, mapping, store
from services.payments.domain import Money, Payment
from services.payments.provider import DECLINED, PaymentProvider, ProviderResult, perform_once

MAX_REFERENCE_LENGTH = 200


def _required(value: str, field: str, max_length: int = MAX_REFERENCE_LENGTH) -> str:
    if not value:
        raise InvalidArgument.field(field, "is required")
    if len(value) > max_length:
        raise InvalidArgument.field(field, f"is longer than {max_length}")
    return value


def _approved(result: ProviderResult, operation: str, payment_id: str) -> ProviderResult:
    if result.outcome == DECLINED:
        raise BusinessRuleViolation(
            "PROVIDER_DECLINED",
            f"the payment provider declined the {operation}",
            {"payment_id": payment_id},
        )
    return result


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(self, database: Database, provider: PaymentProvider) -> None:
        self._database = database
        self._provider = provider

    async def AuthorizePayment(
        self, request: payments_pb2.AuthorizePaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.AuthorizePaymentResponse:
        mapping.reject_card_numbers(request)
        key = request.idempotency_key
        validate_key(key)
        reference = _required(request.reference, "reference")
        tender = mapping.tender_from_proto(request.tender)
        amount = mapping.money_from_proto(request.amount, "amount")
        if tender.type == domain.GIFT_CARD:
            raise BusinessRuleViolation(
                "TENDER_NOT_SUPPORTED",
                "gift cards are not accepted yet",
                {"tender_type": tender.type},
            )
        self._provider.validate_token(tender.token)

        async with self._database.transaction() as session:

            async def authorize() -> payments_pb2.AuthorizePaymentResponse:
                await store.lock_tender(session, reference, tender.type, tender.identity)
                existing = await store.find_payment_for_tender(
                    session, reference, tender.type, tender.identity
                )
                if existing is not None:
                    raise Conflict(
                        "PAYMENT_ALREADY_EXISTS",
                        "this tender already has a payment for this reference",
                        {"payment_id": existing.payment_id},
                    )
                result = await perform_once(
                    self._provider,
                    key,
                    lambda: self._provider.authorize(
                        merchant_reference=key,
                        reference=reference,
                        token=tender.token,
                        amount=amount,
                    ),
                )
                if result.outcome == DECLINED:
                    raise BusinessRuleViolation(
                        "PAYMENT_DECLINED", "the card was declined", {"reference": reference}
                    )
                payment = domain.authorized_payment(
                    payment_id=str(uuid.uuid4()),
                    reference=reference,
                    tender=tender,
                    amount=amount,
                    card_brand=result.card_brand,
                    card_last4=result.card_last4,
                    provider_reference=result.provider_reference,
                )
                saved = await store.insert_payment(session, payment, tender.identity)
                return payments_pb2.AuthorizePaymentResponse(
                    payment=mapping.payment_to_proto(saved)
                )

            return await run_once(
                session,
                store.idempotency_keys,
                key,
                request,
                payments_pb2.AuthorizePaymentResponse,
                authorize,
            )

    async def CapturePayment(
        self, request: payments_pb2.CapturePaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.CapturePaymentResponse:
        mapping.reject_card_numbers(request)
        key = request.idempotency_key
        validate_key(key)
        payment_id = _required(request.payment_id, "payment_id")
        amount = mapping.money_from_proto(request.amount, "amount")

        async with self._database.transaction() as session:

            async def capture() -> payments_pb2.CapturePaymentResponse:
                payment = await store.get_payment(session, payment_id, lock=True)
                after = domain.capture(payment, amount)
                await self._call_provider("capture", key, payment, amount)
                saved = await store.record_capture(session, after, amount)
                return payments_pb2.CapturePaymentResponse(payment=mapping.payment_to_proto(saved))

            return await run_once(
                session,
                store.idempotency_keys,
                key,
                request,
                payments_pb2.CapturePaymentResponse,
                capture,
            )

    async def VoidPayment(
        self, request: payments_pb2.VoidPaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.VoidPaymentResponse:
        mapping.reject_card_numbers(request)
        key = request.idempotency_key
        validate_key(key)
        payment_id = _required(request.payment_id, "payment_id")

        async with self._database.transaction() as session:

            async def void() -> payments_pb2.VoidPaymentResponse:
                payment = await store.get_payment(session, payment_id, lock=True)
                domain.void(payment)
                authorized = Money(payment.authorized_minor, payment.currency)
                await self._call_provider("void", key, payment, authorized)
                saved = await store.record_void(session, payment_id)
                return payments_pb2.VoidPaymentResponse(payment=mapping.payment_to_proto(saved))

            return await run_once(
                session,
                store.idempotency_keys,
                key,
                request,
                payments_pb2.VoidPaymentResponse,
                void,
            )

    async def RefundPayment(
        self, request: payments_pb2.RefundPaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.RefundPaymentResponse:
        mapping.reject_card_numbers(request)
        key = request.idempotency_key
        validate_key(key)
        payment_id = _required(request.payment_id, "payment_id")
        amount = mapping.money_from_proto(request.amount, "amount")

        async with self._database.transaction() as session:

            async def refund() -> payments_pb2.RefundPaymentResponse:
                payment = await store.get_payment(session, payment_id, lock=True)
                after = domain.refund(payment, amount)
                await self._call_provider("refund", key, payment, amount)
                saved = await store.record_refund(session, after, amount)
                return payments_pb2.RefundPaymentResponse(payment=mapping.payment_to_proto(saved))

            return await run_once(
                session,
                store.idempotency_keys,
                key,
                request,
                payments_pb2.RefundPaymentResponse,
                refund,
            )

    async def GetPayment(
        self, request: payments_pb2.GetPaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetPaymentResponse:
        payment_id = _required(request.payment_id, "payment_id")
        async with self._database.transaction() as session:
            payment = await store.get_payment(session, payment_id)
        return payments_pb2.GetPaymentResponse(payment=mapping.payment_to_proto(payment))

    async def ListPayments(
        self, request: payments_pb2.ListPaymentsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ListPaymentsResponse:
        reference = _required(request.reference, "reference")
        async with self._database.transaction() as session:
            found = await store.list_payments(session, reference)
        return payments_pb2.ListPaymentsResponse(
            payments=[mapping.payment_to_proto(payment) for payment in found]
        )

    async def ListProviderOperations(
        self, request: payments_pb2.ListProviderOperationsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ListProviderOperationsResponse:
        reference = _required(request.reference, "reference")
        operations = await self._provider.list_operations(reference)
        return payments_pb2.ListProviderOperationsResponse(
            operations=[mapping.provider_operation_to_proto(op) for op in operations]
        )

    async def _call_provider(
        self, operation: str, key: str, payment: Payment, amount: Money
    ) -> None:
        """Runs capture/void/refund at the provider once per key (the merchant reference)."""
        perform = {
            "capture": self._provider.capture,
            "void": self._provider.void,
            "refund": self._provider.refund,
        }[operation]
        result = await perform_once(
            self._provider,
            key,
            lambda: perform(
                merchant_reference=key,
                reference=payment.reference,
                provider_reference=payment.provider_reference,
                amount=amount,
            ),
        )
        _approved(result, operation, payment.payment_id)
