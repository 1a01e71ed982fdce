"""Payments use cases: one short function per RPC, request in, response out.

Each mutating call runs once per idempotency key (`Transactions.run_once`,
which also remembers refusals). The provider is called inside that unit of
work, after the key is claimed: if it is unavailable, Unavailable rolls
everything back (the key too) and the caller's retry with the same key asks
the provider again. Gift cards, store credit and cash never reach the
provider: they are ledger entries in the same transaction.

The store comes in through the protocols of services.payments.store (its
modules in production, an in-memory fake in tests/unit/test_payments_use_cases.py).

A little over 400 lines: eleven RPCs and the sweep, and capture's renewal of
a lapsed authorization; kept together because they share one story (claim
the key, lock the payment, call the domain, then the provider or the ledger).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from omni.payments.v1 import payments_pb2 as pb
from omni.words import (
    GiftCardEntryKind,
    PaymentStatus,
    ProviderOperationKind,
    ProviderOutcome,
    TenderType,
)
from services.common.errors import BusinessRuleViolation, InvalidArgument, NotFound
from services.common.idempotency import RefusedAfterChanges
from services.common.money import Money
from services.common.plain_session import SqlSession
from services.payments import domain, mapping
from services.payments.adapters.provider import (
    DEFAULT_TIMEOUT_SECONDS,
    PaymentProvider,
    authorize_once,
    follow_up_once,
)
from services.payments.domain import Payment
from services.payments.store import GiftCardRows, PaymentRows, StoreCreditRows, Transactions

# Authorizations the expiry sweep marks per statement; the rest wait a turn.
EXPIRY_SWEEP_BATCH = 500


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


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class App:
    """What the use cases work with; main.py wires the real ones."""

    payments: PaymentRows
    gift_cards: GiftCardRows
    store_credit: StoreCreditRows
    transactions: Transactions
    provider: PaymentProvider
    policy: PaymentPolicy = field(default_factory=PaymentPolicy)
    clock: Callable[[], datetime] = _utc_now

    def hold_expiry(self) -> datetime | None:
        lifetime = self.policy.gift_card_hold_lifetime
        return None if lifetime is None else self.clock() + lifetime


# --- authorize ---------------------------------------------------------------------


async def authorize_payment(
    app: App, request: pb.AuthorizePaymentRequest
) -> pb.AuthorizePaymentResponse:
    wanted = mapping.authorize_from_proto(request)
    tender = wanted.tender
    if tender.type in domain.CARD_TENDERS:
        app.provider.validate_token(tender.token)
    # Cash has no identity of its own: each recorded amount is its own payment.
    identity = wanted.key if tender.type is TenderType.CASH else tender.identity

    async def authorize(session: SqlSession) -> pb.AuthorizePaymentResponse:
        await app.payments.lock_tender(session, wanted.reference, tender.type, identity)
        existing = await app.payments.find_for_tender(
            session, wanted.reference, tender.type, identity
        )
        if existing is not None:
            raise domain.payment_exists(existing)
        payment_id = str(uuid.uuid4())
        if tender.type in domain.CARD_TENDERS:
            payment = await _authorize_card(app, wanted, payment_id)
            if wanted.capture:
                payment = await _capture_at_once(app, wanted, payment)
        elif tender.type in domain.LEDGER_TENDERS:
            await app.gift_cards.hold(session, tender.code, wanted.amount, wanted.reference)
            payment = domain.authorized_payment(
                payment_id=payment_id,
                reference=wanted.reference,
                tender=tender,
                amount=wanted.amount,
                expires_at=app.hold_expiry(),
            )
        else:
            payment = domain.recorded_cash(
                payment_id=payment_id, reference=wanted.reference, amount=wanted.amount
            )
        saved = await app.payments.insert(session, payment, identity)
        return pb.AuthorizePaymentResponse(payment=mapping.payment_to_proto(saved))

    return await app.transactions.run_once(
        wanted.key, request, pb.AuthorizePaymentResponse, authorize
    )


async def _authorize_card(app: App, wanted: mapping.Authorize, payment_id: str) -> Payment:
    result = await authorize_once(
        app.provider,
        merchant_reference=wanted.key,
        reference=wanted.reference,
        token=wanted.tender.token,
        amount=wanted.amount,
        timeout_seconds=app.policy.provider_timeout_seconds,
    )
    if result.outcome is ProviderOutcome.DECLINED:
        raise domain.card_declined(wanted.reference)
    lifetime = domain.authorization_lifetime(
        domain.CARD_PRESENT_CHANNEL
        if wanted.tender.type is TenderType.CARD_PRESENT
        else wanted.channel,
        card_present=app.policy.card_present_lifetime,
        card_not_present=app.policy.card_not_present_lifetime,
    )
    return domain.authorized_payment(
        payment_id=payment_id,
        reference=wanted.reference,
        tender=wanted.tender,
        amount=wanted.amount,
        card_brand=result.card_brand,
        card_last4=result.card_last4,
        provider_reference=result.provider_reference,
        expires_at=app.clock() + lifetime,
    )


async def _capture_at_once(app: App, wanted: mapping.Authorize, payment: Payment) -> Payment:
    """A till's sale (issue 14): the whole authorization captured, final,
    before the payment row is written, so it is inserted captured - no
    second call, idempotency row, row lock or update. The provider's capture
    is keyed by a reference derived from the sale's key: a retry after a
    crash finds both provider operations and does neither again."""
    after = domain.capture(payment, wanted.amount, final=True)
    await _call_provider(
        app,
        ProviderOperationKind.CAPTURE,
        _derived_key(wanted.key, "capture"),
        payment,
        wanted.amount,
        final=True,
    )
    return after


# --- capture, void, refund ---------------------------------------------------------


async def _payment_to_change(app: App, session: SqlSession, payment_id: str) -> Payment:
    """The payment a capture, void or refund names, row-locked; an unknown id is bad input."""
    payment = await app.payments.get(session, payment_id, lock=True)
    if payment is None:
        raise InvalidArgument.field("payment_id", "names no payment")
    return payment


async def capture_payment(app: App, request: pb.CapturePaymentRequest) -> pb.CapturePaymentResponse:
    wanted = mapping.capture_from_proto(request)
    amount = wanted.amount

    async def capture(session: SqlSession) -> pb.CapturePaymentResponse:
        payment = await _payment_to_change(app, session, wanted.payment_id)
        if domain.needs_renewal(payment, app.clock()):
            # Refuse a capture that could never fit before asking anyone again.
            domain.capture(domain.renewed(payment), amount, final=wanted.final)
            payment = await _renew(app, session, wanted.key, payment)
        after = domain.capture(payment, amount, final=wanted.final)
        released = after.released_minor - payment.released_minor
        if payment.tender_type in domain.CARD_TENDERS:
            await _call_provider(
                app, ProviderOperationKind.CAPTURE, wanted.key, payment, amount, final=wanted.final
            )
        elif payment.tender_type in domain.LEDGER_TENDERS:
            code, reference = payment.gift_card_code, payment.reference
            await app.gift_cards.redeem_hold(session, code, amount, reference)
            if released:
                rest = Money(released, payment.currency)
                await app.gift_cards.release_hold(session, code, rest, reference)
        saved = await app.payments.record_capture(session, after, amount, released)
        return pb.CapturePaymentResponse(payment=mapping.payment_to_proto(saved))

    return await app.transactions.run_once(wanted.key, request, pb.CapturePaymentResponse, capture)


async def _renew(app: App, session: SqlSession, key: str, payment: Payment) -> Payment:
    """A new authorization for what is still capturable (a provider one under
    a key derived from the capture's, or a new gift card hold); or the
    payment marked expired and a refusal."""
    renewed = domain.renewed(payment)
    remaining = Money(renewed.capturable_minor, payment.currency)
    if not app.policy.reauthorize_expired:
        why = "expired authorizations are not renewed"
    elif payment.tender_type in domain.LEDGER_TENDERS:
        try:
            await app.gift_cards.hold(session, payment.gift_card_code, remaining, payment.reference)
        except BusinessRuleViolation:
            why = "the gift card balance no longer covers it"
        else:
            return await app.payments.record_reauthorization(
                session, renewed, "", app.hold_expiry()
            )
    else:
        token = await app.payments.card_token(session, payment.payment_id)
        result = await authorize_once(
            app.provider,
            merchant_reference=_derived_key(key, "reauthorize"),
            reference=payment.reference,
            token=token,
            amount=remaining,
            timeout_seconds=app.policy.provider_timeout_seconds,
        )
        if result.outcome is not ProviderOutcome.DECLINED:
            return await app.payments.record_reauthorization(
                session,
                renewed,
                result.provider_reference,
                app.clock() + app.policy.card_not_present_lifetime,
            )
        why = "the new authorization was declined"
    if domain.is_expirable(payment):
        await app.payments.record_expiry(session, payment.payment_id)
    raise RefusedAfterChanges(domain.expired_refusal(payment, why))


def _derived_key(key: str, step: str) -> str:
    """A merchant reference for a step of the operation keyed `key`, within the
    200 characters a reference may have."""
    derived = f"{key}/{step}"
    if len(derived) <= mapping.MAX_REFERENCE_LENGTH:
        return derived
    return f"{hashlib.sha256(key.encode()).hexdigest()}/{step}"


async def void_payment(app: App, request: pb.VoidPaymentRequest) -> pb.VoidPaymentResponse:
    wanted = mapping.void_from_proto(request)

    async def void(session: SqlSession) -> pb.VoidPaymentResponse:
        payment = await _payment_to_change(app, session, wanted.payment_id)
        if domain.void(payment).status is PaymentStatus.EXPIRED:
            # Already given back (hold released, authorization lapsed).
            return pb.VoidPaymentResponse(payment=mapping.payment_to_proto(payment))
        authorized = Money(payment.authorized_minor, payment.currency)
        if payment.tender_type in domain.CARD_TENDERS:
            await _call_provider(app, ProviderOperationKind.VOID, wanted.key, payment, authorized)
        elif payment.tender_type in domain.LEDGER_TENDERS:
            await app.gift_cards.release_hold(
                session, payment.gift_card_code, authorized, payment.reference
            )
        saved = await app.payments.record_void(session, payment.payment_id)
        return pb.VoidPaymentResponse(payment=mapping.payment_to_proto(saved))

    return await app.transactions.run_once(wanted.key, request, pb.VoidPaymentResponse, void)


async def reauthorize_payment(
    app: App, request: pb.ReauthorizePaymentRequest
) -> pb.ReauthorizePaymentResponse:
    """A card payment authorized again for its capturable rest before it
    lapses (issue 11): the new provider authorization first (its merchant
    reference derived from the key), then the old one voided, then the payment
    points at the new one with a fresh card-not-present lifetime (the customer
    is not at a till). A decline changes nothing here: the old authorization
    lives until it lapses. Tenders that never lapse answer as they are."""
    wanted = mapping.reauthorize_from_proto(request)

    async def reauthorize(session: SqlSession) -> pb.ReauthorizePaymentResponse:
        payment = await _payment_to_change(app, session, wanted.payment_id)
        if not domain.reauthorizable(payment):
            if payment.tender_type in domain.CARD_TENDERS:
                domain.check_reauthorize(payment)
            return pb.ReauthorizePaymentResponse(payment=mapping.payment_to_proto(payment))
        domain.check_reauthorize(payment)
        renewed = domain.renewed(payment)
        remaining = Money(renewed.capturable_minor, payment.currency)
        token = await app.payments.card_token(session, payment.payment_id)
        result = await authorize_once(
            app.provider,
            merchant_reference=_derived_key(wanted.key, "authorize"),
            reference=payment.reference,
            token=token,
            amount=remaining,
            timeout_seconds=app.policy.provider_timeout_seconds,
        )
        if result.outcome is ProviderOutcome.DECLINED:
            raise domain.card_declined(payment.reference)
        if payment.status is not PaymentStatus.EXPIRED:
            # The old one lapses at the provider anyway once expired.
            await _call_provider(
                app,
                ProviderOperationKind.VOID,
                _derived_key(wanted.key, "void"),
                payment,
                remaining,
            )
        saved = await app.payments.record_reauthorization(
            session,
            renewed,
            result.provider_reference,
            app.clock() + app.policy.card_not_present_lifetime,
        )
        return pb.ReauthorizePaymentResponse(payment=mapping.payment_to_proto(saved))

    return await app.transactions.run_once(
        wanted.key, request, pb.ReauthorizePaymentResponse, reauthorize
    )


async def refund_payment(app: App, request: pb.RefundPaymentRequest) -> pb.RefundPaymentResponse:
    wanted = mapping.refund_from_proto(request)
    amount = wanted.amount

    async def refund(session: SqlSession) -> pb.RefundPaymentResponse:
        payment = await _payment_to_change(app, session, wanted.payment_id)
        after = domain.refund(payment, amount)
        reply = pb.RefundPaymentResponse()
        refunded = GiftCardEntryKind.REFUND
        if wanted.store_credit_customer_id:
            code = await app.store_credit.account(
                session, wanted.store_credit_customer_id, amount.currency
            )
            credit = await app.gift_cards.credit(
                session, code, amount, entry_kind=refunded, reference=payment.reference
            )
            reply.store_credit.CopyFrom(mapping.gift_card_to_proto(credit))
        elif payment.tender_type in domain.CARD_TENDERS:
            await _call_provider(app, ProviderOperationKind.REFUND, wanted.key, payment, amount)
        elif payment.tender_type in domain.LEDGER_TENDERS:
            await app.gift_cards.credit(
                session,
                payment.gift_card_code,
                amount,
                entry_kind=refunded,
                reference=payment.reference,
            )
        # Cash is handed back at the till: recording it is all there is.
        saved = await app.payments.record_refund(session, after, amount)
        reply.payment.CopyFrom(mapping.payment_to_proto(saved))
        return reply

    return await app.transactions.run_once(wanted.key, request, pb.RefundPaymentResponse, refund)


async def _call_provider(
    app: App,
    operation: ProviderOperationKind,
    key: str,
    payment: Payment,
    amount: Money,
    *,
    final: bool = False,
) -> None:
    """Runs capture/void/refund at the provider once per key (the merchant reference)."""
    result = await follow_up_once(
        app.provider,
        operation,
        merchant_reference=key,
        reference=payment.reference,
        provider_reference=payment.provider_reference,
        amount=amount,
        final=final,
        timeout_seconds=app.policy.provider_timeout_seconds,
    )
    if result.outcome is ProviderOutcome.DECLINED:
        raise domain.provider_declined(operation, payment.payment_id)


# --- expiry ------------------------------------------------------------------------


async def expire_lapsed(app: App) -> list[Payment]:
    """Marks authorizations past expires_at that nobody captured as expired,
    giving their gift card holds back in the same transaction; returns them."""
    expired: list[Payment] = []
    while True:
        async with app.transactions.unit_of_work() as uow:
            batch = await app.payments.expire_lapsed(uow.session, app.clock(), EXPIRY_SWEEP_BATCH)
            for payment in batch:
                if payment.tender_type in domain.LEDGER_TENDERS:
                    held = Money(payment.authorized_minor, payment.currency)
                    await app.gift_cards.release_hold(
                        uow.session, payment.gift_card_code, held, payment.reference
                    )
            await uow.commit()
        expired.extend(batch)
        if len(batch) < EXPIRY_SWEEP_BATCH:
            return expired


# --- gift cards and store credit ---------------------------------------------------


async def issue_gift_card(app: App, request: pb.IssueGiftCardRequest) -> pb.IssueGiftCardResponse:
    wanted = mapping.issue_from_proto(request)

    async def issue(session: SqlSession) -> pb.IssueGiftCardResponse:
        code = domain.new_gift_card_code()
        card = await app.gift_cards.issue(session, code, wanted.initial_balance)
        return pb.IssueGiftCardResponse(gift_card=mapping.gift_card_to_proto(card))

    return await app.transactions.run_once(wanted.key, request, pb.IssueGiftCardResponse, issue)


async def reload_gift_card(
    app: App, request: pb.ReloadGiftCardRequest
) -> pb.ReloadGiftCardResponse:
    wanted = mapping.reload_from_proto(request)

    async def reload(session: SqlSession) -> pb.ReloadGiftCardResponse:
        card = await app.gift_cards.credit(
            session, wanted.code, wanted.amount, entry_kind=GiftCardEntryKind.RELOAD
        )
        return pb.ReloadGiftCardResponse(gift_card=mapping.gift_card_to_proto(card))

    return await app.transactions.run_once(wanted.key, request, pb.ReloadGiftCardResponse, reload)


async def get_gift_card(app: App, request: pb.GetGiftCardRequest) -> pb.GetGiftCardResponse:
    code = mapping.name_from_proto("code", request.code)
    async with app.transactions.unit_of_work() as uow:
        card = await app.gift_cards.get(uow.session, code)
    if card is None:
        raise NotFound("no gift card has this code", resource_type="gift_card", ids=[code])
    return pb.GetGiftCardResponse(gift_card=mapping.gift_card_to_proto(card))


async def list_store_credit(
    app: App, request: pb.ListStoreCreditRequest
) -> pb.ListStoreCreditResponse:
    customer_id = mapping.name_from_proto("customer_id", request.customer_id)
    async with app.transactions.unit_of_work() as uow:
        found = await app.store_credit.list_for_customer(uow.session, customer_id)
    return pb.ListStoreCreditResponse(store_credit=[mapping.gift_card_to_proto(c) for c in found])


# --- reads -------------------------------------------------------------------------


async def get_payment(app: App, request: pb.GetPaymentRequest) -> pb.GetPaymentResponse:
    payment_id = mapping.name_from_proto("payment_id", request.payment_id)
    async with app.transactions.unit_of_work() as uow:
        payment = await app.payments.get(uow.session, payment_id)
    if payment is None:
        raise NotFound(f"payment {payment_id} not found", resource_type="payment", ids=[payment_id])
    return pb.GetPaymentResponse(payment=mapping.payment_to_proto(payment))


async def list_payments(app: App, request: pb.ListPaymentsRequest) -> pb.ListPaymentsResponse:
    reference = mapping.name_from_proto("reference", request.reference)
    async with app.transactions.unit_of_work() as uow:
        found = await app.payments.list_for_reference(uow.session, reference)
    return pb.ListPaymentsResponse(payments=[mapping.payment_to_proto(p) for p in found])


async def list_provider_operations(
    app: App, request: pb.ListProviderOperationsRequest
) -> pb.ListProviderOperationsResponse:
    reference = mapping.name_from_proto("reference", request.reference)
    operations = await app.provider.list_operations(reference)
    return pb.ListProviderOperationsResponse(
        operations=[mapping.provider_operation_to_proto(op) for op in operations]
    )
