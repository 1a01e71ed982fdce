from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from omni.inventory.v1 import inventory_pb2
from services.gateway import mapping
from services.gateway.auth import Caller
from services.gateway.clients import call
from services.gateway.models import AvailabilityOut
from services.gateway.routes.deps import clients_of, parse_list, parse_near, settings_of

router = APIRouter(prefix="/v1/availability", tags=["availability"])

ChannelName = Literal["web", "app", "pos", "call_center", "marketplace"]


@router.get("", response_model=AvailabilityOut)
async def get_availability(
    request: Request,
    principal: Caller,
    skus: Annotated[str, Query(description="comma-separated SKUs", examples=["SKU-MUG,SKU-CAP"])],
    near: Annotated[str | None, Query(description="LAT,LON")] = None,
    radius_km: Annotated[float, Query(gt=0, le=20_000)] = 25.0,
    channel: Annotated[
        ChannelName | None, Query(description="default: the token's channel")
    ] = None,
) -> dict[str, Any]:
    """Any role, guest included. Read-your-writes: straight from inventory."""
    grpc_request = inventory_pb2.GetAvailabilityRequest(
        skus=parse_list(skus, "skus"),
        radius_km=radius_km,
        channel=channel or principal.channel or "web",
    )
    point = parse_near(near)
    if point is not None:
        grpc_request.near.CopyFrom(point)
    reply = await call(
        clients_of(request).inventory.GetAvailability,
        grpc_request,
        deadline=settings_of(request).read_timeout_seconds,
    )
    return mapping.availability(reply)
