"""Messages to the customer: what each kind says, which channel it may take
(preferences, consents, addresses), and how a refused delivery is retried. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from omni.words import ContactChannel, IdentityKind, NotificationKind, NotificationStatus
from omni.words import TimelineEventKind as Event
from services.common.validation import Violations
from services.customers.domain.customers import MAX_TEXT_LENGTH, Customer
from services.customers.domain.history import TimelineEvent

MAX_BODY_LENGTH = 1000

# Where messages can go; the customer's identities give the addresses.
NOTIFY_CHANNELS = {IdentityKind.EMAIL: ContactChannel.EMAIL, IdentityKind.PHONE: ContactChannel.SMS}

Kind = NotificationKind
# kind -> (marketing?, subject, body template over the details)
NOTIFICATION_TEMPLATES: dict[NotificationKind, tuple[bool, str, str]] = {
    Kind.ORDER_CONFIRMED: (
        False,
        "Thank you for your order",
        "Order {order_id} is confirmed.{items} Total {amount}.",
    ),
    Kind.PICKUP_READY: (
        False,
        "Your order is ready for pickup",
        "Order {order_id} is ready.{items} Show pickup code {pickup_code} at the counter.",
    ),
    Kind.PICKUP_REMINDER: (
        False,
        "Your order is waiting for you",
        "Order {order_id} is still waiting. Your pickup code is {pickup_code}.",
    ),
    Kind.ORDER_CANCELLED: (
        False,
        "Your order was cancelled",
        "Order {order_id} was cancelled.{items}",
    ),
    Kind.PICKUP_REROUTED: (
        False,
        "Your pickup has moved",
        "Store {from_location} cannot prepare order {order_id}; store {to_location} will."
        " We will tell you when it is ready for pickup there.",
    ),
    Kind.ORDER_SHIPPED: (
        False,
        "Your order is on its way",
        "Order {order_id} shipped with {carrier}, tracking number {tracking_number}.{items}",
    ),
    Kind.ORDER_DELIVERED: (
        False,
        "Your order was delivered",
        "Order {order_id} was delivered by {carrier}, tracking number {tracking_number}.{items}",
    ),
    Kind.REFUND_ISSUED: (
        False,
        "Your refund is on its way",
        "We refunded {amount} for return {return_id}.{items}",
    ),
    Kind.CURBSIDE_COMING: (
        False,
        "Your order is on its way out",
        "Sorry for the wait: order {order_id} is being brought out to you now.",
    ),
    Kind.PAYMENT_NEEDED: (
        False,
        "Your order needs a new payment method",
        "We could not renew the payment for order {order_id}. Add a new payment"
        " method by {deadline} or the order will be cancelled.",
    ),
    Kind.CART_REMINDER: (
        True,
        "You left something in your cart",
        "Your cart still holds {items} item(s). Come back to finish your order.",
    ),
}
# A cancel of some lines (the journey's `scope: lines` detail), not of the order.
LINES_CANCELLED_TEMPLATE = (
    False,
    "Part of your order was cancelled",
    "Some items of order {order_id} were cancelled.{items} You will not be charged"
    " {amount} for them; the rest of the order goes ahead.",
)
# Milestones that tell the customer something.
MILESTONE_NOTIFICATIONS = {
    Event.ORDER_PLACED: Kind.ORDER_CONFIRMED,
    Event.READY_FOR_PICKUP: Kind.PICKUP_READY,
    Event.ORDER_CANCELLED: Kind.ORDER_CANCELLED,
    Event.PICKUP_REROUTED: Kind.PICKUP_REROUTED,
    Event.ORDER_SHIPPED: Kind.ORDER_SHIPPED,
    Event.ORDER_DELIVERED: Kind.ORDER_DELIVERED,
    Event.REFUND_ISSUED: Kind.REFUND_ISSUED,
}


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
    kind: NotificationKind
    # None when suppressed.
    channel: ContactChannel | None
    subject: str
    body: str
    status: NotificationStatus
    marketing: bool
    reference_id: str = ""
    created_at: datetime | None = None
    attempts: int = 0

    def sent(self) -> Notification:
        return replace(self, status=NotificationStatus.SENT)


def validate_notification_id(notification_id: str) -> str:
    violations = Violations()
    if not notification_id or len(notification_id) > MAX_TEXT_LENGTH:
        violations.add("notification_id", f"must be 1 to {MAX_TEXT_LENGTH} characters")
    violations.raise_if_any()
    return notification_id


def compose_notification(
    notification_id: str,
    kind: NotificationKind,
    reference_id: str,
    details: dict[str, str],
    customer: Customer,
) -> Notification:
    """The message and the channel it goes on; suppressed when the customer's
    preferences, consents or addresses leave none."""
    marketing, subject, template = (
        LINES_CANCELLED_TEMPLATE
        if kind == Kind.ORDER_CANCELLED and details.get("scope") == "lines"
        else NOTIFICATION_TEMPLATES[kind]
    )
    body = template.format_map(_Blank(details))[:MAX_BODY_LENGTH]
    channel = choose_channel(customer, marketing)
    return Notification(
        notification_id=notification_id,
        kind=kind,
        channel=channel,
        subject=subject,
        body=body,
        status=NotificationStatus.QUEUED if channel else NotificationStatus.SUPPRESSED,
        marketing=marketing,
        reference_id=reference_id,
    )


def milestone_notification(customer: Customer, event: TimelineEvent) -> Notification | None:
    """The message a milestone sends the customer (keyed by the event id), if any."""
    kind = MILESTONE_NOTIFICATIONS.get(event.kind)
    if kind is None:
        return None
    details = {
        "order_id": event.order_id or event.reference_id,
        "return_id": event.reference_id,
        "amount": event.amount.formatted(),
        **event.details,
    }
    # What the message concerns (the journeys' `lines` detail, issue 14); a
    # milestone recorded before journeys sent it says nothing about items.
    lines = event.details.get("lines", "")
    details["items"] = f" Items: {lines}." if lines else ""
    return compose_notification(
        f"{event.event_id}/notify", kind, event.reference_id, details, customer
    )


def choose_channel(customer: Customer, marketing: bool) -> ContactChannel | None:
    """The first preferred channel we have an address for (and, for marketing, consent on)."""
    if customer.erased:
        return None
    reachable = [NOTIFY_CHANNELS[i.kind] for i in customer.identities if i.kind in NOTIFY_CHANNELS]
    candidates = list(customer.preferences.channels) or reachable
    for channel in candidates:
        if channel not in reachable:
            continue
        if marketing and channel not in customer.preferences.marketing_consent:
            continue
        return channel
    return None


def address_for(customer: Customer, channel: ContactChannel | None) -> str:
    """Where `channel` reaches the customer ("" when it does not)."""
    kinds = {name: kind for kind, name in NOTIFY_CHANNELS.items()}
    kind = kinds.get(channel) if channel else None
    return customer.first(kind) if kind else ""
