"""Locations, products, stock and availability (API.md: Locations, Catalog, Stock, Availability)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StrictBool, StrictInt

from omni.words import Channel, LocationKind, StockMovementReason
from services.gateway.models.common import Body, Money, OneOf

# What an associate or an admin may record by hand (`commit` is the stock
# service's own, when a reservation is taken).
ADJUSTMENT_REASONS = (
    StockMovementReason.RECEIPT,
    StockMovementReason.POS_SALE,
    StockMovementReason.CYCLE_COUNT,
    StockMovementReason.DAMAGE,
    StockMovementReason.RETURN_RESTOCK,
)


class LocationIn(Body):
    location_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1)
    kind: LocationKind
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    pickup_enabled: StrictBool = False
    ship_from_enabled: StrictBool = False
    daily_order_capacity: StrictInt = Field(default=0, ge=0)
    pickup_window_hours: float = Field(default=72.0, gt=0)
    pick_sla_minutes: float = Field(default=120.0, gt=0)
    curbside_sla_minutes: float = Field(default=10.0, gt=0)
    # Where a sale here or a pickup from here is taxed ("US-CA").
    tax_region: str = Field(default="", max_length=32)
    # The IANA time zone the store's day (daily_order_capacity) is counted in.
    timezone: str = Field(default="UTC", min_length=1, max_length=64)


class LocationPatchIn(Body):
    """PATCH /v1/locations/{id}: any of the location's fields but its id; the
    ones left out stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: LocationKind | None = None
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    pickup_enabled: StrictBool | None = None
    ship_from_enabled: StrictBool | None = None
    daily_order_capacity: StrictInt | None = Field(default=None, ge=0)
    pickup_window_hours: float | None = Field(default=None, gt=0)
    pick_sla_minutes: float | None = Field(default=None, gt=0)
    curbside_sla_minutes: float | None = Field(default=None, gt=0)
    tax_region: str | None = Field(default=None, max_length=32)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)


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
    tax_region: str | None = None
    curbside_sla_minutes: float | None = None
    timezone: str | None = None


class LocationList(BaseModel):
    items: list[LocationOut]
    next_cursor: str | None = None


class ProductIn(Body):
    sku: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1)
    price: Money
    returnable_days: StrictInt = Field(default=30, ge=0)


class ProductOut(BaseModel):
    sku: str
    name: str
    price: Money
    returnable_days: int
    active: bool = True


class AdjustmentIn(Body):
    location_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    delta: StrictInt
    reason: Annotated[StockMovementReason, OneOf(*ADJUSTMENT_REASONS)]
    reference: str | None = None


class SafetyStockIn(Body):
    location_id: str = Field(min_length=1)
    sku: str = Field(min_length=1)
    channel: Channel
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


class InvariantViolationOut(BaseModel):
    location_id: str
    sku: str
    rule: str
    actual: int
    expected: int


class InvariantsOut(BaseModel):
    healthy: bool
    rows_checked: int
    violations: list[InvariantViolationOut]
