"""The gateway application: `create_app(settings)`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi

from services.common.db import Database
from services.gateway.admission import Admission, AdmissionGate, AdmissionMiddleware
from services.gateway.auth import AuthenticationMiddleware, TokenVerifier
from services.gateway.card_numbers import CardNumberGuard
from services.gateway.clients import Clients, connect
from services.gateway.headers import SecurityHeadersMiddleware
from services.gateway.idempotency import IdempotencyMiddleware, IdempotencyStore
from services.gateway.problems import install_handlers
from services.gateway.rate_limit import RateLimiter, RateLimitMiddleware
from services.gateway.routes import (
    associates,
    availability,
    carts,
    console,
    curbside,
    customer_records,
    customers,
    dev,
    fulfillments,
    gift_cards,
    health,
    inventory,
    locations,
    orders,
    pickup_codes,
    pricing,
    products,
    reports,
    returns,
    stores,
)
from services.gateway.settings import GatewaySettings
from services.gateway.store import PostgresIdempotencyStore
from services.gateway.tracing import TracingMiddleware

logger = logging.getLogger(__name__)

PURGE_INTERVAL_SECONDS = 3600

DESCRIPTION = """The Omni REST contract (API.md): every channel's way in.

Authenticate with `Authorization: Bearer <JWT>`; send an `Idempotency-Key` on
mutating POSTs. Errors are `application/problem+json`."""


async def _purge_forever(store: IdempotencyStore, hours: float) -> None:
    while True:
        try:
            removed = await store.purge_older_than(hours)
            if removed:
                logger.info("purged %d expired idempotency keys", removed)
        except Exception:
            logger.exception("idempotency key purge failed")
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details (API.md Conventions)",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def _problems_not_422(schema: dict[str, Any]) -> None:
    """A malformed request is a 400 problem+json (problems.validation_problem
    answers it so); 422 is API.md's business rule, so FastAPI's default
    "422 HTTPValidationError" is published as the 400 it really is."""
    bad_request = {
        "description": "Malformed request: `errors` names each field",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
    for operations in schema["paths"].values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
                responses["400"] = bad_request
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components["Problem"] = PROBLEM_SCHEMA


def _document_idempotency_key(app: FastAPI) -> None:
    """The header is handled by middleware, so OpenAPI learns of it here."""

    def build() -> dict[str, Any]:  # the OpenAPI document: any JSON
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            _problems_not_422(schema)
            for operations in schema["paths"].values():
                if "post" in operations:
                    operations["post"].setdefault("parameters", []).append(
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                            "description": "same key + same body: the first response again",
                        }
                    )
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


def create_app(
    settings: GatewaySettings,
    *,
    clients: Clients | None = None,
    idempotency: IdempotencyStore | None = None,
) -> FastAPI:
    """Without `clients`/`idempotency`, connects to the services and to
    DATABASE_URL on startup (tests pass fakes). Refuses production settings
    that would accept tokens nobody issued (OMNI_ENV, settings.py)."""
    problems = settings.production_problems()
    if problems:
        raise RuntimeError(
            "refusing to start in production (OMNI_ENV is not development): " + "; ".join(problems)
        )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database: Database | None = None
        if app.state.clients is None:
            app.state.clients = connect(settings)
        if app.state.idempotency is None:
            if not settings.database_url:
                raise RuntimeError("DATABASE_URL is not set")
            database = Database(settings.database_url, pool_size=20)
            app.state.idempotency = PostgresIdempotencyStore(
                database, settings.idempotency_lease_seconds
            )
        purge = asyncio.create_task(
            _purge_forever(app.state.idempotency, settings.idempotency_retention_hours)
        )
        try:
            yield
        finally:
            purge.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await purge
            await app.state.clients.close()
            if database is not None:
                await database.dispose()

    app = FastAPI(
        title="Omni gateway",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        # TracingMiddleware is the one server span per request. FastAPI's own
        # telemetry would add a second one carrying the raw query string
        # (a looked-up email or phone, a card number typed into a search).
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    app.state.clients = clients
    app.state.idempotency = idempotency
    # Open availability streams by caller (routes/availability.py's cap).
    app.state.open_streams = {}
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.admission = Admission(
        placement=AdmissionGate(
            "placement",
            limit=settings.admission_placement_in_flight,
            max_queued=settings.admission_max_queued,
            queue_seconds=settings.admission_queue_seconds,
        ),
        general=AdmissionGate(
            "general",
            limit=settings.admission_general_in_flight,
            max_queued=settings.admission_max_queued,
            queue_seconds=settings.admission_queue_seconds,
        ),
        retry_after_seconds=settings.admission_retry_after_seconds,
    )
    install_handlers(app)
    for module in (
        health,
        locations,
        products,
        pricing,
        inventory,
        availability,
        customers,
        customer_records,
        carts,
        orders,
        stores,
        fulfillments,
        curbside,
        pickup_codes,
        returns,
        gift_cards,
        associates,
        reports,
        dev,
        console,
    ):
        app.include_router(module.router)
    _document_idempotency_key(app)
    # Added innermost first: security headers → tracing → admission control →
    # (CORS) → authentication (the one token check) → rate limit →
    # card-number guard → idempotency → routes.
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(CardNumberGuard)
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(AuthenticationMiddleware)
    if settings.cors_allowed_origins:
        # Only the configured storefronts' pages may call the API from a browser.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
            expose_headers=["ETag", "Retry-After", "traceparent", "Idempotent-Replayed"],
            max_age=600,
        )
    # Admission control sheds load before any work (token check, body read,
    # key claim) is spent on a request that would be refused; its 429s still
    # carry traceparent and the security headers.
    app.add_middleware(AdmissionMiddleware)
    app.add_middleware(TracingMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    return app
