"""Customer rules: identity normalization, activity history, paging. No I/O."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from services.common.errors import InvalidArgument

EMAIL = "email"
PHONE = "phone"
LOYALTY_CARD = "loyalty_card"
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
    kind: str  # EMAIL, PHONE or LOYALTY_CARD
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


_LOYALTY_CARD = re.compile(r"^[A-Z0-9]{6,20}$")


def normalize_loyalty_card(raw: str) -> str:
    """Upper case without spaces or dashes: the number as printed on the card."""
    card = re.sub(r"[\s-]", "", raw).upper()
    if not _LOYALTY_CARD.match(card):
        raise InvalidArgument.field("loyalty_card", "must be 6 to 20 letters or digits")
    return card


def identities_from(email: str, phone: str, loyalty_card: str = "") -> list[Identity]:
    """The normalized identities of a new customer, email first; at least one."""
    identities: list[Identity] = []
    if email.strip():
        identities.append(Identity(EMAIL, normalize_email(email)))
    if phone.strip():
        identities.append(Identity(PHONE, normalize_phone(phone)))
    if loyalty_card.strip():
        identities.append(Identity(LOYALTY_CARD, normalize_loyalty_card(loyalty_card)))
    if not identities:
        raise InvalidArgument.field("email", "an email or a phone is required")
    return identities


def choose_match(identities: list[Identity], owners: dict[Identity, str]) -> str | None:
    """The customer to return when identities are already known: the first one's owner."""
    for identity in identities:
        if identity in owners:
            return owners[identity]
    return None


# Where messages can go; the customer's identities give the addresses.
NOTIFY_CHANNELS = {EMAIL: "email", PHONE: "sms"}


@dataclass(frozen=True)
class Preferences:
    # Channels in the customer's order of preference; empty: any we have an address for.
    channels: tuple[str, ...] = ()
    # Channels on which the customer agreed to marketing messages.
    marketing_consent: tuple[str, ...] = ()


def validate_preferences(preferences: Preferences) -> Preferences:
    allowed = set(NOTIFY_CHANNELS.values())
    for name in ("channels", "marketing_consent"):
        values = getattr(preferences, name)
        unknown = [v for v in values if v not in allowed]
        if unknown:
            raise InvalidArgument.field(
                f"preferences.{name}", f"{unknown[0]!r} is not one of {', '.join(sorted(allowed))}"
            )
        if len(set(values)) != len(values):
            raise InvalidArgument.field(f"preferences.{name}", "names a channel twice")
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


# --- merge -------------------------------------------------------------------

MERGE_INTO_ITSELF = "MERGE_INTO_ITSELF"
CUSTOMER_ERASED = "CUSTOMER_ERASED"
ALREADY_MERGED = "ALREADY_MERGED"


@dataclass(frozen=True)
class MergeRecord:
    """The audit record of one merge."""

    merge_id: str
    survivor_id: str
    duplicate_id: str
    actor: str
    at: datetime | None = None


# --- timeline ----------------------------------------------------------------

ORDER_PLACED = "order_placed"
READY_FOR_PICKUP = "ready_for_pickup"
ORDER_COMPLETED = "order_completed"
ORDER_SHIPPED = "order_shipped"
ORDER_CANCELLED = "order_cancelled"
# The store could not prepare a pickup; another store will (details: from_location, to_location).
PICKUP_REROUTED = "pickup_rerouted"
RETURN_REQUESTED = "return_requested"
RETURN_RECEIVED = "return_received"
REFUND_ISSUED = "refund_issued"
RETURN_EXPIRED = "return_expired"
TIMELINE_KINDS = (
    ORDER_PLACED,
    READY_FOR_PICKUP,
    ORDER_COMPLETED,
    ORDER_SHIPPED,
    ORDER_CANCELLED,
    PICKUP_REROUTED,
    RETURN_REQUESTED,
    RETURN_RECEIVED,
    REFUND_ISSUED,
    RETURN_EXPIRED,
)
MAX_SUMMARY_LENGTH = 500


@dataclass(frozen=True)
class TimelineEvent:
    event_id: str
    kind: str
    reference_id: str
    order_id: str = ""
    channel: str = ""
    summary: str = ""
    at: datetime | None = None
    amount_minor: int = 0
    currency: str = ""
    details: dict[str, str] = field(default_factory=dict)


