"""Payment rules: the state machine of one tender's payment. No I/O.

authorized --capture (partial, several)--> captured --refund (partial, several)--> refunded
authorized (nothing captured) --void--> voided
Invariants: 0 <= refunded <= captured <= authorized.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

from services.common.errors import Conflict, InvalidArgument

AUTHORIZED = "authorized"
CAPTURED = "captured"  # something captured; may be partly refunded
REFUNDED = "refunded"  # everything captured was refunded
VOIDED = "voided"
DECLINED = "declined"
STATUSES = (AUTHORIZED, CAPTURED, REFUNDED, VOIDED, DECLINED)

CARD = "card"
GIFT_CARD = "gift_card"
TENDER_TYPES = (CARD, GIFT_CARD)

INVALID_PAYMENT_STATE = "INVALID_PAYMENT_STATE"

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

    @property
    def capturable_minor(self) -> int:
        if self.status not in (AUTHORIZED, CAPTURED):
            return 0
        return self.authorized_minor - self.captured_minor

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
    )


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


def capture(payment: Payment, amount: Money) -> Payment:
    """Captures part or all of what is still authorized."""
    _require_currency(payment, amount)
    if payment.status not in (AUTHORIZED, CAPTURED):
        raise _invalid_state(payment, "capture")
    if amount.amount_minor > payment.capturable_minor:
        raise Conflict(
            INVALID_PAYMENT_STATE,
            "capture exceeds the amount still authorized",
            {"payment_id": payment.payment_id, "capturable_minor": str(payment.capturable_minor)},
        )
    return replace(
        payment, status=CAPTURED, captured_minor=payment.captured_minor + amount.amount_minor
    )


def void(payment: Payment) -> Payment:
    """Releases an authorization of which nothing was captured."""
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
