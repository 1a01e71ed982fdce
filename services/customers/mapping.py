"""Proto <-> domain conversion for customers: words cross as enums, stamps
through services.common.timestamps. Nothing here decides anything; an enum
field a request must name and leaves unspecified is refused with its field."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2
from omni.words import (
    ActivityKind,
    Channel,
    ContactChannel,
    IdentityKind,
    TimelineEventKind,
    Word,
)
from services.common.errors import InvalidArgument
from services.common.timestamps import from_timestamp, to_timestamp
from services.customers.domain import (
    Activity,
    Cart,
    CartLine,
    Customer,
    CustomerExport,
    LoyaltyEntry,
    MergeRecord,
    Notification,
    Preferences,
    TimelineEvent,
)
from services.customers.domain.store_notifications import StoreNotification

W = TypeVar("W", bound=Word)


def required(kind: type[W], number: int, field: str) -> W:
    """The word a request's enum field names; refused when unspecified or unknown."""
    word = kind.from_proto(number)
    if word is None:
        raise InvalidArgument.field(field, "must be one of " + ", ".join(kind))
    return word


def _channel(channel: Channel | None) -> common_pb2.Channel:
    return channel.to_proto() if channel else common_pb2.CHANNEL_UNSPECIFIED


def _contact_channel(channel: ContactChannel | None) -> customers_pb2.ContactChannel:
    return channel.to_proto() if channel else customers_pb2.CONTACT_CHANNEL_UNSPECIFIED


def customer_to_proto(customer: Customer) -> customers_pb2.Customer:
    return customers_pb2.Customer(
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.first(IdentityKind.EMAIL),
        phone=customer.first(IdentityKind.PHONE),
        identities=[
            customers_pb2.Identity(kind=identity.kind.to_proto(), value=identity.value)
            for identity in customer.identities
        ],
        loyalty_points=customer.loyalty_points,
        created_at=to_timestamp(customer.created_at),
        loyalty_debt=customer.loyalty_debt,
        erased=customer.erased,
        loyalty_card=customer.first(IdentityKind.LOYALTY_CARD),
        preferences=preferences_to_proto(customer.preferences),
    )


def activity_from_proto(activity: customers_pb2.Activity) -> Activity:
    return Activity(
        kind=required(ActivityKind, activity.kind, "activity.kind"),
        reference_id=activity.reference_id,
        channel=Channel.from_proto(activity.channel),
        status=activity.status,
        order_id=activity.order_id,
        occurred_at=from_timestamp(activity.occurred_at),
    )


def activity_to_proto(activity: Activity) -> customers_pb2.Activity:
    return customers_pb2.Activity(
        kind=activity.kind.to_proto(),
        reference_id=activity.reference_id,
        channel=_channel(activity.channel),
        status=activity.status,
        order_id=activity.order_id,
        occurred_at=to_timestamp(activity.occurred_at),
    )


def preferences_to_proto(preferences: Preferences) -> customers_pb2.Preferences:
    return customers_pb2.Preferences(
        channels=[channel.to_proto() for channel in preferences.channels],
        marketing_consent=[channel.to_proto() for channel in preferences.marketing_consent],
    )


def preferences_from_proto(preferences: customers_pb2.Preferences) -> Preferences:
    def channels(numbers: Iterable[int], field: str) -> tuple[ContactChannel, ...]:
        return tuple(required(ContactChannel, number, field) for number in numbers)

    return Preferences(
        channels(preferences.channels, "preferences.channels"),
        channels(preferences.marketing_consent, "preferences.marketing_consent"),
    )


def event_from_proto(event: customers_pb2.TimelineEvent) -> TimelineEvent:
    return TimelineEvent(
        event_id=event.event_id,
        kind=required(TimelineEventKind, event.kind, "event.kind"),
        reference_id=event.reference_id,
        order_id=event.order_id,
        channel=Channel.from_proto(event.channel),
        summary=event.summary,
        at=from_timestamp(event.at),
        amount_minor=event.amount_minor,
        currency=event.currency,
        details=dict(event.details),
    )


def event_to_proto(event: TimelineEvent) -> customers_pb2.TimelineEvent:
    return customers_pb2.TimelineEvent(
        event_id=event.event_id,
        kind=event.kind.to_proto(),
        reference_id=event.reference_id,
        order_id=event.order_id,
        channel=_channel(event.channel),
        summary=event.summary,
        at=to_timestamp(event.at),
        amount_minor=event.amount_minor,
        currency=event.currency,
    )


def cart_lines_from_proto(lines: Iterable[customers_pb2.CartLine]) -> list[CartLine]:
    return [CartLine(line.sku, line.quantity) for line in lines]


def cart_to_proto(cart: Cart) -> customers_pb2.Cart:
    return customers_pb2.Cart(
        customer_id=cart.customer_id,
        lines=[customers_pb2.CartLine(sku=line.sku, quantity=line.quantity) for line in cart.lines],
        channel=_channel(cart.channel),
        version=cart.version,
        updated_at=to_timestamp(cart.updated_at),
    )


def store_notification_to_proto(message: StoreNotification) -> customers_pb2.StoreNotification:
    return customers_pb2.StoreNotification(
        notification_id=message.notification_id,
        store_id=message.store_id,
        kind=message.kind.to_proto(),
        subject=message.subject,
        body=message.body,
        reference_id=message.reference_id,
        created_at=to_timestamp(message.created_at),
    )


def notification_to_proto(message: Notification) -> customers_pb2.Notification:
    return customers_pb2.Notification(
        notification_id=message.notification_id,
        kind=message.kind.to_proto(),
        channel=_contact_channel(message.channel),
        subject=message.subject,
        body=message.body,
        status=message.status.to_proto(),
        marketing=message.marketing,
        reference_id=message.reference_id,
        created_at=to_timestamp(message.created_at),
        attempts=message.attempts,
    )


def loyalty_entry_to_proto(entry: LoyaltyEntry) -> customers_pb2.LoyaltyEntry:
    return customers_pb2.LoyaltyEntry(
        entry_id=entry.entry_id,
        reason=entry.reason.to_proto(),
        reference_id=entry.reference_id,
        points=entry.points,
        balance_after=entry.balance_after,
        debt_after=entry.debt_after,
        at=to_timestamp(entry.at),
    )


def merge_to_proto(merge: MergeRecord) -> customers_pb2.MergeRecord:
    return customers_pb2.MergeRecord(
        merge_id=merge.merge_id,
        survivor_customer_id=merge.survivor_id,
        duplicate_customer_id=merge.duplicate_id,
        actor=merge.actor,
        at=to_timestamp(merge.at),
    )


def export_to_proto(export: CustomerExport) -> customers_pb2.ExportCustomerResponse:
    return customers_pb2.ExportCustomerResponse(
        customer=customer_to_proto(export.customer),
        activities=[activity_to_proto(a) for a in export.activities],
        timeline=[event_to_proto(e) for e in export.timeline],
        cart=cart_to_proto(export.cart),
        loyalty_history=[loyalty_entry_to_proto(e) for e in export.loyalty_history],
        notifications=[notification_to_proto(m) for m in export.notifications],
        merges=[merge_to_proto(m) for m in export.merges],
        aliases=export.aliases,
    )
