"""The store associate console (API.md: Store console): the page, its script
and stylesheet, and, in development only, its sign-in (pick a store and an
associate, get a token)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import Field

from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from services.gateway.auth import Principal, mint_token
from services.gateway.clients import call, forward_caller
from services.gateway.console import ASSETS, asset, page_html
from services.gateway.models.common import Body
from services.gateway.problems import Problem, not_found
from services.gateway.routes.deps import clients_of, settings_of
from services.gateway.settings import GatewaySettings

router = APIRouter(tags=["console"])

# Nothing but the gateway's own files and calls; never framed (clickjacking
# an associate's handover); no inline script or style at all.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
}
# A development sign-in token lives one shift.
SHIFT_SECONDS = 10 * 3600
DEV_ASSOCIATE_PREFIX = "dev-associate-"
# The sign-in's own calls are the gateway's, as an administrator would make them.
_SIGN_IN_CALLER = Principal(sub="console-sign-in", role="admin")


@router.get("/console", response_class=HTMLResponse, include_in_schema=False)
async def console() -> HTMLResponse:
    """The store associate page; it calls the API with the associate's token."""
    return HTMLResponse(page_html(), headers=_HEADERS)


@router.get("/console/console.js", include_in_schema=False)
async def console_script() -> Response:
    return Response(asset("console.js"), media_type=ASSETS["console.js"], headers=_HEADERS)


@router.get("/console/console.css", include_in_schema=False)
async def console_style() -> Response:
    return Response(asset("console.css"), media_type=ASSETS["console.css"], headers=_HEADERS)


class SignInIn(Body):
    store_id: str = Field(min_length=1, max_length=128)
    # Empty: the store's development associate (registered now if needed).
    associate_id: str = Field(default="", max_length=128)


def _development_only(settings: GatewaySettings) -> None:
    """The sign-in exists only on a development gateway (OMNI_ENV=development,
    HS256 tokens whose secret the developer holds anyway, as `omni token`
    does); a production gateway answers 404 and associates bring a real token."""
    if not settings.is_development:
        raise not_found("console sign-in")


@router.get("/console/sign-in", include_in_schema=False)
async def sign_in_choices(request: Request) -> dict[str, object]:
    """Development only: the stores and their active associates to pick from."""
    settings = settings_of(request)
    _development_only(settings)
    forward_caller(_SIGN_IN_CALLER)
    clients = clients_of(request)
    locations = await call(
        clients.inventory.ListLocations,
        inventory_pb2.ListLocationsRequest(limit=200),
        deadline=settings.read_timeout_seconds,
    )
    associates = await call(
        clients.orders.ListAssociates,
        orders_pb2.ListAssociatesRequest(limit=200),
        deadline=settings.read_timeout_seconds,
    )
    return {
        "stores": [
            {
                "location_id": e.location.location_id,
                "name": e.location.name,
                "kind": inventory_pb2.LocationKind.Name(e.location.kind)
                .removeprefix("LOCATION_KIND_")
                .lower(),
            }
            for e in locations.locations
        ],
        "associates": [
            {"associate_id": a.associate_id, "name": a.name, "store_id": a.store_id}
            for a in associates.associates
            if a.active
        ],
    }


@router.post("/console/sign-in", include_in_schema=False)
async def sign_in(body: SignInIn, request: Request) -> dict[str, object]:
    """Development only: a token for an active associate of the store (the
    store's development associate when none is named, registered if new)."""
    settings = settings_of(request)
    _development_only(settings)
    forward_caller(_SIGN_IN_CALLER)
    orders = clients_of(request).orders
    if body.associate_id:
        found = await call(
            orders.GetAssociate,
            orders_pb2.GetAssociateRequest(associate_id=body.associate_id),
            deadline=settings.read_timeout_seconds,
        )
        associate = found.associate
    else:
        made = await call(
            orders.CreateAssociate,
            orders_pb2.CreateAssociateRequest(
                associate=orders_pb2.Associate(
                    associate_id=DEV_ASSOCIATE_PREFIX + body.store_id,
                    name=f"Development associate ({body.store_id})",
                    store_id=body.store_id,
                )
            ),
            deadline=settings.write_timeout_seconds,
        )
        associate = made.associate
    if not associate.active or associate.store_id != body.store_id:
        raise Problem(
            422,
            f"{associate.associate_id} is not an active associate of {body.store_id}",
            slug="not-an-associate-of-the-store",
            errors=[("associate_id", "not an active associate of this store")],
        )
    token = mint_token(
        settings.jwt_secret,
        associate.associate_id,
        "associate",
        store_id=body.store_id,
        channel="pos",
        ttl=SHIFT_SECONDS,
    )
    return {
        "token": token,
        "associate_id": associate.associate_id,
        "name": associate.name,
        "store_id": body.store_id,
    }
