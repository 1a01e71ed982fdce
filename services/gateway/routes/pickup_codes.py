"""A new pickup code (API.md, Store work): after 5 wrong codes a pickup is
locked until the customer asks for a new one, which is sent to them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from omni.orders.v1 import orders_pb2
from services.gateway.access import check_order
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models import FulfillmentOut
from services.gateway.routes.deps import clients_of, settings_of
from services.gateway.routes.fulfillments import act

router = APIRouter(prefix="/v1/fulfillments", tags=["store work"])


@router.post(
    "/{fulfillment_id}/pickup-code",
    response_model=FulfillmentOut,
    response_model_exclude_unset=True,
)
async def new_pickup_code(
    fulfillment_id: str, request: Request, principal: Caller
) -> FulfillmentOut:
    """The order's customer, or an agent for them (never the store): the old
    code stops working, a locked pickup opens again, and the new code is sent
    to the customer and shown in the answer. 409 unless ready for pickup."""
    require_role(principal, "customer", "agent", "admin")
    clients = clients_of(request)
    settings = settings_of(request)
    found = await call(
        clients.orders.GetFulfillment,
        orders_pb2.GetFulfillmentRequest(fulfillment_id=fulfillment_id),
        deadline=settings.read_timeout_seconds,
    )
    order = await call(
        clients.orders.GetOrder,
        orders_pb2.GetOrderRequest(order_id=found.fulfillment.order_id),
        deadline=settings.read_timeout_seconds,
    )
    await check_order(request, principal, order.order)
    return await act(
        request,
        principal,
        clients.orders.IssuePickupCode,
        orders_pb2.IssuePickupCodeRequest(fulfillment_id=fulfillment_id, actor=principal.sub),
    )
