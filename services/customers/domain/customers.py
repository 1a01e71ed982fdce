"""Who a customer is: identities normalized so that one shopper matches on
every channel, contact preferences, and the erased-customer rule. No I/O."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from omni.words import ContactChannel, IdentityKind
from services.common.errors import BusinessRuleViolation, InvalidArgument
from services.common.validation import Violations

DEFAULT_PHONE_REGION = "US"
MAX_ID_LENGTH = 36
MAX_EMAIL_LENGTH = 254
MAX_TEXT_LENGTH = 200

CUSTOMER_ERASED = "CUSTOMER_ERASED"

# local@domain.tld: plausible, not RFC 5322 (the mailbox is proven by mail, not regex).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)*\.[a-z]{2,}$")
_LOYALTY_CARD = re.compile(r"^[A-Z0-9]{6,20}$")


@dataclass(frozen=True)
class Identity:
    kind: IdentityKind
    value: str  # lower-case email, E.164 phone, upper-case card number


def normalize_email(raw: str) -> str:
    email = raw.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise InvalidArgument.field("email", "is not a valid email address")
    return email


def normalize_phone(raw: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """E.164 form; numbers without a country code are read as `region`'s."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as error:
        raise InvalidArgument.field("phone", "is not a phone number") from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidArgument.field("phone", "is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_loyalty_card(raw: str) -> str:
    """Upper case without spaces or dashes: the number as printed on the card."""
    card = re.sub(r"[\s-]", "", raw).upper()
    if not _LOYALTY_CARD.match(card):
        raise InvalidArgument.field("loyalty_card", "must be 6 to 20 letters or digits")
    return card


_NORMALIZE: dict[IdentityKind, Callable[[str], str]] = {
    IdentityKind.EMAIL: normalize_email,
    IdentityKind.PHONE: normalize_phone,
    IdentityKind.LOYALTY_CARD: normalize_loyalty_card,
}


def identities_from(email: str, phone: str, loyalty_card: str = "") -> list[Identity]:
    """The normalized identities of a new customer, email first; at least one."""
    violations = Violations()
    identities: list[Identity] = []
    given = (
        (IdentityKind.EMAIL, email),
        (IdentityKind.PHONE, phone),
        (IdentityKind.LOYALTY_CARD, loyalty_card),
    )
    for kind, raw in given:
        if not raw.strip():
            continue
        try:
            identities.append(Identity(kind, _NORMALIZE[kind](raw)))
        except InvalidArgument as error:
            violations.extend(error.violations)
    if not identities and not violations:
        violations.add("email", "an email or a phone is required")
    violations.raise_if_any()
    return identities


def choose_match(identities: list[Identity], owners: dict[Identity, str]) -> str | None:
    """The customer to return when identities are already known: the first one's owner."""
    for identity in identities:
        if identity in owners:
            return owners[identity]
    return None


def validate_name(raw: str) -> str:
    name = raw.strip()
    violations = Violations()
    violations.check_text("name", name, max_length=MAX_TEXT_LENGTH)
    violations.raise_if_any()
    return name


def check_customer_id(violations: Violations, field_name: str, value: str) -> None:
    violations.check_text(field_name, value, required=True, max_length=MAX_ID_LENGTH)


def validate_customer_id(value: str, field_name: str = "customer_id") -> str:
    violations = Violations()
    check_customer_id(violations, field_name, value)
    violations.raise_if_any()
    return value


@dataclass(frozen=True)
class Preferences:
    # Channels in the customer's order of preference; empty: any we have an address for.
    channels: tuple[ContactChannel, ...] = ()
    # Channels on which the customer agreed to marketing messages.
    marketing_consent: tuple[ContactChannel, ...] = ()


def validate_preferences(preferences: Preferences) -> Preferences:
    violations = Violations()
    for name in ("channels", "marketing_consent"):
        values = getattr(preferences, name)
        if len(set(values)) != len(values):
            violations.add(f"preferences.{name}", "names a channel twice")
    violations.raise_if_any()
    return preferences


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    identities: list[Identity] = field(default_factory=list)
    loyalty_points: int = 0
    created_at: datetime | None = None
    loyalty_debt: int = 0
    erased: bool = False
    preferences: Preferences = field(default_factory=Preferences)

    def first(self, kind: IdentityKind) -> str:
        return next((i.value for i in self.identities if i.kind == kind), "")


def ensure_not_erased(customer: Customer) -> Customer:
    """An erased customer keeps its history but takes no new personal data."""
    if customer.erased:
        raise BusinessRuleViolation(
            CUSTOMER_ERASED,
            f"customer {customer.customer_id} was erased",
            {"customer_id": customer.customer_id},
        )
    return customer