def validate_timeline_event(event: TimelineEvent) -> TimelineEvent:
    if not event.event_id:
        raise InvalidArgument.field("event.event_id", "is required")
    if event.kind not in TIMELINE_KINDS:
        raise InvalidArgument.field("event.kind", f"must be one of {', '.join(TIMELINE_KINDS)}")
    if not event.reference_id:
        raise InvalidArgument.field("event.reference_id", "is required")
    for name in ("event_id", "reference_id", "order_id", "channel"):
        if len(getattr(event, name)) > MAX_TEXT_LENGTH:
            raise InvalidArgument.field(f"event.{name}", f"is longer than {MAX_TEXT_LENGTH}")
    if len(event.summary) > MAX_SUMMARY_LENGTH:
        raise InvalidArgument.field("event.summary", f"is longer than {MAX_SUMMARY_LENGTH}")
    if event.amount_minor < 0:
        raise InvalidArgument.field("event.amount_minor", "must not be negative")
    return event


# --- loyalty -----------------------------------------------------------------

ACCRUAL = "accrual"
CLAWBACK = "clawback"
MERGE = "merge"
MINOR_UNITS_PER_UNIT = 100
# Completing an order earns points; a refund of returned items takes them back.
EARNING_KINDS = (ORDER_COMPLETED, ORDER_SHIPPED)
CLAWBACK_KINDS = (REFUND_ISSUED,)


