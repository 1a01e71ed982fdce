"""Who may act on a customer record, with merges in mind.

A customer acts only on their own record. After a merge their token may
still carry the duplicate's id: both ids resolve (GetCustomer answers with
the survivor), so the check compares what they resolve to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from google.protobuf.message import Message

from services.gateway.auth import Principal, require_role
from services.gateway.clients import call
from services.gateway.customer_identity import same_customer
from services.gateway.problems import not_found
from services.gateway.routes.deps import Page, settings_of

Reply = TypeVar("Reply", bound=Message)


async def check_own_customer(request: Request, principal: Principal, customer_id: str) -> None:
    """Customers: only themselves (an old, merged id included). Agents and admins: anyone."""
    require_role(principal, "customer", "agent", "admin")
    if not principal.is_("customer"):
        return
    if not await same_customer(request, principal.customer_id, customer_id):
        raise not_found("customer")


async def own_customer_page(
    request: Request,
    principal: Principal,
    customer_id: str,
    paging: Page,
    rpc: Callable[..., Awaitable[Reply]],
    request_type: Callable[..., Message],
) -> Reply:
    """One page of a List* call on the customer's records, once the caller may see them."""
    await check_own_customer(request, principal, customer_id)
    return await call(
        rpc,
        request_type(customer_id=customer_id, limit=paging.limit, page_token=paging.cursor),
        deadline=settings_of(request).read_timeout_seconds,
    )
