"""The delivery journey's contract (workflows/delivery): a shipment followed
until its carrier says it was delivered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DELIVERY_WORKFLOW = "DeliveryWorkflow"
# The carrier's own word (a webhook): the parcel was delivered (ParcelDelivered).
PARCEL_DELIVERED_SIGNAL = "parcel_delivered"
DELIVERED = "delivered"
NOT_DELIVERED = "not_delivered"


def delivery_workflow_id(fulfillment_id: str) -> str:
    """One per shipment: a second start for the same fulfillment is the same journey."""
    return f"delivery-{fulfillment_id}"


@dataclass
class DeliveryInput:
    order_id: str
    customer_id: str
    channel: str
    currency: str
    fulfillment_id: str
    # Ids the order journey derives (its workflow id + the fulfillment's
    # step): the order's `delivered` event and the customer's milestone, each
    # recorded once whatever happens twice.
    event_id: str
    timeline_event_id: str
    carrier: str
    tracking_number: str
    # What shipped, for the customer's message ("2 x SKU-MUG, 1 x SKU-TEE", the
    # shipped message's words; a payload's dict would not keep the order).
    lines_text: str = ""
    shipped_at: datetime | None = None
    # How long the parcel is followed (0: the journey's TRACK_FOR, 30 days).
    track_for_seconds: float = 0.0


@dataclass
class ParcelDelivered:
    delivered_at: datetime | None = None


@dataclass
class DeliveryResult:
    fulfillment_id: str
    outcome: str
    delivered_at: datetime | None = None


@dataclass
class TrackParcelInput:
    carrier: str
    tracking_number: str
    shipped_at: datetime


@dataclass
class ParcelReport:
    delivered: bool
    delivered_at: datetime | None = None
    # When not delivered: how long until it is worth asking again.
    check_again_seconds: float = 0.0
