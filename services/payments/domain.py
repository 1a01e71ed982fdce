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

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument

AUTHORIZED = "authorized"
CAPTURED = "captured"  # something captured; may be partly refunded
REFUNDED = "refunded"  # everything captured was refunded
VOIDED = "voided"
EXPIRED = "expired"
DECLINED = "declined"
STATUSES = (AUTHORIZED, CAPTURED, REFUNDED, VOIDED, EXPIRED, DECLINED)

CARD = "card"
GIFT_CARD = "gift_card"
STORE_CREDIT = "store_credit"
CASH = "cash"
TENDER_TYPES = (CARD, GIFT_CARD, STORE_CREDIT, CASH)
# Tenders drawn from the gift card ledger (store credit is a gift card too).
LEDGER_TENDERS = (GIFT_CARD, STORE_CREDIT)
# Refunds go to these first, the card last (then cash).
REFUND_ORDER = (STORE_CREDIT, GIFT_CARD, CARD, CASH)

# The channel whose card payments are card-present.
CARD_PRESENT_CHANNEL = "pos"

INVALID_PAYMENT_STATE = "INVALID_PAYMENT_STATE"
AUTHORIZATION_EXPIRED = "AUTHORIZATION_EXPIRED"
INSUFFICIENT_GIFT_CARD_BALANCE = "INSUFFICIENT_GIFT_CARD_BALANCE"
GIFT_CARD_NOT_FOUND = "GIFT_CARD_NOT_FOUND"

# Gift card codes: letters and digits but never a long digit run, so a code
# can never look like a card number.
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ"

_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


def validate_money(money: Money, field: str) -> Money:
    """Amounts are strictly positive minor units in an ISO 4217 currency."""
    if money.amount_minor <= 0:
        raise InvalidArgument.field(f"{field}.amount_minor", "must be greater than zero")
    if not _CURRENCY.match(money.currency):
        raise InvalidArgument.field(f"{field}.currency", "must be a 3-letter ISO 4217 code")
    return money


@dataclass(frozen=True)
class Tender:
    type: str
    token: str = ""
    code: str = ""

    @property
    def identity(self) -> str:
        """What tells this tender apart from another of the same order."""
        return self.token if self.type == CARD else self.code


@dataclass(frozen=True)
class Payment:
    payment_id: str
    reference: str
    tender_type: str
    status: str
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
        if self.status not in (AUTHORIZED, CAPTURED):
            return 0
        return self.authorized_minor - self.captured_minor - self.released_minor

    @property
    def refundable_minor(self) -> int:
        if self.status != CAPTURED:
            return 0
        return self.captured_minor - self.refunded_minor


def authorized_payment(
    *,
    payment_id: str,
    reference: str,
    tender: Tender,
    amount: Money,
    card_brand: str,
    card_last4: str,
    provider_reference: str,
    expires_at: datetime | None = None,
) -> Payment:
    return Payment(
        payment_id=payment_id,
        reference=reference,
        tender_type=tender.type,
        status=AUTHORIZED,
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
        tender_type=CASH,
        status=CAPTURED,
        currency=amount.currency,
        authorized_minor=amount.amount_minor,
        captured_minor=amount.amount_minor,
    )


def authorization_lifetime(
    channel: str, *, card_present: timedelta, card_not_present: timedelta
) -> timedelta:
    return card_present if channel == CARD_PRESENT_CHANNEL else card_not_present


def is_lapsed(payment: Payment, now: datetime) -> bool:
    """The authorization's time is up (tenders without expires_at never lapse)."""
    return payment.expires_at is not None and now >= payment.expires_at


def needs_renewal(payment: Payment, now: datetime) -> bool:
    """A capture must authorize again first: the payment was marked expired, or
    a card authorization lapsed at the provider (a gift card hold that lapsed
    but was not yet swept still holds its amount)."""
    if payment.status == EXPIRED:
        return True
    return payment.tender_type == CARD and is_lapsed(payment, now)


def renewed(payment: Payment) -> Payment:
    """The payment as a fresh authorization of its capturable rest would leave it."""
    return replace(payment, status=AUTHORIZED) if payment.status == EXPIRED else payment


def _require_currency(payment: Payment, amount: Money) -> None:
    if amount.currency != payment.currency:
        raise InvalidArgument.field(
            "amount.currency", f"must be the payment's currency {payment.currency}"
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
    if payment.status == EXPIRED:
        raise expired_refusal(payment, "cannot be captured")
    if payment.status not in (AUTHORIZED, CAPTURED):
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
        status=CAPTURED,
        captured_minor=payment.captured_minor + amount.amount_minor,
        released_minor=payment.released_minor + released,
    )


def expire(payment: Payment) -> Payment:
    """Marks an authorization whose time is up and of which nothing was captured."""
    if payment.status != AUTHORIZED or payment.captured_minor != 0:
        raise _invalid_state(payment, "expire")
    return replace(payment, status=EXPIRED)


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
    if payment.status == EXPIRED:
        return payment
    if payment.status != AUTHORIZED or payment.captured_minor != 0:
        raise _invalid_state(payment, "void")
    return replace(payment, status=VOIDED)


def refund(payment: Payment, amount: Money) -> Payment:
    """Gives back part or all of what was captured and not yet refunded."""
    _require_currency(payment, amount)
    if payment.status != CAPTURED:
        raise _invalid_state(payment, "refund")
    if amount.amount_minor > payment.refundable_minor:
        raise Conflict(
            INVALID_PAYMENT_STATE,
            "refund exceeds the captured amount not yet refunded",
            {"payment_id": payment.payment_id, "refundable_minor": str(payment.refundable_minor)},
        )
    refunded = payment.refunded_minor + amount.amount_minor
    status = REFUNDED if refunded == payment.captured_minor else CAPTURED
    return replace(payment, status=status, refunded_minor=refunded)


# --- gift cards and store credit ---------------------------------------------


@dataclass(frozen=True)
class GiftCardEntry:
    """One line of a gift card's ledger."""

    kind: str  # issue, reload, hold, release, redeem or refund
    amount: Money
    reference: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class GiftCard:
    code: str
    kind: str  # GIFT_CARD or STORE_CREDIT
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
    constraints (balance >= 0, held >= 0); this model states them for tests.
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
            raise _hold_too_small(self.held_minor)
        return replace(self, held_minor=self.held_minor - amount_minor)

    def release(self, amount_minor: int) -> GiftCardBalance:
        """A void gives the held amount back to spend."""
        if amount_minor > self.held_minor:
            raise _hold_too_small(self.held_minor)
        return GiftCardBalance(self.balance_minor + amount_minor, self.held_minor - amount_minor)


def insufficient_balance(balance_minor: int) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        INSUFFICIENT_GIFT_CARD_BALANCE,
        "the gift card balance does not cover the amount",
        {"balance_minor": str(balance_minor)},
    )


def _hold_too_small(held_minor: int) -> Conflict:
    return Conflict(
        INVALID_PAYMENT_STATE,
        "the gift card hold does not cover the amount",
        {"held_minor": str(held_minor)},
    )
