"""Who may act on a customer record, with merges in mind.

A customer acts only on their own record. After a merge their token may
still carry the duplicate's id: both ids resolve (GetCustomer answers with
the survivor), so the check compares what they resolve to.
"""

from __future__ import annotations

from fastapi import Request

from services.gateway.auth import Principal, require_role
from services.gateway.customer_identity import same_customer
from services.gateway.problems import not_found


async def check_own_customer(request: Request, principal: Principal, customer_id: str) -> None:
    """Customers: only themselves (an old, merged id included). Agents and admins: anyone."""
    require_role(principal, "customer", "agent", "admin")
    if not principal.is_("customer"):
        return
    if not await same_customer(request, principal.customer_id, customer_id):
        raise not_found("customer")
