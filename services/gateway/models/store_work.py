"""A store's tasks and the actions on a fulfillment (API.md: Store work)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from services.gateway.models.common import Body
from services.gateway.models.orders import FulfillmentLineOut


class TaskOut(BaseModel):
    type: str
    fulfillment_id: str | None = None
    return_id: str | None = None
    order_id: str
    status: str
    lines: list[FulfillmentLineOut]
    since: str | None = None
    # A pickup whose customer is outside: listed first.
    arrived_at: str | None = None
    arrival_note: str | None = None
    # A pick past the store's pick SLA, or a curbside pickup past its hand-off SLA.
    overdue: bool = False


class TaskList(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = None


class PickLineIn(Body):
    sku: str = Field(min_length=1)
    quantity_picked: StrictInt = Field(ge=0)


class PickIn(Body):
    lines: list[PickLineIn] = Field(min_length=1, max_length=200)


class HandoverLineIn(Body):
    sku: str = Field(min_length=1, max_length=100)
    quantity: StrictInt = Field(ge=0)


class HandoverIn(Body):
    pickup_code: str = Field(min_length=1, max_length=50)
    # A partial handover: what the customer took; skus left out were not
    # taken (released at the store, not charged). Omitted: everything picked.
    lines: list[HandoverLineIn] | None = Field(default=None, min_length=1, max_length=200)


class ArrivedIn(Body):
    note: str = Field(default="", max_length=500)


class ShipIn(Body):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class RejectIn(Body):
    reason: str = Field(min_length=1, max_length=500)


class StoreNotificationOut(BaseModel):
    notification_id: str
    kind: str
    subject: str
    body: str
    reference_id: str | None = None
    created_at: str | None = None


class StoreNotificationList(BaseModel):
    items: list[StoreNotificationOut]
    next_cursor: str | None = None
