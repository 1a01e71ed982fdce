"""Customer rules: identity normalization, activity history, paging. No I/O."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from services.common.errors import InvalidArgument

EMAIL = "email"
PHONE = "phone"
DEFAULT_PHONE_REGION = "US"

ORDER = "order"
RETURN = "return"
ACTIVITY_KINDS = (ORDER, RETURN)

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_EMAIL_LENGTH = 254
MAX_TEXT_LENGTH = 200

# local@domain.tld: plausible, not RFC 5322 (the mailbox is proven by mail, not regex).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)*\.[a-z]{2,}$")


@dataclass(frozen=True)
class Identity:
    kind: str  # EMAIL or PHONE
    value: str  # lower-case email or E.164 phone


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


def identities_from(email: str, phone: str) -> list[Identity]:
    """The normalized identities of a new customer, email first; at least one."""
    identities: list[Identity] = []
    if email.strip():
        identities.append(Identity(EMAIL, normalize_email(email)))
    if phone.strip():
        identities.append(Identity(PHONE, normalize_phone(phone)))
    if not identities:
        raise InvalidArgument.field("email", "an email or a phone is required")
    return identities


def choose_match(identities: list[Identity], owners: dict[Identity, str]) -> str | None:
    """The customer to return when identities are already known: the first one's owner."""
    for identity in identities:
        if identity in owners:
            return owners[identity]
    return None


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    identities: list[Identity] = field(default_factory=list)
    loyalty_points: int = 0
    created_at: datetime | None = None

    def first(self, kind: str) -> str:
        return next((i.value for i in self.identities if i.kind == kind), "")


@dataclass(frozen=True)
class Activity:
    kind: str
    reference_id: str
    channel: str = ""
    status: str = ""
    order_id: str = ""
    occurred_at: datetime | None = None


def validate_activity(activity: Activity) -> Activity:
    if activity.kind not in ACTIVITY_KINDS:
        raise InvalidArgument.field("activity.kind", f"must be one of {', '.join(ACTIVITY_KINDS)}")
    if not activity.reference_id:
        raise InvalidArgument.field("activity.reference_id", "is required")
    for name in ("reference_id", "channel", "status", "order_id"):
        if len(getattr(activity, name)) > MAX_TEXT_LENGTH:
            raise InvalidArgument.field(f"activity.{name}", f"is longer than {MAX_TEXT_LENGTH}")
    return activity


def page_size(limit: int) -> int:
    if limit < 0:
        raise InvalidArgument.field("limit", "must not be negative")
    if limit == 0:
        return DEFAULT_PAGE_SIZE
    return min(limit, MAX_PAGE_SIZE)


@dataclass(frozen=True)
class PageCursor:
    """Where the previous page of newest-first activities stopped."""

    occurred_at: datetime
    activity_id: int

    def encode(self) -> str:
        raw = json.dumps({"at": self.occurred_at.isoformat(), "id": self.activity_id})
        return base64.urlsafe_b64encode(raw.encode()).decode()

    @classmethod
    def decode(cls, token: str) -> PageCursor:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token.encode()))
            return cls(datetime.fromisoformat(raw["at"]), int(raw["id"]))
        except (binascii.Error, ValueError, KeyError, TypeError) as error:
            raise InvalidArgument.field(
                "page_token", "is not a token this service issued"
            ) from error
