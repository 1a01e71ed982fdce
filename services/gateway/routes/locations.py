from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models import LocationIn, LocationList, LocationOut, LocationPatchIn
from services.gateway.problems import Problem
from services.gateway.routes.deps import (
    Paging,
    clients_of,
    next_cursor,
    parse_near,
    settings_of,
)

router = APIRouter(prefix="/v1/locations", tags=["locations"])


@router.post("", status_code=201, response_model=LocationOut)
async def create_location(body: LocationIn, request: Request, principal: Caller) -> LocationOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).inventory.CreateLocation,
        inventory_pb2.CreateLocationRequest(location=mapping.location_message(body)),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return mapping.location(reply.location)


# The PATCH fields sent to UpdateLocation as they are (lat/lon go as one point).
_PATCHED = (
    "name",
    "pickup_enabled",
    "ship_from_enabled",
    "daily_order_capacity",
    "pickup_window_hours",
    "pick_sla_minutes",
    "curbside_sla_minutes",
    "tax_region",
    "timezone",
)


@router.patch("/{location_id}", response_model=LocationOut)
async def update_location(
    location_id: str, body: LocationPatchIn, request: Request, principal: Caller
) -> LocationOut:
    """Admin. Changes the fields sent; the rest stay. Orders already waiting
    on the store keep the clocks they read when they started."""
    require_role(principal, "admin")
    if (body.lat is None) != (body.lon is None):
        missing = "lon" if body.lon is None else "lat"
        raise Problem(
            400,
            "lat and lon move a location together",
            slug="validation-error",
            errors=[(missing, "is required with " + ("lat" if missing == "lon" else "lon"))],
        )
    grpc_request = inventory_pb2.UpdateLocationRequest(location_id=location_id)
    for name in _PATCHED:
        value = getattr(body, name)
        if value is not None:
            setattr(grpc_request, name, value)
    if body.kind is not None:
        grpc_request.kind = body.kind.to_proto()
    if body.lat is not None and body.lon is not None:
        grpc_request.point.CopyFrom(common_pb2.GeoPoint(lat=body.lat, lon=body.lon))
    reply = await call(
        clients_of(request).inventory.UpdateLocation,
        grpc_request,
        deadline=settings_of(request).write_timeout_seconds,
    )
    return mapping.location(reply.location)


@router.get("", response_model=LocationList)
async def list_locations(
    request: Request,
    _principal: Caller,
    paging: Paging,
    near: Annotated[str | None, Query(description="LAT,LON", examples=["40.71,-74.00"])] = None,
    radius_km: Annotated[float, Query(gt=0, le=20_000)] = 25.0,
    pickup_enabled: Annotated[bool | None, Query(description="true: only pickup locations")] = None,
) -> LocationList:
    """Any role, guest included. With `near`: within `radius_km`, nearest first."""
    point = parse_near(near)
    grpc_request = inventory_pb2.ListLocationsRequest(
        radius_km=radius_km if point is not None else 0,
        pickup_enabled_only=bool(pickup_enabled),
        limit=paging.limit,
        page_token=paging.cursor,
    )
    if point is not None:
        grpc_request.near.CopyFrom(point)
    reply = await call(
        clients_of(request).inventory.ListLocations,
        grpc_request,
        deadline=settings_of(request).read_timeout_seconds,
    )
    return LocationList(
        items=[
            mapping.location(entry.location, entry.distance_km if point is not None else None)
            for entry in reply.locations
        ],
        next_cursor=next_cursor(reply.next_page_token),
    )
