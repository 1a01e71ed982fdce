"""Associates, staff-sales reports and order lookup (issue 14)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.gateway.models.common import Body, Money
from services.gateway.models.customers import CustomerContactOut, CustomerOut
from services.gateway.models.orders import OrderLineOut, OrderOut, OrderTotalsOut

# The registry's ids are the same ids as everywhere (services/common/validation.py).
ID_PATTERN = r"^[A-Za-z0-9._:/-]{1,128}$"


class AssociateIn(Body):
    associate_id: str = Field(pattern=ID_PATTERN, examples=["A1"])
    name: str = Field(min_length=1, max_length=200, examples=["Ada Lovelace"])
    store_id: str = Field(pattern=ID_PATTERN, examples=["S1"])


class AssociateOut(BaseModel):
    associate_id: str
    name: str
    store_id: str
    active: bool
    created_at: str | None = None
    deactivated_at: str | None = None


class AssociateList(BaseModel):
    items: list[AssociateOut]
    next_cursor: str | None = None


class SalesFiguresOut(BaseModel):
    orders_credited: int
    gross: Money
    returned: Money
    net: Money


class ChannelSalesOut(SalesFiguresOut):
    channel: str


class StaffSalesOut(SalesFiguresOut):
    associate_id: str
    name: str
    store_id: str
    by_channel: list[ChannelSalesOut]


class StaffSalesReport(BaseModel):
    store_id: str
    # ISO-8601; null: from the beginning / until now.
    from_: str | None = Field(default=None, alias="from", serialization_alias="from")
    to: str | None = None
    currency: str
    associates: list[StaffSalesOut]

    model_config = {"populate_by_name": True}


class CustomerMatches(BaseModel):
    """GET /v1/customers: exact matches (agents and admins see the profile,
    associates name and contact only)."""

    items: list[CustomerOut | CustomerContactOut]


class OrderList(BaseModel):
    """GET /v1/orders, newest first. `payments` is left empty in a list: GET
    /v1/orders/{id} shows them (one payments call per order would make a page
    of 200 cost 200 calls)."""

    items: list[OrderOut]
    next_cursor: str | None = None


class ReceiptStoreOut(BaseModel):
    location_id: str
    name: str


class ReceiptTenderOut(BaseModel):
    tender_type: str
    # What the tender paid: captured, or authorized while not yet captured.
    amount: Money
    status: str
    card_brand: str | None = None
    card_last4: str | None = None


class ReceiptOut(BaseModel):
    """GET /v1/orders/{id}/receipt: what a till prints."""

    order_id: str
    store: ReceiptStoreOut | None = None
    associate_id: str | None = None
    lines: list[OrderLineOut]
    tenders: list[ReceiptTenderOut]
    totals: OrderTotalsOut | None = None
    at: str | None = None
