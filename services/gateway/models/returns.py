"""Returns, in any channel and any store (API.md: Returns)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from omni.words import ItemCondition, RefundMethod, ReturnMethod
from services.gateway.models.common import Body, Money
from services.gateway.models.orders import EventOut, FulfillmentIn, OrderLineIn


class ReturnLineIn(Body):
    sku: str = Field(min_length=1)
    quantity: StrictInt = Field(gt=0)
    condition: ItemCondition


class ExchangeIn(Body):
    """The replacement an exchange gets (issue 11): its own order, for the
    original order's customer and in its channel; paid by the refund, the
    difference charged or refunded to the original tenders."""

    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    fulfillment: FulfillmentIn


class ReturnIn(Body):
    order_id: str = Field(min_length=1)
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    method: ReturnMethod
    location_id: str | None = None
    # "original": to the order's tenders; "store_credit": all of it as store
    # credit to the order's customer.
    refund_method: RefundMethod = RefundMethod.ORIGINAL
    exchange: ExchangeIn | None = None


class ReceivedLineIn(Body):
    """What arrived of a returned line: 0 takes none of it (nothing arrived, or
    nothing returnable); a receipt taking none of the lines rejects the return."""

    sku: str = Field(min_length=1)
    quantity: StrictInt = Field(ge=0)
    condition: ItemCondition


class ReceiveIn(Body):
    location_id: str = Field(min_length=1, max_length=128)
    lines: list[ReceivedLineIn] = Field(min_length=1, max_length=200)


class ReturnLineOut(BaseModel):
    sku: str
    quantity: int
    condition: str


class RefundOut(BaseModel):
    payment_id: str | None = None
    tender_type: str
    amount: Money | None = None
    status: str


class ReturnLabelOut(BaseModel):
    carrier: str
    reference: str


class ReturnOut(BaseModel):
    return_id: str
    order_id: str
    customer_id: str
    status: str
    method: str
    location_id: str | None = None
    lines: list[ReturnLineOut]
    refund: Money | None = None
    refunds: list[RefundOut]
    events: list[EventOut]
    workflow_id: str
    channel: str
    created_at: str | None = None
    refund_method: str = "original"
    # An exchange: the replacement order (its exchange_for names this return).
    replacement_order_id: str | None = None
    # A mail return's prepaid label (API.md); null for an in-store return.
    label: ReturnLabelOut | None = None
