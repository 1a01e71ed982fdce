"""Customers, their carts and records (API.md: Customers)."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictInt

from services.gateway.models.common import Money


class CustomerIn(BaseModel):
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


class CartLineIn(BaseModel):
    sku: str = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(ge=1, le=999)


class CartIn(BaseModel):
    lines: list[CartLineIn] = Field(max_length=100)
    channel: str | None = Field(default=None, max_length=40)


class MergeIn(BaseModel):
    duplicate_customer_id: str = Field(min_length=1, max_length=36)


class PreferencesIn(BaseModel):
    channels: list[str] = Field(default_factory=list, max_length=5)
    marketing_consent: list[str] = Field(default_factory=list, max_length=5)
