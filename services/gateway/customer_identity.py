"""Which customer an id answers as, after merges.

A merged duplicate's id keeps resolving (the customers service's GetCustomer
answers with the survivor), so a customer token minted before a merge, or an
order placed under the duplicate's id, still belongs to the survivor. Answers
are cached for the one request only: a merge may happen between requests.
"""

from __future__ import annotations

from fastapi import Request

from omni.customers.v1 import customers_pb2
from services.gateway.clients import call
from services.gateway.problems import Problem
from services.gateway.routes.deps import clients_of, settings_of


async def live_customer_id(request: Request, customer_id: str) -> str | None:
    """The survivor `customer_id` answers as; None when no such customer."""
    cache: dict[str, str | None] | None = getattr(request.state, "live_customer_ids", None)
    if cache is None:
        cache = request.state.live_customer_ids = {}
    if customer_id not in cache:
        try:
            reply = await call(
                clients_of(request).customers.GetCustomer,
                customers_pb2.GetCustomerRequest(customer_id=customer_id),
                deadline=settings_of(request).read_timeout_seconds,
            )
            cache[customer_id] = str(reply.customer.customer_id)
        except Problem as problem:
            if problem.status not in (400, 404):
                raise
            cache[customer_id] = None
    return cache[customer_id]


async def same_customer(request: Request, first: str, second: str) -> bool:
    """True when both ids are one customer (the same id, or merged together)."""
    if not first or not second:
        return False
    if first == second:
        return True
    mine = await live_customer_id(request, first)
    return mine is not None and mine == await live_customer_id(request, second)
