"""Customers, their carts and records (API.md: Customers)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from omni.words import Channel
from services.gateway.models.common import Body, Money


class CustomerIn(Body):
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    # The number printed on a store loyalty card: an identity like email and phone.
    loyalty_card: str | None = Field(default=None, max_length=40)


class IdentityOut(BaseModel):
    kind: str
    value: str


class StoreCreditOut(BaseModel):
    """A gift card refunds issued to the customer; spent by its code."""

    code: str
    balance: Money


class CustomerOut(BaseModel):
    customer_id: str
    name: str
    email: str
    phone: str
    identities: list[IdentityOut]
    loyalty_points: int
    created_at: str | None = None
    store_credit: list[StoreCreditOut] = Field(default_factory=list)
    loyalty_card: str | None = None
    # Points clawed back beyond the balance, paid off by future points.
    loyalty_debt: int = 0


class ActivityOut(BaseModel):
    kind: str
    reference_id: str
    order_id: str | None = None
    return_id: str | None = None
    channel: str
    status: str
    occurred_at: str | None = None


class ActivityList(BaseModel):
    items: list[ActivityOut]
    next_cursor: str | None = None


class CartLineIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(ge=1, le=999)


class CartIn(Body):
    lines: list[CartLineIn] = Field(max_length=100)
    # Default: the token's channel.
    channel: Channel | None = None


class MergeIn(Body):
    duplicate_customer_id: str = Field(min_length=1, max_length=36)


class PreferencesIn(Body):
    channels: list[str] = Field(default_factory=list, max_length=5)
    marketing_consent: list[str] = Field(default_factory=list, max_length=5)


class PreferencesOut(BaseModel):
    channels: list[str]
    marketing_consent: list[str]


class CustomerRecordOut(CustomerOut):
    """The profile with what only the customers service knows beyond API.md's
    fields (answers to preferences, merge, erase and export)."""

    erased: bool
    preferences: PreferencesOut


class MergedCustomerOut(CustomerRecordOut):
    merge_id: str


class CartLineOut(BaseModel):
    sku: str
    quantity: int
    # Priced by the orders service's one pricing function for the cart's
    # channel (tax and shipping come with a fulfillment, at quote or checkout).
    unit_price: Money | None = None
    discount: Money | None = None
    total: Money | None = None


class CartTotalsOut(BaseModel):
    subtotal: Money
    discount: Money
    total: Money


class CartOut(BaseModel):
    customer_id: str
    lines: list[CartLineOut]
    channel: str
    version: int
    updated_at: str | None = None
    totals: CartTotalsOut | None = None
    promotions_applied: list[dict[str, object]] | None = None
    # Why the cart has no prices (a sku no longer sold), when it has none.
    pricing_problem: str | None = None


class TimelineEventOut(BaseModel):
    event_id: str
    kind: str
    reference_id: str
    order_id: str | None = None
    channel: str
    summary: str
    amount: Money | None = None
    at: str | None = None


class TimelineList(BaseModel):
    items: list[TimelineEventOut]
    next_cursor: str | None = None


class NotificationOut(BaseModel):
    notification_id: str
    kind: str
    channel: str | None = None
    subject: str
    body: str
    status: str
    marketing: bool
    reference_id: str | None = None
    created_at: str | None = None


class NotificationList(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None = None


class LoyaltyEntryOut(BaseModel):
    entry_id: str
    reason: str
    reference_id: str
    points: int
    balance_after: int
    debt_after: int
    at: str | None = None


class LoyaltyOut(BaseModel):
    loyalty_points: int
    loyalty_debt: int
    history: list[LoyaltyEntryOut]


class MergeRecordOut(BaseModel):
    merge_id: str
    survivor_customer_id: str
    duplicate_customer_id: str
    actor: str
    at: str | None = None


class ExportOut(BaseModel):
    """Everything Omni holds about the customer."""

    customer: CustomerRecordOut
    aliases: list[str]
    orders: list[ActivityOut]
    timeline: list[TimelineEventOut]
    cart: CartOut
    loyalty_history: list[LoyaltyEntryOut]
    notifications: list[NotificationOut]
    merges: list[MergeRecordOut]


class CustomerIdOut(BaseModel):
    """What a guest (or another customer) learns from POST /v1/customers."""

    customer_id: str


class CustomerContactOut(CustomerIdOut):
    """What an associate sees of a customer: name and contact only."""

    name: str
    email: str
    phone: str
