from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from google.protobuf.message import Message

from omni.common.v1 import common_pb2
from omni.orders.v1 import orders_pb2
from services.gateway import mapping
from services.gateway.access import check_store, shows_pickup_code
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import call
from services.gateway.idempotency import action_key
from services.gateway.models import FulfillmentOut, HandoverIn, PickIn, RejectIn, ShipIn
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/fulfillments", tags=["store work"])


async def _check_fulfillment(request: Request, principal: Principal, fulfillment_id: str) -> None:
    """Associates act only on their own store's fulfillments (404 otherwise)."""
    require_role(principal, "associate", "admin")
    if principal.is_("admin"):
        return
    reply = await call(
        clients_of(request).orders.GetFulfillment,
        orders_pb2.GetFulfillmentRequest(fulfillment_id=fulfillment_id),
        deadline=settings_of(request).read_timeout_seconds,
    )
    check_store(principal, reply.fulfillment.location_id)


# Every fulfillment action answers with the fulfillment as it is now.
FulfillmentReply = (
    orders_pb2.PickFulfillmentResponse
    | orders_pb2.HandoverFulfillmentResponse
    | orders_pb2.ShipFulfillmentResponse
    | orders_pb2.RejectFulfillmentResponse
    | orders_pb2.MarkCustomerArrivedResponse
    | orders_pb2.IssuePickupCodeResponse
)


async def act(
    request: Request,
    principal: Principal,
    rpc: Callable[..., Awaitable[FulfillmentReply]],
    message: Message,
    *,
    deadline: float | None = None,
) -> FulfillmentOut:
    """The tail of every fulfillment action: hands it to the order's journey
    (through the orders service; the journey's deadline unless told) and
    answers with the fulfillment as it left it, as the caller may see it."""
    timeout = settings_of(request).journey_timeout_seconds if deadline is None else deadline
    reply = await call(rpc, message, deadline=timeout)
    return mapping.fulfillment(reply.fulfillment, show_pickup_code=shows_pickup_code(principal))


@router.post(
    "/{fulfillment_id}/pick", response_model=FulfillmentOut, response_model_exclude_unset=True
)
async def pick(
    fulfillment_id: str, body: PickIn, request: Request, principal: Caller
) -> FulfillmentOut:
    """A short pick is allowed: the rest is rerouted or cancelled and refunded."""
    await _check_fulfillment(request, principal, fulfillment_id)
    return await act(
        request,
        principal,
        clients_of(request).orders.PickFulfillment,
        orders_pb2.PickFulfillmentRequest(
            fulfillment_id=fulfillment_id,
            lines=mapping.picked_lines(body.lines),
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
    )


@router.post(
    "/{fulfillment_id}/handover", response_model=FulfillmentOut, response_model_exclude_unset=True
)
async def handover(
    fulfillment_id: str,
    body: HandoverIn,
    request: Request,
    principal: Caller,
) -> FulfillmentOut:
    """The customer collected: payment captured. A wrong code is a 422."""
    await _check_fulfillment(request, principal, fulfillment_id)
    return await act(
        request,
        principal,
        clients_of(request).orders.HandoverFulfillment,
        orders_pb2.HandoverFulfillmentRequest(
            fulfillment_id=fulfillment_id,
            pickup_code=body.pickup_code,
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
            lines=[
                common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity)
                for line in body.lines or []
            ],
        ),
    )


@router.post(
    "/{fulfillment_id}/ship", response_model=FulfillmentOut, response_model_exclude_unset=True
)
async def ship(
    fulfillment_id: str, body: ShipIn, request: Request, principal: Caller
) -> FulfillmentOut:
    """Shipped: payment for those lines captured."""
    await _check_fulfillment(request, principal, fulfillment_id)
    return await act(
        request,
        principal,
        clients_of(request).orders.ShipFulfillment,
        orders_pb2.ShipFulfillmentRequest(
            fulfillment_id=fulfillment_id,
            carrier=body.carrier,
            tracking_number=body.tracking_number,
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
    )


@router.post(
    "/{fulfillment_id}/reject", response_model=FulfillmentOut, response_model_exclude_unset=True
)
async def reject(
    fulfillment_id: str, body: RejectIn, request: Request, principal: Caller
) -> FulfillmentOut:
    """The store cannot do it: the lines go to another location as a new
    fulfillment (a pickup to the nearest other pickup store with the stock, the
    customer told), or are cancelled and refunded. Answers with this
    fulfillment, now `rerouted` (or `cancelled`); 409 unless pending or picking."""
    await _check_fulfillment(request, principal, fulfillment_id)
    return await act(
        request,
        principal,
        clients_of(request).orders.RejectFulfillment,
        orders_pb2.RejectFulfillmentRequest(
            fulfillment_id=fulfillment_id,
            reason=body.reason,
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
    )
