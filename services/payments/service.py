"""The PaymentsService servicer: validate at the edge, then one unit of work per call.

Each mutating call runs once per idempotency key (payments' own run_once,
which also remembers refusals). The provider is called inside the unit of
work, after the key row is inserted: if it is unavailable, Unavailable rolls
everything back (the key too) and the caller's retry with the same key asks
the provider again. Gift cards, store credit and cash never reach the
provider: they are ledger entries in the same transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import grpc
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.db import Database
from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument
from services.common.idempotency import validate_key
from services.payments import domain, mapping, store
from services.payments.domain import Money, Payment, Tender
from services.payments.idempotency import RefusedAfterChanges, run_once
from services.payments.provider import (
    DECLINED,
    DEFAULT_TIMEOUT_SECONDS,
    PaymentProvider,
    ProviderResult,
    perform_once,
)

MAX_REFERENCE_LENGTH = 200
# Authorizations the expiry sweep marks per statement; the rest wait a turn.
EXPIRY_SWEEP_BATCH = 500

logger = logging.getLogger(__name__)

Found = TypeVar("Found")


@dataclass(frozen=True)
class PaymentPolicy:
    """How long card authorizations live, and what a capture does once one lapsed."""

    card_present_lifetime: timedelta = timedelta(days=2)
    card_not_present_lifetime: timedelta = timedelta(days=7)
    # How long a gift card or store credit hold lasts before the sweep gives it
    # back; None: until captured or voided.
    gift_card_hold_lifetime: timedelta | None = None
    # Capturing a lapsed authorization asks the provider for a new one first;
    # when off (or declined) the capture fails with AUTHORIZATION_EXPIRED.
    reauthorize_expired: bool = True
    provider_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS


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


def _checked_key(request: Message, key: str) -> str:
    """The idempotency key of a mutating call, once the request is known to
    carry no card number and the key is well formed."""
    mapping.reject_card_numbers(request)
    validate_key(key)
    return key


def _now() -> datetime:
    return datetime.now(UTC)


def _derived_key(key: str, step: str) -> str:
    """A merchant reference for a step of the operation keyed `key`, within the
    200 characters a reference may have."""
    derived = f"{key}/{step}"
    if len(derived) <= MAX_REFERENCE_LENGTH:
        return derived
    return f"{hashlib.sha256(key.encode()).hexdigest()}/{step}"


class PaymentsServicer(payments_pb2_grpc.PaymentsServiceServicer):
    def __init__(
        self, database: Database, provider: PaymentProvider, policy: PaymentPolicy | None = None
    ) -> None:
        self._database = database
        self._provider = provider
        self._policy = policy or PaymentPolicy()

    # ------------------------------------------------------------ authorize

    async def AuthorizePayment(
        self, request: payments_pb2.AuthorizePaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.AuthorizePaymentResponse:
        key = _checked_key(request, request.idempotency_key)
        reference = _required(request.reference, "reference")
        tender = mapping.tender_from_proto(request.tender)
        amount = mapping.money_from_proto(request.amount, "amount")
        if tender.type == domain.CARD:
            self._provider.validate_token(tender.token)
        # Cash has no identity of its own: each recorded amount is its own payment.
        identity = key if tender.type == domain.CASH else tender.identity

        async def authorize(session: AsyncSession) -> payments_pb2.AuthorizePaymentResponse:
            await store.lock_tender(session, reference, tender.type, identity)
            existing = await store.find_payment_for_tender(
                session, reference, tender.type, identity
            )
            if existing is not None:
                raise Conflict(
                    "PAYMENT_ALREADY_EXISTS",
                    "this tender already has a payment for this reference",
                    {"payment_id": existing.payment_id},
                )
            payment_id = str(uuid.uuid4())
            if tender.type == domain.CARD:
                payment = await self._authorize_card(
                    key, payment_id, reference, tender, amount, request.channel
                )
            elif tender.type in domain.LEDGER_TENDERS:
                await store.hold_gift_card(session, tender.code, amount, reference)
                payment = domain.authorized_payment(
                    payment_id=payment_id,
                    reference=reference,
                    tender=tender,
                    amount=amount,
                    card_brand="",
                    card_last4="",
                    provider_reference="",
                    expires_at=self._hold_expiry(),
                )
            else:
                payment = domain.recorded_cash(
                    payment_id=payment_id, reference=reference, amount=amount
                )
            saved = await store.insert_payment(session, payment, identity)
            return payments_pb2.AuthorizePaymentResponse(payment=mapping.payment_to_proto(saved))

        return await run_once(
            self._database, key, request, payments_pb2.AuthorizePaymentResponse, authorize
        )

    async def _authorize_card(
        self,
        key: str,
        payment_id: str,
        reference: str,
        tender: Tender,
        amount: Money,
        channel: str,
    ) -> Payment:
        result = await self._provider_authorize(key, reference, tender.token, amount)
        if result.outcome == DECLINED:
            raise BusinessRuleViolation(
                "PAYMENT_DECLINED", "the card was declined", {"reference": reference}
            )
        return domain.authorized_payment(
            payment_id=payment_id,
            reference=reference,
            tender=tender,
            amount=amount,
            card_brand=result.card_brand,
            card_last4=result.card_last4,
            provider_reference=result.provider_reference,
            expires_at=_now() + self._lifetime(channel),
        )

    def _hold_expiry(self) -> datetime | None:
        lifetime = self._policy.gift_card_hold_lifetime
        return None if lifetime is None else _now() + lifetime

    def _lifetime(self, channel: str) -> timedelta:
        return domain.authorization_lifetime(
            channel,
            card_present=self._policy.card_present_lifetime,
            card_not_present=self._policy.card_not_present_lifetime,
        )

    async def _provider_authorize(
        self, merchant_reference: str, reference: str, token: str, amount: Money
    ) -> ProviderResult:
        return await perform_once(
            self._provider,
            merchant_reference,
            lambda: self._provider.authorize(
                merchant_reference=merchant_reference,
                reference=reference,
                token=token,
                amount=amount,
            ),
            timeout_seconds=self._policy.provider_timeout_seconds,
        )

    # -------------------------------------------------------------- capture

    async def CapturePayment(
        self, request: payments_pb2.CapturePaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.CapturePaymentResponse:
        key = _checked_key(request, request.idempotency_key)
        payment_id = _required(request.payment_id, "payment_id")
        amount = mapping.money_from_proto(request.amount, "amount")
        final = request.final

        async def capture(session: AsyncSession) -> payments_pb2.CapturePaymentResponse:
            payment = await store.payment_to_change(session, payment_id)
            if domain.needs_renewal(payment, _now()):
                # Refuse a capture that could never fit before asking anyone again.
                domain.capture(domain.renewed(payment), amount, final=final)
                payment = await self._renew(session, key, payment)
            after = domain.capture(payment, amount, final=final)
            released = after.released_minor - payment.released_minor
            if payment.tender_type == domain.CARD:
                await self._call_provider("capture", key, payment, amount, final=final)
            elif payment.tender_type in domain.LEDGER_TENDERS:
                await store.redeem_gift_card_hold(
                    session, payment.gift_card_code, amount, payment.reference
                )
                if released:
                    await store.release_gift_card_hold(
                        session,
                        payment.gift_card_code,
                        Money(released, payment.currency),
                        payment.reference,
                    )
            saved = await store.record_capture(session, after, amount, released)
            return payments_pb2.CapturePaymentResponse(payment=mapping.payment_to_proto(saved))

        return await run_once(
            self._database, key, request, payments_pb2.CapturePaymentResponse, capture
        )

    async def _renew(self, session: AsyncSession, key: str, payment: Payment) -> Payment:
        """A new authorization for what is still capturable (a provider one under
        a key derived from the capture's, or a new gift card hold); or the
        payment marked expired and a refusal."""
        renewed = domain.renewed(payment)
        remaining = Money(renewed.capturable_minor, payment.currency)
        if not self._policy.reauthorize_expired:
            why = "expired authorizations are not renewed"
        elif payment.tender_type in domain.LEDGER_TENDERS:
            try:
                await store.hold_gift_card(
                    session, payment.gift_card_code, remaining, payment.reference
                )
            except BusinessRuleViolation:
                why = "the gift card balance no longer covers it"
            else:
                return await store.record_reauthorization(session, renewed, "", self._hold_expiry())
        else:
            token = await store.card_token(session, payment.payment_id)
            result = await self._provider_authorize(
                _derived_key(key, "reauthorize"), payment.reference, token, remaining
            )
            if result.outcome != DECLINED:
                return await store.record_reauthorization(
                    session,
                    renewed,
                    result.provider_reference,
                    _now() + self._policy.card_not_present_lifetime,
                )
            why = "the new authorization was declined"
        if payment.status == domain.AUTHORIZED and payment.captured_minor == 0:
            await store.record_expiry(session, payment.payment_id)
        raise RefusedAfterChanges(domain.expired_refusal(payment, why))

    # --------------------------------------------------------------- expiry

    async def expire_lapsed(self) -> list[Payment]:
        """Marks authorizations past expires_at that nobody captured as expired,
        giving gift card holds back; returns them."""
        expired: list[Payment] = []
        while True:
            async with self._database.transaction() as session:
                batch = await store.expire_lapsed(session, _now(), EXPIRY_SWEEP_BATCH)
            expired.extend(batch)
            if len(batch) < EXPIRY_SWEEP_BATCH:
                return expired

    async def expire_lapsed_forever(self, interval_seconds: float) -> None:
        """Expires authorizations on time even when nobody captures them. Every
        replica may run it: the sweep skips payments another one has locked."""
        while True:
            try:
                expired = await self.expire_lapsed()
                if expired:
                    logger.info("expired %d lapsed authorizations", len(expired))
            except Exception:
                logger.exception("authorization expiry sweep failed; trying again")
            await asyncio.sleep(interval_seconds)

    # ----------------------------------------------------------------- void

    async def VoidPayment(
        self, request: payments_pb2.VoidPaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.VoidPaymentResponse:
        key = _checked_key(request, request.idempotency_key)
        payment_id = _required(request.payment_id, "payment_id")

        async def void(session: AsyncSession) -> payments_pb2.VoidPaymentResponse:
            payment = await store.payment_to_change(session, payment_id)
            if domain.void(payment).status == domain.EXPIRED:
                # Already given back (hold released, authorization lapsed).
                return payments_pb2.VoidPaymentResponse(payment=mapping.payment_to_proto(payment))
            authorized = Money(payment.authorized_minor, payment.currency)
            if payment.tender_type == domain.CARD:
                await self._call_provider("void", key, payment, authorized)
            elif payment.tender_type in domain.LEDGER_TENDERS:
                await store.release_gift_card_hold(
                    session, payment.gift_card_code, authorized, payment.reference
                )
            saved = await store.record_void(session, payment_id)
            return payments_pb2.VoidPaymentResponse(payment=mapping.payment_to_proto(saved))

        return await run_once(self._database, key, request, payments_pb2.VoidPaymentResponse, void)

    # --------------------------------------------------------------- refund

    async def RefundPayment(
        self, request: payments_pb2.RefundPaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.RefundPaymentResponse:
        key = _checked_key(request, request.idempotency_key)
        payment_id = _required(request.payment_id, "payment_id")
        amount = mapping.money_from_proto(request.amount, "amount")
        customer_id = (
            _required(request.customer_id, "customer_id") if request.to_store_credit else ""
        )

        async def refund(session: AsyncSession) -> payments_pb2.RefundPaymentResponse:
            payment = await store.payment_to_change(session, payment_id)
            after = domain.refund(payment, amount)
            reply = payments_pb2.RefundPaymentResponse()
            if customer_id:
                code = await store.store_credit_account(session, customer_id, amount.currency)
                credit = await store.credit_gift_card(
                    session, code, amount, entry_kind="refund", reference=payment.reference
                )
                reply.store_credit.CopyFrom(mapping.gift_card_to_proto(credit))
            elif payment.tender_type == domain.CARD:
                await self._call_provider("refund", key, payment, amount)
            elif payment.tender_type in domain.LEDGER_TENDERS:
                await store.credit_gift_card(
                    session,
                    payment.gift_card_code,
                    amount,
                    entry_kind="refund",
                    reference=payment.reference,
                )
            # Cash is handed back at the till: recording it is all there is.
            saved = await store.record_refund(session, after, amount)
            reply.payment.CopyFrom(mapping.payment_to_proto(saved))
            return reply

        return await run_once(
            self._database, key, request, payments_pb2.RefundPaymentResponse, refund
        )

    # ----------------------------------------------------------- gift cards

    async def IssueGiftCard(
        self, request: payments_pb2.IssueGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.IssueGiftCardResponse:
        key = _checked_key(request, request.idempotency_key)
        initial = mapping.money_from_proto(request.initial_balance, "initial_balance")

        async def issue(session: AsyncSession) -> payments_pb2.IssueGiftCardResponse:
            card = await store.issue_gift_card(session, domain.new_gift_card_code(), initial)
            return payments_pb2.IssueGiftCardResponse(gift_card=mapping.gift_card_to_proto(card))

        return await run_once(
            self._database, key, request, payments_pb2.IssueGiftCardResponse, issue
        )

    async def ReloadGiftCard(
        self, request: payments_pb2.ReloadGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ReloadGiftCardResponse:
        key = _checked_key(request, request.idempotency_key)
        code = _required(request.code, "code")
        amount = mapping.money_from_proto(request.amount, "amount")

        async def reload(session: AsyncSession) -> payments_pb2.ReloadGiftCardResponse:
            card = await store.credit_gift_card(session, code, amount, entry_kind="reload")
            return payments_pb2.ReloadGiftCardResponse(gift_card=mapping.gift_card_to_proto(card))

        return await run_once(
            self._database, key, request, payments_pb2.ReloadGiftCardResponse, reload
        )

    async def GetGiftCard(
        self, request: payments_pb2.GetGiftCardRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetGiftCardResponse:
        mapping.reject_card_numbers(request)
        code = _required(request.code, "code")
        card = await self._read(store.get_gift_card, code)
        return payments_pb2.GetGiftCardResponse(gift_card=mapping.gift_card_to_proto(card))

    async def ListStoreCredit(
        self, request: payments_pb2.ListStoreCreditRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ListStoreCreditResponse:
        customer_id = _required(request.customer_id, "customer_id")
        found = await self._read(store.list_store_credit, customer_id)
        return payments_pb2.ListStoreCreditResponse(
            store_credit=[mapping.gift_card_to_proto(card) for card in found]
        )

    # ---------------------------------------------------------------- reads

    async def GetPayment(
        self, request: payments_pb2.GetPaymentRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.GetPaymentResponse:
        payment_id = _required(request.payment_id, "payment_id")
        payment = await self._read(store.get_payment, payment_id)
        return payments_pb2.GetPaymentResponse(payment=mapping.payment_to_proto(payment))

    async def ListPayments(
        self, request: payments_pb2.ListPaymentsRequest, context: grpc.aio.ServicerContext
    ) -> payments_pb2.ListPaymentsResponse:
        reference = _required(request.reference, "reference")
        found = await self._read(store.list_payments, reference)
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

    async def _read(self, read: Callable[[AsyncSession, str], Awaitable[Found]], key: str) -> Found:
        """One read of the store, in its own unit of work."""
        async with self._database.transaction() as session:
            return await read(session, key)

    async def _call_provider(
        self, operation: str, key: str, payment: Payment, amount: Money, *, final: bool = False
    ) -> None:
        """Runs capture/void/refund at the provider once per key (the merchant reference)."""
        performers: dict[str, Callable[..., Awaitable[ProviderResult]]] = {
            "capture": partial(self._provider.capture, final=final),
            "void": self._provider.void,
            "refund": self._provider.refund,
        }
        perform = performers[operation]
        result = await perform_once(
            self._provider,
            key,
            lambda: perform(
                merchant_reference=key,
                reference=payment.reference,
                provider_reference=payment.provider_reference,
                amount=amount,
            ),
            timeout_seconds=self._policy.provider_timeout_seconds,
        )
        _approved(result, operation, payment.payment_id)
