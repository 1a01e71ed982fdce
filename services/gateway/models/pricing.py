"""Pricing: products' updates and channel prices, promotions, tax regions,
shipping methods and quotes (API.md: Catalog; Pricing)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field, StrictBool, StrictInt

from omni.words import Channel, PromotionKind
from services.gateway.models.common import Body, Money
from services.gateway.models.orders import FulfillmentIn, OrderLineIn


class ProductPatchIn(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    price: Money | None = None
    returnable_days: StrictInt | None = Field(default=None, ge=0)
    active: StrictBool | None = None


class ChannelPriceIn(Body):
    price: Money


class ProductDetailOut(BaseModel):
    sku: str
    name: str
    # The caller's channel's price.
    price: Money
    returnable_days: int
    active: bool
    # Admins see every channel's own price.
    channel_prices: dict[str, Money] | None = None


class ProductPage(BaseModel):
    items: list[ProductDetailOut]
    next_cursor: str | None = None


class PromotionIn(Body):
    name: str = Field(min_length=1, max_length=200)
    kind: PromotionKind
    # percent_off: a whole percent (1..100); amount_off: minor units of `currency`.
    value: StrictInt = Field(gt=0)
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    skus: list[str] | None = Field(default=None, max_length=1000)
    channels: list[Channel] | None = Field(default=None, max_length=10)
    code: str | None = Field(default=None, min_length=1, max_length=64)
    min_subtotal: Money | None = None
    starts_at: datetime
    ends_at: datetime


class PromotionOut(BaseModel):
    promotion_id: str
    name: str
    kind: str
    value: int
    currency: str | None = None
    skus: list[str]
    channels: list[str]
    code: str | None = None
    min_subtotal: Money | None = None
    starts_at: str | None = None
    ends_at: str | None = None
    ended_at: str | None = None


class PromotionList(BaseModel):
    items: list[PromotionOut]
    next_cursor: str | None = None


class TaxRegionIn(Body):
    name: str = Field(min_length=1, max_length=200)
    rate_bps: StrictInt = Field(ge=0, le=10000)


class TaxRegionOut(BaseModel):
    region: str
    name: str
    rate_bps: int


class ShippingMethodIn(Body):
    method_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    price: Money
    free_over: Money | None = None
    countries: list[str] = Field(min_length=1, max_length=300)


class ShippingMethodOut(BaseModel):
    method_id: str
    name: str
    price: Money
    free_over: Money | None = None
    countries: list[str]


class ShippingMethodList(BaseModel):
    items: list[ShippingMethodOut]


class QuoteIn(Body):
    customer_id: str | None = None
    channel: Channel | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    fulfillment: FulfillmentIn
    coupon_codes: list[str] | None = Field(default=None, max_length=5)


class TotalsOut(BaseModel):
    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money


class AppliedPromotionOut(BaseModel):
    promotion_id: str
    name: str
    code: str | None = None
    discount: Money


class QuoteLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price: Money
    discount: Money
    tax: Money
    total: Money


class QuoteOut(BaseModel):
    lines: list[QuoteLineOut]
    totals: TotalsOut
    promotions_applied: list[AppliedPromotionOut]
    tax_rule: str
    shipping_method: str | None = None
