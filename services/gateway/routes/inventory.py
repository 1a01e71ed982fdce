from __future__ import annotations

from fastapi import APIRouter, Request

from omni.words import StockMovementReason
from services.gateway import mapping
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import call
from services.gateway.idempotency import downstream_key
from services.gateway.models import AdjustmentIn, SafetyStockIn, StockOut
from services.gateway.problems import bad_request, forbidden, not_found
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/inventory", tags=["stock"])


def _check_location(principal: Principal, location_id: str) -> None:
    """Admins anywhere; an associate (a POS) only at their own store."""
    require_role(principal, "admin", "associate")
    if principal.is_("associate") and principal.store_id != location_id:
        raise not_found("location")


# What a store associate may post, at their own store: a count, a breakage.
# Receipts and sales come from the admin's receiving and the till's sale.
ASSOCIATE_REASONS = frozenset({StockMovementReason.CYCLE_COUNT, StockMovementReason.DAMAGE})


@router.post("/adjustments", status_code=201, response_model=StockOut)
async def adjust_stock(body: AdjustmentIn, request: Request, principal: Caller) -> StockOut:
    """Admins any reason anywhere; an associate `cycle_count` and `damage`
    at their own store. A negative delta below zero on hand, or below what is
    reserved, is a 422."""
    _check_location(principal, body.location_id)
    if principal.is_("associate") and body.reason not in ASSOCIATE_REASONS:
        raise forbidden(f"an associate may not post a {body.reason} adjustment")
    if body.reason == StockMovementReason.DAMAGE and body.delta >= 0:
        # A breakage takes stock away; "damage +1000" would be phantom stock.
        raise bad_request("delta", "a damage adjustment takes stock away: it must be negative")
    reply = await call(
        clients_of(request).inventory.AdjustStock,
        mapping.adjust_stock_request(
            body, idempotency_key=downstream_key(request, principal.sub), actor=principal.sub
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return mapping.stock(reply.stock)


@router.put("/safety-stock", response_model=StockOut)
async def set_safety_stock(body: SafetyStockIn, request: Request, principal: Caller) -> StockOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).inventory.SetSafetyStock,
        mapping.safety_stock_request(body),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return mapping.stock(reply.stock)
