"""Request and response bodies of the REST contract (API.md), for validation
and for the OpenAPI document."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, StrictBool, StrictInt


class Money(BaseModel):
    amount_minor: StrictInt
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["USD"])


# ---- locations, catalog, stock


class LocationIn(BaseModel):
    location_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1)
    kind: Literal["store", "warehouse"]
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    pickup_enabled: StrictBool = False
    ship_from_enabled: StrictBool = False
    daily_order_capacity: StrictInt = Field(default=0, ge=0)
    pickup_window_hours: float = Field(default=72.0, gt=0)
    pick_sla_minutes: float = Field(default=120.0, gt=0)


class LocationOut(BaseModel):
    location_id: str
    name: str
    kind: str
    lat: float
    lon: float
    pickup_enabled: bool
    ship_from_enabled: bool
    daily_order_capacity: int
    pickup_window_hours: float
    pick_sla_minutes: float
    distance_km: float | None = None


class LocationList(BaseModel):
    items: list[LocationOut]
    next_cursor: str | None = None


class ProductIn(BaseModel):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1)
    price: Money
    returnable_days: StrictInt = Field(default=30, ge=0)


class ProductOut(BaseModel):
    sku: str
    name: str
    price: Money
    returnable_days: int


class AdjustmentIn(BaseModel):
    location_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    delta: StrictInt
    reason: Literal["receipt", "pos_sale", "cycle_count", "damage", "return_restock"]
    reference: str | None = None


class SafetyStockIn(BaseModel):
    location_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    channel: Literal["web", "app", "pos", "call_center", "marketplace"]
    quantity: StrictInt = Field(ge=0)


class StockOut(BaseModel):
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    safety_stock: dict[str, int]


class LocationAvailabilityOut(BaseModel):
    location_id: str
    distance_km: float
    available: int
    pickup_enabled: bool


class SkuAvailabilityOut(BaseModel):
    sku: str
    online_available: int
    locations: list[LocationAvailabilityOut]


class AvailabilityOut(BaseModel):
    items: list[SkuAvailabilityOut]


# ---- customers


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


# ---- orders


class OrderLineIn(BaseModel):
    sku: str = Field(min_length=1)
    quantity: StrictInt = Field(gt=0)


class AddressIn(BaseModel):
    line1: str = Field(min_length=1)
    city: str = Field(min_length=1)
    postal_code: str = ""
    country: str = Field(min_length=2, max_length=2)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class FulfillmentIn(BaseModel):
    type: Literal["pickup", "ship"]
    location_id: str | None = None
    address: AddressIn | None = None


class TenderIn(BaseModel):
    type: Literal["card", "gift_card"]
    token: str | None = None
    code: str | None = None
    amount_minor: StrictInt | None = Field(default=None, gt=0)


class PaymentIn(BaseModel):
    tenders: list[TenderIn] = Field(min_length=1)


class OrderIn(BaseModel):
    customer_id: str | None = None
    channel: Literal["web", "app", "pos", "call_center", "marketplace"] | None = None
    lines: list[OrderLineIn] = Field(min_length=1, max_length=200)
    fulfillment: FulfillmentIn
    payment: PaymentIn
    referral_associate_id: str | None = None


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


class OrderLineOut(BaseModel):
    sku: str
    quantity: int
    unit_price: Money | None = None
    returnable_days: int
    returned_quantity: int


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
    created_at: str | None = None


class CancelIn(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


# ---- store work


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


# ---- returns


class ReturnLineIn(BaseModel):
    sku: str = Field(min_length=1)
    quantity: StrictInt = Field(gt=0)
    condition: Literal["sellable", "damaged"]


class ReturnIn(BaseModel):
    order_id: str = Field(min_length=1)
    lines: list[ReturnLineIn] = Field(min_length=1)
    method: Literal["in_store", "mail"]
    location_id: str | None = None
    # "original": to the order's tenders; "store_credit": all of it as store
    # credit to the order's customer.
    refund_method: Literal["original", "store_credit"] = "original"


class ReceiveIn(BaseModel):
    location_id: str = Field(min_length=1, max_length=128)
    lines: list[ReturnLineIn] = Field(min_length=1)


class ReturnLineOut(BaseModel):
    sku: str
    quantity: int
    condition: str


class RefundOut(BaseModel):
    payment_id: str | None = None
    tender_type: str
    amount: Money | None = None
    status: str


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


# ---- development provider


class ProviderOperationOut(BaseModel):
    operation: str
    amount: Money | None = None
    outcome: str
    at: str | None = None


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    dependencies: dict[str, str]
