"""Reports (issue 14): staff sales, the credit store associates earn for the
orders they placed or referred, in any channel, net of returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from google.protobuf.timestamp_pb2 import Timestamp

from omni.orders.v1 import orders_pb2
from omni.words import Channel
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models.staff import (
    ChannelSalesOut,
    StaffSalesOut,
    StaffSalesReport,
)
from services.gateway.problems import Problem, not_found
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/reports", tags=["reports"])


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@router.get("/staff-sales", response_model=StaffSalesReport)
async def staff_sales(
    request: Request,
    principal: Caller,
    store_id: Annotated[str, Query(max_length=128, description="required")] = "",
    period_start: Annotated[
        datetime | None, Query(alias="from", description="ISO-8601, inclusive (UTC if no offset)")
    ] = None,
    period_end: Annotated[
        datetime | None, Query(alias="to", description="ISO-8601, exclusive; default now")
    ] = None,
) -> StaffSalesReport:
    """Admin, or an associate for their own store: per associate whose home
    store it is, the orders credited to them in the period (the ones they
    placed, and online orders that named them as referral), gross and net of
    the refunds of returns of those orders, by channel."""
    require_role(principal, "associate", "admin")
    if not store_id:
        raise Problem(
            400,
            "store_id is required",
            slug="validation-error",
            errors=[("store_id", "is required")],
        )
    if principal.is_("associate") and store_id != principal.store_id:
        raise not_found("location")
    start, end = _utc(period_start), _utc(period_end)
    if start is not None and end is not None and start >= end:
        raise Problem(
            400,
            "from must be before to",
            slug="validation-error",
            errors=[("from", "must be before to")],
        )
    grpc_request = orders_pb2.GetStaffSalesRequest(store_id=store_id)
    if start is not None:
        grpc_request.period_start.CopyFrom(_stamp(start))
    if end is not None:
        grpc_request.period_end.CopyFrom(_stamp(end))
    reply = await call(
        clients_of(request).orders.GetStaffSales,
        grpc_request,
        deadline=settings_of(request).read_timeout_seconds,
    )
    return StaffSalesReport(
        store_id=store_id,
        from_=_iso(start),
        to=_iso(end),
        currency=reply.currency,
        associates=[
            StaffSalesOut(
                associate_id=sales.associate_id,
                name=sales.name,
                store_id=sales.store_id,
                orders_credited=sales.total.orders_credited,
                gross=mapping.money(sales.total.gross),
                returned=mapping.money(sales.total.returned),
                net=mapping.money(sales.total.net),
                by_channel=[
                    ChannelSalesOut(
                        channel=mapping.word(Channel, entry.channel),
                        orders_credited=entry.figures.orders_credited,
                        gross=mapping.money(entry.figures.gross),
                        returned=mapping.money(entry.figures.returned),
                        net=mapping.money(entry.figures.net),
                    )
                    for entry in sales.channels
                ],
            )
            for sales in reply.associates
        ],
    )
