"""Orders: placing, reading, cancelling (API.md: Orders)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictInt

from omni.words import Channel, FulfillmentType, TenderType
from services.gateway.models.common import Body, Money, OneOf


class OrderLineIn(Body):
    sku: str = Field(min_length=1)
    quantity: StrictInt = Field(gt=0)


class AddressIn(Body):
    line1: str = Field(min_length=1)
    city: str = Field(min_length=1)
    postal_code: str = ""
    country: str = Field(min_length=2, max_length=2)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    # State or province: with country, the tax region ("US" + "CA").
    region: str = Field(default="", max_length=16)


class FulfillmentIn(Body):
    type: FulfillmentType
    location_id: str | None = None
    address: AddressIn | None = None
    # For ship: a shipping method's id (may be left out when only one fits).
    shipping_method: str | None = Field(default=None, max_length=64)


class TenderIn(Body):
    # A channel pays by card or gift card; a till (carry_out, issue 14) by
    # cash (amount_minor: what was handed over), card_present or gift card.
    # Store credit is the services' own tender.
    type: Annotated[
        TenderType,
        OneOf(TenderType.CARD, TenderType.GIFT_CARD, TenderType.CASH, TenderType.CARD_PRESENT),
    ]
    token: str | None = None
    code: str | None = None
    amount_minor: StrictInt | None = Field(default=None, gt=0)


class PaymentIn(Body):
    tenders: list[TenderIn] = Field(min_length=1, max_length=10)


class OrderIn(Body):
    customer_id: str | None = None
    channel: Channel | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    fulfillment: FulfillmentIn
    payment: PaymentIn
    referral_associate_id: str | None = None
    coupon_codes: list[str] | None = Field(default=None, max_length=5)


class FulfillmentLineOut(BaseModel):
    sku: str
    quantity: int
    quantity_picked: int


class TrackingOut(BaseModel):
    carrier: str
    tracking_number: str


class FulfillmentOut(BaseModel):
    fulfillment_id: str
    order_id: str
    type: str
    location_id: str
    status: str
    lines: list[FulfillmentLineOut]
    pickup_code: str | None = None
    tracking: TrackingOut | None = None
    updated_at: str | None = None
    # Curbside: when the customer said they are outside, and their note.
    arrived_at: str | None = None
    arrival_note: str | None = None
    # The store's work on it is late (pick SLA, curbside hand-off SLA).
    overdue: bool = False


class OrderLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price: Money | None = None
    returnable_days: int
    returned_quantity: int
    # Units given up by line cancels (POST /v1/orders/{id}/lines/cancel); the
    # fulfillments hold the rest.
    quantity_cancelled: int = 0
    # As priced at placement (kept for the order's life): discount off
    # quantity x unit price, tax on the rest, and what the line cost.
    discount: Money | None = None
    tax: Money | None = None
    total: Money | None = None


class OrderTotalsOut(BaseModel):
    subtotal: Money
    discount: Money
    shipping: Money
    tax: Money
    total: Money


class OrderPromotionOut(BaseModel):
    promotion_id: str
    name: str
    code: str | None = None
    discount: Money


class EventOut(BaseModel):
    at: str | None = None
    type: str
    detail: str


class PaymentOut(BaseModel):
    payment_id: str
    tender_type: str
    status: str
    authorized: Money | None = None
    captured: Money | None = None
    refunded: Money | None = None
    # What a final capture gave back of the authorization (after a short pick).
    released: Money | None = None
    card_brand: str | None = None
    card_last4: str | None = None


class OrderOut(BaseModel):
    order_id: str
    customer_id: str
    channel: str
    status: str
    lines: list[OrderLineOut]
    fulfillments: list[FulfillmentOut]
    payments: list[PaymentOut]
    events: list[EventOut]
    workflow_id: str
    total: Money | None = None
    associate_id: str | None = None
    store_id: str | None = None
    referral_associate_id: str | None = None
    # Staff credit (issue 14): the associate who placed it, else the referral.
    credited_associate_id: str | None = None
    created_at: str | None = None
    totals: OrderTotalsOut | None = None
    promotions_applied: list[OrderPromotionOut] | None = None
    # Which tax rule applied ("US-CA 725 bps", "US-ZZ: no rate, 0").
    tax_rule: str | None = None
    shipping_method: str | None = None
    coupon_codes: list[str] | None = None
    # An exchange's replacement order: the return it replaces goods of.
    exchange_for: str | None = None


class CancelIn(Body):
    reason: str | None = Field(default=None, max_length=500)


class CancelLineIn(Body):
    sku: str = Field(min_length=1, max_length=64)
    quantity: StrictInt = Field(gt=0, le=1_000_000)


class CancelLinesIn(Body):
    """POST /v1/orders/{id}/lines/cancel: units of lines not yet handed over
    or shipped (issue 11)."""

    lines: list[CancelLineIn] = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=500)
