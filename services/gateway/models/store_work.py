"""A store's tasks and the actions on a fulfillment (API.md: Store work)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

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


class TaskList(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None = None


class PickLineIn(BaseModel):
    sku: str = Field(min_length=1)
    quantity_picked: StrictInt = Field(ge=0)


class PickIn(BaseModel):
    lines: list[PickLineIn] = Field(min_length=1)


class HandoverIn(BaseModel):
    pickup_code: str = Field(min_length=1, max_length=50)


class ArrivedIn(BaseModel):
    note: str = Field(default="", max_length=500)


class ShipIn(BaseModel):
    carrier: str = Field(min_length=1, max_length=100)
    tracking_number: str = Field(min_length=1, max_length=100)


class RejectIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)
