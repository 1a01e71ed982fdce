"""Payment rules: the state machine of one tender's payment, and gift card balances. No I/O.

authorized --capture (partial, several)--> captured --refund (partial, several)--> refunded
authorized (nothing captured) --void--> voided
authorized (nothing captured, past expires_at) --expire--> expired --renew--> authorized
Invariants: 0 <= refunded <= captured; captured + released <= authorized;
voided and expired never captured. A final capture releases what is left
(released), so nothing more can be captured.

Tenders: a card goes through the provider; a gift card or store credit holds
its balance on authorize, redeems the hold on capture, releases it on void and
is credited back on refund; cash (recorded by a till) is captured at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from omni.words import Channel, GiftCardEntryKind, GiftCardKind, PaymentStatus, TenderType
from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument
from services.common.money import Money

# Tenders drawn from the gift card ledger (store credit is a gift card too).
LEDGER_TENDERS = (TenderType.GIFT_CARD, TenderType.STORE_CREDIT)

# The channel whose card payments are card-present.
CARD_PRESENT_CHANNEL = Channel.POS
# Tenders that go through the provider by a token: a card online, or one read
# at a till (card_present, issue 14).
CARD_TENDERS = (TenderType.CARD, TenderType.CARD_PRESENT)

INVALID_PAYMENT_STATE = "INVALID_PAYMENT_STATE"
AUTHORIZATION_EXPIRED = "AUTHORIZATION_EXPIRED"
INSUFFICIENT_GIFT_CARD_BALANCE = "INSUFFICIENT_GIFT_CARD_BALANCE"
GIFT_CARD_NOT_FOUND = "GIFT_CARD_NOT_FOUND"

# Gift card codes: letters and digits but never a long digit run, so a code
# can never look like a card number.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"


@dataclass(frozen=True)
class Tender:
    type: TenderType
    token: str = ""
    code: str = ""

    @property
    def identity(self) -> str:
        """What tells this tender apart from another of the same order."""
        return self.token if self.type in CARD_TENDERS else self.code


@dataclass(frozen=True)
class Payment:
    payment_id: str
    reference: str
    tender_type: TenderType
    status: PaymentStatus
    currency: str
    authorized_minor: int
    captured_minor: int = 0
    refunded_minor: int = 0
    card_brand: str = ""
    card_last4: str = ""
    provider_reference: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    gift_card_code: str = ""
    # What a final capture gave back: never to be captured.
    released_minor: int = 0

    @property
    def capturable_minor(self) -> int:
        if self.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
            return 0
        return self.authorized_minor - self.captured_minor - self.released_minor

    @property
    def refundable_minor(self) -> int:
        if self.status is not PaymentStatus.CAPTURED:
            return 0
        return self.captured_minor - self.refunded_minor


def authorized_payment(
    *,
    payment_id: str,
    reference: str,
    tender: Tender,
    amount: Money,
    card_brand: str = "",
    card_last4: str = "",
    provider_reference: str = "",
    expires_at: datetime | None = None,
) -> Payment:
    return Payment(
        payment_id=payment_id,
        reference=reference,
        tender_type=tender.type,
        status=PaymentStatus.AUTHORIZED,
        currency=amount.currency,
        authorized_minor=amount.amount_minor,
        card_brand=card_brand,
        card_last4=card_last4,
        provider_reference=provider_reference,
        expires_at=expires_at,
        gift_card_code=tender.code if tender.type in LEDGER_TENDERS else "",
    )


def recorded_cash(*, payment_id: str, reference: str, amount: Money) -> Payment:
    """Cash taken at a till: nothing to authorize, captured as it is recorded."""
    return Payment(
        payment_id=payment_id,
        reference=reference,
        tender_type=TenderType.CASH,
        status=PaymentStatus.CAPTURED,
        currency=amount.currency,
        authorized_minor=amount.amount_minor,
        captured_minor=amount.amount_minor,
    )


def authorization_lifetime(
    channel: Channel | None, *, card_present: timedelta, card_not_present: timedelta
) -> timedelta:
    return card_present if channel is CARD_PRESENT_CHANNEL else card_not_present


def is_lapsed(payment: Payment, now: datetime) -> bool:
    """The authorization's time is up (tenders without expires_at never lapse)."""
    return payment.expires_at is not None and now >= payment.expires_at


