"""Proto <-> domain for payments: requests become checked commands, results become messages.

Every field error of a request is reported at once (services.common.validation);
card numbers never get this far (the server's CardNumberInterceptor).
"""

from __future__ import annotations

from dataclasses import dataclass

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2
from omni.words import Channel, TenderType
from services.common.idempotency import MAX_KEY_LENGTH
from services.common.money import Money, validate_money
from services.common.timestamps import to_timestamp
from services.common.validation import Violations
from services.payments import domain
from services.payments.adapters.provider import ProviderOperation
from services.payments.domain import GiftCard, Payment, Tender

MAX_REFERENCE_LENGTH = 200


@dataclass(frozen=True)
class Authorize:
    key: str
    reference: str
    tender: Tender
    amount: Money
    channel: Channel | None
    # A till's card_present sale: captured in full, final, in the same call.
    capture: bool = False


@dataclass(frozen=True)
class Capture:
    key: str
    payment_id: str
    amount: Money
    final: bool


@dataclass(frozen=True)
class Void:
    key: str
    payment_id: str


@dataclass(frozen=True)
class Refund:
    key: str
    payment_id: str
    amount: Money
    # Set: refunded as store credit issued to this customer, not to the tender.
    store_credit_customer_id: str


@dataclass(frozen=True)
class IssueGiftCard:
    key: str
    initial_balance: Money


@dataclass(frozen=True)
class ReloadGiftCard:
    key: str
    code: str
    amount: Money


def _check_key(violations: Violations, key: str) -> None:
    violations.check_text("idempotency_key", key, required=True, max_length=MAX_KEY_LENGTH)


def _check_name(violations: Violations, field: str, value: str) -> None:
    """A reference, payment id, gift card code or customer id."""
    violations.check_text(field, value, required=True, max_length=MAX_REFERENCE_LENGTH)


def _money(money: common_pb2.Money, field: str, *, allow_zero: bool = False) -> Money:
    return validate_money(Money(money.amount_minor, money.currency), field, allow_zero=allow_zero)


def _tender(tender: payments_pb2.Tender, violations: Violations) -> Tender | None:
    kind = TenderType.from_proto(tender.type)
    if kind is None:
        violations.add("tender.type", "must be one of " + ", ".join(TenderType))
        return None
    if kind in domain.CARD_TENDERS and not tender.token:
        violations.add("tender.token", "is required for a card")
    elif kind in domain.LEDGER_TENDERS and not tender.code:
        violations.add("tender.code", f"is required for {kind}")
    return Tender(type=kind, token=tender.token, code=tender.code)


def authorize_from_proto(request: payments_pb2.AuthorizePaymentRequest) -> Authorize:
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    _check_name(violations, "reference", request.reference)
    tender = _tender(request.tender, violations)
    if request.capture and tender is not None and tender.type is not TenderType.CARD_PRESENT:
        violations.add("capture", "only a card_present sale is captured at once")
    violations.raise_if_any()
    assert tender is not None  # else a violation was raised
    return Authorize(
        key=request.idempotency_key,
        reference=request.reference,
        tender=tender,
        amount=_money(request.amount, "amount"),
        channel=Channel.from_proto(request.channel),
        capture=request.capture,
    )


def capture_from_proto(request: payments_pb2.CapturePaymentRequest) -> Capture:
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    _check_name(violations, "payment_id", request.payment_id)
    violations.raise_if_any()
    return Capture(
        key=request.idempotency_key,
        payment_id=request.payment_id,
        # A final capture of nothing releases what is left (a split shipment
        # whose last fulfillments were cancelled after one had shipped).
        amount=_money(request.amount, "amount", allow_zero=request.final),
        final=request.final,
    )


def void_from_proto(request: payments_pb2.VoidPaymentRequest) -> Void:
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    _check_name(violations, "payment_id", request.payment_id)
    violations.raise_if_any()
    return Void(key=request.idempotency_key, payment_id=request.payment_id)


def reauthorize_from_proto(request: payments_pb2.ReauthorizePaymentRequest) -> Void:
    """The same two fields as a void: the key and the payment."""
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    _check_name(violations, "payment_id", request.payment_id)
    violations.raise_if_any()
    return Void(key=request.idempotency_key, payment_id=request.payment_id)


def refund_from_proto(request: payments_pb2.RefundPaymentRequest) -> Refund:
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    _check_name(violations, "payment_id", request.payment_id)
    if request.to_store_credit:
        _check_name(violations, "customer_id", request.customer_id)
    violations.raise_if_any()
    return Refund(
        key=request.idempotency_key,
        payment_id=request.payment_id,
        amount=_money(request.amount, "amount"),
        store_credit_customer_id=request.customer_id if request.to_store_credit else "",
    )


def issue_from_proto(request: payments_pb2.IssueGiftCardRequest) -> IssueGiftCard:
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    violations.raise_if_any()
    return IssueGiftCard(
        key=request.idempotency_key,
        initial_balance=_money(request.initial_balance, "initial_balance"),
    )


def reload_from_proto(request: payments_pb2.ReloadGiftCardRequest) -> ReloadGiftCard:
    violations = Violations()
    _check_key(violations, request.idempotency_key)
    _check_name(violations, "code", request.code)
    violations.raise_if_any()
    return ReloadGiftCard(
        key=request.idempotency_key, code=request.code, amount=_money(request.amount, "amount")
    )


def name_from_proto(field: str, value: str) -> str:
    """The one name a read asks by (payment_id, reference, code, customer_id)."""
    violations = Violations()
    _check_name(violations, field, value)
    violations.raise_if_any()
    return value


def money_to_proto(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


def payment_to_proto(payment: Payment) -> payments_pb2.Payment:
    return payments_pb2.Payment(
        payment_id=payment.payment_id,
        reference=payment.reference,
        tender_type=payment.tender_type.to_proto(),
        status=payment.status.to_proto(),
        authorized=money_to_proto(payment.authorized_minor, payment.currency),
        captured=money_to_proto(payment.captured_minor, payment.currency),
        refunded=money_to_proto(payment.refunded_minor, payment.currency),
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        created_at=to_timestamp(payment.created_at),
        expires_at=to_timestamp(payment.expires_at) if payment.expires_at else None,
        gift_card_code=payment.gift_card_code,
        released=money_to_proto(payment.released_minor, payment.currency),
    )


def gift_card_to_proto(card: GiftCard) -> payments_pb2.GiftCard:
    return payments_pb2.GiftCard(
        code=card.code,
        balance=money_to_proto(card.balance_minor, card.currency),
        held=money_to_proto(card.held_minor, card.currency),
        kind=card.kind.to_proto(),
        customer_id=card.customer_id,
        history=[
            payments_pb2.GiftCardEntry(
                kind=entry.kind.to_proto(),
                amount=money_to_proto(entry.amount.amount_minor, entry.amount.currency),
                reference=entry.reference,
                at=to_timestamp(entry.at),
            )
            for entry in card.history
        ],
        created_at=to_timestamp(card.created_at),
    )


def provider_operation_to_proto(operation: ProviderOperation) -> payments_pb2.ProviderOperation:
    return payments_pb2.ProviderOperation(
        operation=operation.operation.to_proto(),
        amount=money_to_proto(operation.amount.amount_minor, operation.amount.currency),
        outcome=operation.outcome.to_proto(),
        at=to_timestamp(operation.at),
    )