def points_for(amount_minor: int, points_per_unit: int) -> int:
    """`points_per_unit` points per whole currency unit, fractions dropped."""
    return (amount_minor // MINOR_UNITS_PER_UNIT) * points_per_unit


def loyalty_change(event: TimelineEvent, points_per_unit: int) -> tuple[str, int] | None:
    """(reason, signed points) the milestone means for the customer, if any."""
    points = points_for(event.amount_minor, points_per_unit)
    if points == 0:
        return None
    if event.kind in EARNING_KINDS:
        return ACCRUAL, points
    if event.kind in CLAWBACK_KINDS:
        return CLAWBACK, -points
    return None


def apply_points(balance: int, debt: int, delta: int) -> tuple[int, int]:
    """(balance, debt) after `delta`: earned points pay off debt first, and a
    clawback beyond the balance becomes debt, so the balance never goes negative."""
    if delta >= 0:
        paid = min(debt, delta)
        return balance + delta - paid, debt - paid
    taken = min(balance, -delta)
    return balance - taken, debt + (-delta - taken)


@dataclass(frozen=True)
class LoyaltyEntry:
    entry_id: str
    reason: str
    reference_id: str
    points: int
    balance_after: int
    debt_after: int
    at: datetime | None = None


# --- cart --------------------------------------------------------------------

MAX_CART_LINES = 100
MAX_LINE_QUANTITY = 999
MAX_SKU_LENGTH = 64


@dataclass(frozen=True)
class CartLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Cart:
    customer_id: str
    lines: list[CartLine] = field(default_factory=list)
    channel: str = ""
    version: int = 0
    updated_at: datetime | None = None


def validate_cart_lines(lines: list[CartLine]) -> list[CartLine]:
    if len(lines) > MAX_CART_LINES:
        raise InvalidArgument.field("lines", f"may hold at most {MAX_CART_LINES} lines")
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if not line.sku or len(line.sku) > MAX_SKU_LENGTH:
            raise InvalidArgument.field(
                f"lines[{index}].sku", f"must be 1 to {MAX_SKU_LENGTH} characters"
            )
        if line.sku in seen:
            raise InvalidArgument.field(f"lines[{index}].sku", "is listed twice")
        seen.add(line.sku)
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            raise InvalidArgument.field(
                f"lines[{index}].quantity", f"must be 1 to {MAX_LINE_QUANTITY}"
            )
    return lines


def without_ordered(lines: list[CartLine], ordered_skus: Iterable[str]) -> list[CartLine]:
    """The cart after checkout: the ordered skus leave it, whatever their
    quantities; what was not ordered stays for later."""
    gone = set(ordered_skus)
    return [line for line in lines if line.sku not in gone]


def merge_cart_lines(kept: list[CartLine], incoming: list[CartLine]) -> list[CartLine]:
    """The union of two carts, the larger quantity per sku: the same item put in
    the cart on two devices is one item, and merging twice changes nothing."""
    quantities = {line.sku: line.quantity for line in kept}
    for line in incoming:
        quantities[line.sku] = max(quantities.get(line.sku, 0), line.quantity)
    return [CartLine(sku, quantity) for sku, quantity in quantities.items()][:MAX_CART_LINES]


# --- notifications -----------------------------------------------------------

PICKUP_READY = "pickup_ready"
PICKUP_REMINDER = "pickup_reminder"
CART_REMINDER = "cart_reminder"
# kind -> (marketing?, subject, body template over the details)
NOTIFICATION_TEMPLATES: dict[str, tuple[bool, str, str]] = {
    PICKUP_READY: (
        False,
        "Your order is ready for pickup",
        "Order {order_id} is ready. Show pickup code {pickup_code} at the counter.",
    ),
    PICKUP_REMINDER: (
        False,
        "Your order is waiting for you",
        "Order {order_id} is still waiting. Your pickup code is {pickup_code}.",
    ),
    ORDER_CANCELLED: (False, "Your order was cancelled", "Order {order_id} was cancelled."),
    PICKUP_REROUTED: (
        False,
        "Your pickup has moved",
        "Store {from_location} cannot prepare order {order_id}; store {to_location} will."
        " We will tell you when it is ready for pickup there.",
    ),
    ORDER_SHIPPED: (
        False,
        "Your order is on its way",
        "Order {order_id} shipped with {carrier}, tracking number {tracking_number}.",
    ),
    REFUND_ISSUED: (
        False,
        "Your refund is on its way",
        "We refunded {amount} {currency} for return {return_id}.",
    ),
    CART_REMINDER: (
        True,
        "You left something in your cart",
        "Your cart still holds {items} item(s). Come back to finish your order.",
    ),
}
# Milestones that tell the customer something.
MILESTONE_NOTIFICATIONS = {
    READY_FOR_PICKUP: PICKUP_READY,
    ORDER_CANCELLED: ORDER_CANCELLED,
    PICKUP_REROUTED: PICKUP_REROUTED,
    ORDER_SHIPPED: ORDER_SHIPPED,
    REFUND_ISSUED: REFUND_ISSUED,
}
QUEUED = "queued"
SENT = "sent"
SUPPRESSED = "suppressed"
# The sender refused it on every attempt the retry policy allows.
FAILED = "failed"


@dataclass(frozen=True)
class DeliveryRetry:
    """How a message the sender refused is tried again: exponential backoff
    from `base_seconds`, at most `max_seconds` apart, `max_attempts` in all."""

    base_seconds: float = 30.0
    max_seconds: float = 3600.0
    max_attempts: int = 8

    def delay_after(self, attempts: int) -> float | None:
        """Seconds until the next try after `attempts` failed ones; None: give up."""
        if attempts >= self.max_attempts:
            return None
        return float(min(self.base_seconds * 2 ** max(attempts - 1, 0), self.max_seconds))


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "-"


@dataclass(frozen=True)
class Notification:
    notification_id: str
    kind: str
    channel: str
    subject: str
    body: str
    status: str
    marketing: bool
    reference_id: str = ""
    created_at: datetime | None = None
    attempts: int = 0


def compose_notification(
    notification_id: str,
    kind: str,
    reference_id: str,
    details: dict[str, str],
    customer: Customer,
) -> Notification:
    """The message and the channel it goes on; "suppressed" when the customer's
    preferences, consents or addresses leave none."""
    if kind not in NOTIFICATION_TEMPLATES:
        raise InvalidArgument.field("kind", f"must be one of {', '.join(NOTIFICATION_TEMPLATES)}")
    if not notification_id or len(notification_id) > MAX_TEXT_LENGTH:
        raise InvalidArgument.field("notification_id", f"must be 1 to {MAX_TEXT_LENGTH} characters")
    marketing, subject, template = NOTIFICATION_TEMPLATES[kind]
    body = template.format_map(_Blank(details))[:1000]
    channel = choose_channel(customer, marketing)
    return Notification(
        notification_id=notification_id,
        kind=kind,
        channel=channel,
        subject=subject,
        body=body,
        status=QUEUED if channel else SUPPRESSED,
        marketing=marketing,
        reference_id=reference_id,
    )


def choose_channel(customer: Customer, marketing: bool) -> str:
    """The first preferred channel we have an address for (and, for marketing, consent on)."""
    if customer.erased:
        return ""
    reachable = [NOTIFY_CHANNELS[i.kind] for i in customer.identities if i.kind in NOTIFY_CHANNELS]
    candidates = list(customer.preferences.channels) or reachable
    for channel in candidates:
        if channel not in reachable:
            continue
        if marketing and channel not in customer.preferences.marketing_consent:
            continue
        return channel
    return ""