def needs_renewal(payment: Payment, now: datetime) -> bool:
    """A capture must authorize again first: the payment was marked expired, or
    a card authorization lapsed at the provider (a gift card hold that lapsed
    but was not yet swept still holds its amount)."""
    if payment.status is PaymentStatus.EXPIRED:
        return True
    return payment.tender_type in CARD_TENDERS and is_lapsed(payment, now)


def renewed(payment: Payment) -> Payment:
    """The payment as a fresh authorization of its capturable rest would leave it."""
    return (
        replace(payment, status=PaymentStatus.AUTHORIZED)
        if payment.status is PaymentStatus.EXPIRED
        else payment
    )


def _require_currency(payment: Payment, amount: Money) -> None:
    if amount.currency != payment.currency:
        raise InvalidArgument.field(
            "amount.currency", f"must be the payment's currency {payment.currency}"
        )


def payment_exists(existing: Payment) -> Conflict:
    return Conflict(
        "PAYMENT_ALREADY_EXISTS",
        "this tender already has a payment for this reference",
        {"payment_id": existing.payment_id},
    )


def card_declined(reference: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "PAYMENT_DECLINED", "the card was declined", {"reference": reference}
    )


def provider_declined(operation: str, payment_id: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "PROVIDER_DECLINED",
        f"the payment provider declined the {operation}",
        {"payment_id": payment_id},
    )


def changed_meanwhile(payment_id: str) -> Conflict:
    """A change whose condition no longer held: someone else changed the payment first."""
    return Conflict(
        INVALID_PAYMENT_STATE,
        "the payment changed meanwhile; read it again",
        {"payment_id": payment_id},
    )


def _invalid_state(payment: Payment, action: str, **metadata: str) -> Conflict:
    return Conflict(
        INVALID_PAYMENT_STATE,
        f"cannot {action} a payment that is {payment.status}",
        {"payment_id": payment.payment_id, "status": payment.status, **metadata},
    )


def capture(payment: Payment, amount: Money, *, final: bool = False) -> Payment:
    """Captures part or all of what is still authorized; a final capture
    releases the rest, so nothing more can be captured."""
    _require_currency(payment, amount)
    if payment.status is PaymentStatus.EXPIRED:
        raise expired_refusal(payment, "cannot be captured")
    if payment.status not in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED):
        raise _invalid_state(payment, "capture")
    if amount.amount_minor > payment.capturable_minor:
        raise Conflict(
            INVALID_PAYMENT_STATE,
            "capture exceeds the amount still authorized",
            {"payment_id": payment.payment_id, "capturable_minor": str(payment.capturable_minor)},
        )
    released = payment.capturable_minor - amount.amount_minor if final else 0
    return replace(
        payment,
        status=PaymentStatus.CAPTURED,
        captured_minor=payment.captured_minor + amount.amount_minor,
        released_minor=payment.released_minor + released,
    )


def is_expirable(payment: Payment) -> bool:
    """An authorization of which nothing was captured: its lapse can mark it expired."""
    return payment.status is PaymentStatus.AUTHORIZED and payment.captured_minor == 0


def reauthorizable(payment: Payment) -> bool:
    """A card authorization with something left to capture and a lapse to
    outrun (renewing it before expires_at); gift cards, store credit and cash
    never lapse and answer as they are."""
    return (
        payment.tender_type in CARD_TENDERS
        and payment.expires_at is not None
        and payment.status
        in (PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED, PaymentStatus.EXPIRED)
    )


def check_reauthorize(payment: Payment) -> None:
    """Only a renewable card payment with something left to capture is
    authorized again (a voided, refunded or fully captured one is not)."""
    if renewed(payment).capturable_minor <= 0:
        raise _invalid_state(payment, "reauthorize")


def expire(payment: Payment) -> Payment:
    """Marks an authorization whose time is up and of which nothing was captured."""
    if not is_expirable(payment):
        raise _invalid_state(payment, "expire")
    return replace(payment, status=PaymentStatus.EXPIRED)


