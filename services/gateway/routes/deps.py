"""What the routes share: clients, settings, paging and query parsing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request

from omni.common.v1 import common_pb2
from services.gateway.clients import Clients
from services.gateway.problems import bad_request
from services.gateway.settings import GatewaySettings

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def clients_of(request: Request) -> Clients:
    clients: Clients = request.app.state.clients
    return clients


def settings_of(request: Request) -> GatewaySettings:
    settings: GatewaySettings = request.app.state.settings
    return settings


@dataclass(frozen=True)
class Page:
    limit: int
    cursor: str


def page(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="at most 200")] = DEFAULT_LIMIT,
    cursor: Annotated[
        str, Query(max_length=1000, description="`next_cursor` of the previous page")
    ] = "",
) -> Page:
    return Page(limit=limit, cursor=cursor)


Paging = Annotated[Page, Depends(page)]


def next_cursor(token: str) -> str | None:
    return token or None


def parse_near(near: str | None) -> common_pb2.GeoPoint | None:
    """ "LAT,LON" → a point; 400 naming `near` when it is not one."""
    if near is None or near == "":
        return None
    parts = near.split(",")
    try:
        lat, lon = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        lat, lon = None, None
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("near", "must be LAT,LON in decimal degrees")
    return common_pb2.GeoPoint(lat=lat, lon=lon)


def parse_list(value: str, field: str, *, max_items: int = 100) -> list[str]:
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise bad_request(field, "must name at least one value")
    if len(items) > max_items:
        raise bad_request(field, f"may name at most {max_items} values")
    return items
