"""Proto <-> domain conversion for customers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from omni.customers.v1 import customers_pb2
from services.customers import domain
from services.customers.domain import (
    Activity,
    Cart,
    CartLine,
    Customer,
    LoyaltyEntry,
    MergeRecord,
    Notification,
    Preferences,
    TimelineEvent,
)


def timestamp(at: datetime | None) -> Timestamp:
    stamp = Timestamp()
    if at is not None:
        stamp.FromDatetime(at)
    return stamp


def customer_to_proto(customer: Customer) -> customers_pb2.Customer:
    return customers_pb2.Customer(
        customer_id=customer.customer_id,
        name=customer.name,
        email=customer.first(domain.EMAIL),
        phone=customer.first(domain.PHONE),
        identities=[
            customers_pb2.Identity(kind=identity.kind, value=identity.value)
            for identity in customer.identities
        ],
        loyalty_points=customer.loyalty_points,
        created_at=timestamp(customer.created_at),
        loyalty_debt=customer.loyalty_debt,
        erased=customer.erased,
        loyalty_card=customer.first(domain.LOYALTY_CARD),
        preferences=preferences_to_proto(customer.preferences),
    )


def activity_from_proto(activity: customers_pb2.Activity) -> Activity:
    occurred_at = None
    if activity.HasField("occurred_at"):
        occurred_at = activity.occurred_at.ToDatetime(tzinfo=UTC)
    return domain.validate_activity(
        Activity(
            kind=activity.kind,
            reference_id=activity.reference_id,
            channel=activity.channel,
            status=activity.status,
            order_id=activity.order_id,
            occurred_at=occurred_at,
        )
    )


def activity_to_proto(activity: Activity) -> customers_pb2.Activity:
    return customers_pb2.Activity(
        kind=activity.kind,
        reference_id=activity.reference_id,
        channel=activity.channel,
        status=activity.status,
        order_id=activity.order_id,
        occurred_at=timestamp(activity.occurred_at),
    )


def preferences_to_proto(preferences: Preferences) -> customers_pb2.Preferences:
    return customers_pb2.Preferences(
        channels=list(preferences.channels),
        marketing_consent=list(preferences.marketing_consent),
    )


def preferences_from_proto(preferences: customers_pb2.Preferences) -> Preferences:
    return domain.validate_preferences(
        Preferences(tuple(preferences.channels), tuple(preferences.marketing_consent))
    )


def _event_fields(event: customers_pb2.TimelineEvent | TimelineEvent) -> dict[str, Any]:
    """The fields a timeline event has alike in the proto and the domain."""
    return {
        "event_id": event.event_id,
        "kind": event.kind,
        "reference_id": event.reference_id,
        "order_id": event.order_id,
        "channel": event.channel,
        "summary": event.summary,
        "amount_minor": event.amount_minor,
        "currency": event.currency,
    }


def event_from_proto(event: customers_pb2.TimelineEvent) -> TimelineEvent:
    at = event.at.ToDatetime(tzinfo=UTC) if event.HasField("at") else None
    return domain.validate_timeline_event(
        TimelineEvent(**_event_fields(event), at=at, details=dict(event.details))
    )


def event_to_proto(event: TimelineEvent) -> customers_pb2.TimelineEvent:
    return customers_pb2.TimelineEvent(**_event_fields(event), at=timestamp(event.at))


def cart_lines_from_proto(lines: Iterable[customers_pb2.CartLine]) -> list[CartLine]:
    return domain.validate_cart_lines([CartLine(line.sku, line.quantity) for line in lines])


def cart_to_proto(cart: Cart) -> customers_pb2.Cart:
    return customers_pb2.Cart(
        customer_id=cart.customer_id,
        lines=[customers_pb2.CartLine(sku=line.sku, quantity=line.quantity) for line in cart.lines],
        channel=cart.channel,
        version=cart.version,
        updated_at=timestamp(cart.updated_at),
    )


def notification_to_proto(message: Notification) -> customers_pb2.Notification:
    return customers_pb2.Notification(
        notification_id=message.notification_id,
        kind=message.kind,
        channel=message.channel,
        subject=message.subject,
        body=message.body,
        status=message.status,
        marketing=message.marketing,
        reference_id=message.reference_id,
        created_at=timestamp(message.created_at),
        attempts=message.attempts,
    )


def loyalty_entry_to_proto(entry: LoyaltyEntry) -> customers_pb2.LoyaltyEntry:
    return customers_pb2.LoyaltyEntry(
        entry_id=entry.entry_id,
        reason=entry.reason,
        reference_id=entry.reference_id,
        points=entry.points,
        balance_after=entry.balance_after,
        debt_after=entry.debt_after,
        at=timestamp(entry.at),
    )


def merge_to_proto(merge: MergeRecord) -> customers_pb2.MergeRecord:
    return customers_pb2.MergeRecord(
        merge_id=merge.merge_id,
        survivor_customer_id=merge.survivor_id,
        duplicate_customer_id=merge.duplicate_id,
        actor=merge.actor,
        at=timestamp(merge.at),
    )