def expired_refusal(payment: Payment, why: str) -> BusinessRuleViolation:
    when = f" at {payment.expires_at:%Y-%m-%dT%H:%M:%SZ}" if payment.expires_at else ""
    return BusinessRuleViolation(
        AUTHORIZATION_EXPIRED,
        f"the authorization expired{when} and {why}",
        {"payment_id": payment.payment_id},
    )


def void(payment: Payment) -> Payment:
    """Releases an authorization of which nothing was captured. An expired one
    is already released: voiding it again changes nothing (so compensation
    that runs after the expiry sweep still succeeds)."""
    if payment.status is PaymentStatus.EXPIRED:
        return payment
    if not is_expirable(payment):
        raise _invalid_state(payment, "void")
    return replace(payment, status=PaymentStatus.VOIDED)


def refund(payment: Payment, amount: Money) -> Payment:
    """Gives back part or all of what was captured and not yet refunded."""
    _require_currency(payment, amount)
    if payment.status is not PaymentStatus.CAPTURED:
        raise _invalid_state(payment, "refund")
    if amount.amount_minor > payment.refundable_minor:
        raise Conflict(
            INVALID_PAYMENT_STATE,
            "refund exceeds the captured amount not yet refunded",
            {"payment_id": payment.payment_id, "refundable_minor": str(payment.refundable_minor)},
        )
    refunded = payment.refunded_minor + amount.amount_minor
    status = (
        PaymentStatus.REFUNDED if refunded == payment.captured_minor else PaymentStatus.CAPTURED
    )
    return replace(payment, status=status, refunded_minor=refunded)


# --- gift cards and store credit ---------------------------------------------


@dataclass(frozen=True)
class GiftCardEntry:
    """One line of a gift card's ledger."""

    kind: GiftCardEntryKind
    amount: Money
    reference: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class GiftCard:
    code: str
    kind: GiftCardKind
    currency: str
    balance_minor: int  # what can be spent, net of holds
    held_minor: int = 0
    customer_id: str = ""
    created_at: datetime | None = None
    history: tuple[GiftCardEntry, ...] = ()


def new_gift_card_code() -> str:
    """GC- and 16 letters: about 73 bits, unguessable, never card-number-like."""
    return "GC-" + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))


@dataclass(frozen=True)
class GiftCardBalance:
    """`balance` can be spent; `held` is set aside for authorized payments.

    The store applies the same rules as single conditional UPDATEs with CHECK
    constraints (balance >= 0, held >= 0); this model states them, and the
    in-memory store of the unit tests keeps its balances with it.
    """

    balance_minor: int
    held_minor: int = 0

    def credit(self, amount_minor: int) -> GiftCardBalance:
        """Issue, reload or refund: more to spend."""
        return replace(self, balance_minor=self.balance_minor + amount_minor)

    def hold(self, amount_minor: int) -> GiftCardBalance:
        if amount_minor > self.balance_minor:
            raise insufficient_balance(self.balance_minor)
        return GiftCardBalance(self.balance_minor - amount_minor, self.held_minor + amount_minor)

    def redeem(self, amount_minor: int) -> GiftCardBalance:
        """A capture turns (part of) a hold into a redemption."""
        if amount_minor > self.held_minor:
            raise hold_too_small(self.held_minor)
        return replace(self, held_minor=self.held_minor - amount_minor)

    def release(self, amount_minor: int) -> GiftCardBalance:
        """A void gives the held amount back to spend."""
        if amount_minor > self.held_minor:
            raise hold_too_small(self.held_minor)
        return GiftCardBalance(self.balance_minor + amount_minor, self.held_minor - amount_minor)


def insufficient_balance(balance_minor: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        INSUFFICIENT_GIFT_CARD_BALANCE,
        "the gift card balance does not cover the amount",
        {"balance_minor": str(balance_minor)},
    )


def gift_card_not_found() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        GIFT_CARD_NOT_FOUND, "no gift card has this code", {"field": "tender.code"}
    )


def wrong_gift_card_currency(currency: str) -> InvalidArgument:
    return InvalidArgument.field("amount.currency", f"must be the gift card's {currency}")


def hold_too_small(held_minor: int) -> Conflict:
    return Conflict(
        INVALID_PAYMENT_STATE,
        "the gift card hold does not cover the amount",
        {"held_minor": str(held_minor)},
    )
