"""Who may see what (API.md, Auth). 403 when the role may never do it; 404
when the role may, but this resource is not the caller's to see."""

from __future__ import annotations

from fastapi import Request

from omni.orders.v1 import orders_pb2
from services.gateway.auth import Principal, require_role
from services.gateway.customer_identity import same_customer
from services.gateway.problems import not_found


async def _own(request: Request, principal: Principal, owner_id: str) -> bool:
    """A customer's own: placed under their id, or under an id merged with it."""
    return principal.is_("customer") and await same_customer(
        request, principal.customer_id, owner_id
    )


async def check_order(request: Request, principal: Principal, order: orders_pb2.Order) -> None:
    """Customers: their own orders (a merged duplicate's included). Associates:
    orders placed in or fulfilled from their store. Agents and admins: any."""
    if principal.is_("agent", "admin"):
        return
    if await _own(request, principal, order.customer_id):
        return
    if (
        principal.is_("associate")
        and principal.store_id
        and (
            order.store_id == principal.store_id
            or any(f.location_id == principal.store_id for f in order.fulfillments)
        )
    ):
        return
    raise not_found("order")


async def check_return(request: Request, principal: Principal, return_: orders_pb2.Return) -> None:
    if principal.is_("agent", "admin"):
        return
    if await _own(request, principal, return_.customer_id):
        return
    if (
        principal.is_("associate")
        and principal.store_id
        and (return_.location_id == principal.store_id)
    ):
        return
    raise not_found("return")


def check_store(principal: Principal, store_id: str) -> None:
    """Associates act only in their own store; admins anywhere."""
    require_role(principal, "associate", "admin")
    if principal.is_("associate") and principal.store_id != store_id:
        raise not_found("store")


def shows_pickup_code(principal: Principal) -> bool:
    """The customer shows the code at the counter: never shown to associates."""
    return principal.is_("customer", "agent", "admin")
