"""Proto <-> domain conversion for customers."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from omni.customers.v1 import customers_pb2
from services.customers import domain
from services.customers.domain import Activity, Customer


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
