from __future__ import annotations

from fastapi import APIRouter, Request

from omni.orders.v1 import orders_pb2
from omni.words import ReturnMethod, ReturnStatus
from services.gateway import mapping
from services.gateway.access import check_order, check_return
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import call
from services.gateway.idempotency import action_key, downstream_key
from services.gateway.models import ReceiveIn, ReturnIn, ReturnOut
from services.gateway.problems import Problem, not_found
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/returns", tags=["returns"])


def _location(principal: Principal, body: ReturnIn) -> str:
    """In store: the store taking the items back (an associate's own store)."""
    if body.method is ReturnMethod.MAIL:
        return body.location_id or ""
    location_id = body.location_id or (principal.store_id if principal.is_("associate") else "")
    if not location_id:
        raise Problem(
            400,
            "an in-store return needs location_id",
            slug="validation-error",
            errors=[("location_id", "is required for method in_store")],
        )
    if principal.is_("associate") and location_id != principal.store_id:
        raise not_found("location")
    return location_id


@router.post("", status_code=201, response_model=ReturnOut)
async def create_return(body: ReturnIn, request: Request, principal: Caller) -> ReturnOut:
    """Any channel, any store. In store, an associate of `location_id` (goods
    in hand) receives it at once; a customer's or agent's waits
    `awaiting_receipt` there. Quantities already returned, or past the
    product's returnable_days, are a 422. Send an Idempotency-Key."""
    require_role(principal, "customer", "associate", "agent", "admin")
    clients = clients_of(request)
    settings = settings_of(request)
    location_id = _location(principal, body)
    if principal.is_("customer"):
        order = await call(
            clients.orders.GetOrder,
            orders_pb2.GetOrderRequest(order_id=body.order_id),
            deadline=settings.read_timeout_seconds,
        )
        await check_order(request, principal, order.order)
    reply = await call(
        clients.orders.CreateReturn,
        mapping.create_return_request(
            body,
            idempotency_key=downstream_key(request, principal.sub),
            location_id=location_id,
            channel=principal.home_channel,
            actor=principal.sub,
        ),
        deadline=settings.journey_timeout_seconds,
    )
    created = getattr(reply, "return")
    if not _goods_in_hand(principal, body, location_id, created):
        # Nothing is refunded before an associate of the store receives it.
        return mapping.return_(created)
    received = await call(
        clients.orders.ReceiveReturn,
        orders_pb2.ReceiveReturnRequest(
            return_id=created.return_id,
            location_id=location_id,
            lines=mapping.return_lines(body.lines),
            actor=principal.sub,
            # The create's key (required): a retry receives as the same update.
            idempotency_key=action_key(request, principal.sub),
        ),
        deadline=settings.journey_timeout_seconds,
    )
    return mapping.return_(getattr(received, "return"))


def _goods_in_hand(
    principal: Principal, body: ReturnIn, location_id: str, created: orders_pb2.Return
) -> bool:
    """Only an associate of the store, the goods at the counter, makes an
    in-store return `received` at once (a retry finds it received already)."""
    return (
        body.method is ReturnMethod.IN_STORE
        and principal.is_("associate")
        and location_id == principal.store_id
        and ReturnStatus.from_proto(created.status)
        in (ReturnStatus.REQUESTED, ReturnStatus.AWAITING_RECEIPT)
    )


@router.get("/{return_id}", response_model=ReturnOut)
async def get_return(return_id: str, request: Request, principal: Caller) -> ReturnOut:
    require_role(principal, "customer", "associate", "agent", "admin")
    reply = await call(
        clients_of(request).orders.GetReturn,
        orders_pb2.GetReturnRequest(return_id=return_id),
        deadline=settings_of(request).read_timeout_seconds,
    )
    returned = getattr(reply, "return")
    await check_return(request, principal, returned)
    return mapping.return_(returned)


@router.post("/{return_id}/receive", response_model=ReturnOut)
async def receive_return(
    return_id: str, body: ReceiveIn, request: Request, principal: Caller
) -> ReturnOut:
    """A mail return's parcel, or an in-store return's goods, arrived at
    `location_id` (an associate's own store or warehouse, or any location for
    an admin; an in-store return only at its own store): sellable lines go
    back into stock there and the refund is issued before this answers. A
    return that is not waiting for its goods is a 409. Send an Idempotency-Key."""
    require_role(principal, "associate", "admin")
    if principal.is_("associate") and body.location_id != principal.store_id:
        raise not_found("location")
    reply = await call(
        clients_of(request).orders.ReceiveReturn,
        orders_pb2.ReceiveReturnRequest(
            return_id=return_id,
            location_id=body.location_id,
            lines=mapping.return_lines(body.lines),
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
        deadline=settings_of(request).journey_timeout_seconds,
    )
    return mapping.return_(getattr(reply, "return"))
