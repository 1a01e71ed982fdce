"""Curbside pickup: the customer says they are outside (API.md, Store work)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from omni.orders.v1 import orders_pb2
from services.gateway.access import check_order
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models import ArrivedIn, FulfillmentOut
from services.gateway.routes.deps import clients_of, settings_of
from services.gateway.routes.fulfillments import act

router = APIRouter(prefix="/v1/fulfillments", tags=["store work"])


@router.post(
    "/{fulfillment_id}/arrived", response_model=FulfillmentOut, response_model_exclude_unset=True
)
async def arrived(
    fulfillment_id: str, body: ArrivedIn, request: Request, principal: Caller
) -> FulfillmentOut:
    """The order's customer (or an agent for them) is outside: the pickup moves
    to the top of the store's tasks. Only for a pickup that is ready (409
    otherwise); saying it again changes nothing."""
    require_role(principal, "customer", "agent")
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
        clients.orders.MarkCustomerArrived,
        orders_pb2.MarkCustomerArrivedRequest(
            fulfillment_id=fulfillment_id, note=body.note, actor=principal.sub
        ),
        deadline=settings.write_timeout_seconds,
    )
