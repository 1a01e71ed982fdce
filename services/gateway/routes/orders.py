from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from omni.words import FulfillmentType, OrderStatus
from services.gateway import mapping
from services.gateway.access import check_order, shows_pickup_code
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import Clients, call
from services.gateway.idempotency import action_key, downstream_key
from services.gateway.models import (
    AddressIn,
    CancelIn,
    CancelLinesIn,
    OrderIn,
    OrderOut,
    PaymentIn,
)
from services.gateway.models.staff import (
    OrderList,
    ReceiptOut,
    ReceiptStoreOut,
    ReceiptTenderOut,
)
from services.gateway.problems import Problem, forbidden, not_found
from services.gateway.routes.deps import Paging, clients_of, next_cursor, settings_of
from services.gateway.settings import GatewaySettings

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/orders", tags=["orders"])


def _channel(principal: Principal) -> common_pb2.Channel:
    """An order's channel is always the token's (its role's default for a
    token without one): the body cannot pick the safety stock that applies."""
    return mapping.channel(principal.home_channel)


def _check_till_sale(principal: Principal, body: OrderIn) -> None:
    """A carry_out is a till sale (issue 14): only an associate of that store
    rings it up (403 for anyone else: a store's till is no secret to hide)."""
    if body.fulfillment.type is not FulfillmentType.CARRY_OUT:
        return
    if not principal.is_("associate"):
        raise forbidden("only an associate of the store sells at its till")
    if body.fulfillment.location_id and body.fulfillment.location_id != principal.store_id:
        raise forbidden("an associate sells only at their own store's till")


def _customer_id(principal: Principal, body: OrderIn) -> str:
    if body.fulfillment.type is FulfillmentType.CARRY_OUT and not principal.is_("customer"):
        # A walk-in has none; with one, the sale joins their history.
        return body.customer_id or ""
    if principal.is_("customer"):
        if body.customer_id and body.customer_id != principal.customer_id:
            raise forbidden("a customer may order only for themselves")
        return principal.customer_id
    if not body.customer_id:
        raise Problem(
            400,
            "customer_id is required",
            slug="validation-error",
            errors=[("customer_id", "is required")],
        )
    return body.customer_id


async def _payments_of(
    clients: Clients, settings: GatewaySettings, order_id: str, *, required: bool
) -> list[payments_pb2.Payment]:
    try:
        reply = await call(
            clients.payments.ListPayments,
            payments_pb2.ListPaymentsRequest(reference=order_id),
            deadline=settings.read_timeout_seconds,
        )
    except Problem:
        if required:
            raise
        # The order is placed; its payments show on the next GET.
        logger.warning("could not list payments of order %s", order_id)
        return []
    return list(reply.payments)


async def _answer(
    request: Request, principal: Principal, order: orders_pb2.Order, *, payments_required: bool
) -> OrderOut:
    """The order as its caller may see it, with its payments."""
    payments = await _payments_of(
        clients_of(request), settings_of(request), order.order_id, required=payments_required
    )
    return mapping.order(order, payments, show_pickup_code=shows_pickup_code(principal))


@router.post("", status_code=201, response_model=OrderOut, response_model_exclude_unset=True)
async def place_order(body: OrderIn, request: Request, principal: Caller) -> OrderOut:
    """201 once stock is reserved and payment authorized; 422 when stock or
    payment fails (and nothing is left held). Send an Idempotency-Key."""
    require_role(principal, "customer", "associate", "agent", "admin")
    if principal.is_("associate") and not principal.store_id:
        raise forbidden("an associate token needs a store_id")
    _check_till_sale(principal, body)
    grpc_request = orders_pb2.PlaceOrderRequest(
        idempotency_key=downstream_key(request, principal.sub),
        customer_id=_customer_id(principal, body),
        channel=_channel(principal),
        lines=mapping.order_lines(body.lines),
        fulfillment=mapping.fulfillment_request(body.fulfillment),
        tenders=[mapping.tender(t, i) for i, t in enumerate(body.payment.tenders)],
        associate_id=principal.sub if principal.is_("associate") else "",
        store_id=principal.store_id if principal.is_("associate") else "",
        # The orders service refuses one that is not an active associate (422).
        referral_associate_id=body.referral_associate_id or "",
        coupon_codes=body.coupon_codes or [],
    )
    reply = await call(
        clients_of(request).orders.PlaceOrder,
        grpc_request,
        deadline=settings_of(request).journey_timeout_seconds,
    )
    if reply.payments:
        # The orders service answers with the payments (a till sale's, issue
        # 14; a placed order's authorizations, issue 10): no ListPayments.
        return mapping.order(
            reply.order, list(reply.payments), show_pickup_code=shows_pickup_code(principal)
        )
    return await _answer(request, principal, reply.order, payments_required=False)


async def _visible_order(request: Request, principal: Principal, order_id: str) -> orders_pb2.Order:
    reply = await call(
        clients_of(request).orders.GetOrder,
        orders_pb2.GetOrderRequest(order_id=order_id),
        deadline=settings_of(request).read_timeout_seconds,
    )
    await check_order(request, principal, reply.order)
    return reply.order


@router.get("", response_model=OrderList, response_model_exclude_unset=True)
async def list_orders(
    request: Request,
    principal: Caller,
    paging: Paging,
    customer_id: Annotated[str, Query(max_length=128)] = "",
    status: Annotated[str, Query(max_length=32, description="an order status")] = "",
    location_id: Annotated[
        str, Query(max_length=128, description="placed at or fulfilled from it")
    ] = "",
) -> OrderList:
    """Agent, admin (every order, filtered); an associate only orders placed at
    or fulfilled from their store (location_id is theirs; another is a 404).
    A customer lists their own at /v1/customers/{id}/orders."""
    require_role(principal, "associate", "agent", "admin")
    if principal.is_("associate"):
        if location_id and location_id != principal.store_id:
            raise not_found("location")
        location_id = principal.store_id
    wanted = OrderStatus.parse(status) if status else None
    if status and (wanted is None or wanted in (OrderStatus.PENDING, OrderStatus.REJECTED)):
        shown = [
            s.value for s in OrderStatus if s not in (OrderStatus.PENDING, OrderStatus.REJECTED)
        ]
        raise Problem(
            400,
            f"status must be one of {', '.join(shown)}",
            slug="validation-error",
            errors=[("status", "must be one of " + ", ".join(shown))],
        )
    reply = await call(
        clients_of(request).orders.ListOrders,
        orders_pb2.ListOrdersRequest(
            customer_id=customer_id,
            status=wanted.to_proto() if wanted is not None else orders_pb2.ORDER_STATUS_UNSPECIFIED,
            location_id=location_id,
            limit=paging.limit,
            page_token=paging.cursor,
        ),
        deadline=settings_of(request).read_timeout_seconds,
    )
    show_code = shows_pickup_code(principal)
    return OrderList(
        items=[mapping.order(o, [], show_pickup_code=show_code) for o in reply.orders],
        next_cursor=next_cursor(reply.next_page_token),
    )


@router.get("/{order_id}", response_model=OrderOut, response_model_exclude_unset=True)
async def get_order(order_id: str, request: Request, principal: Caller) -> OrderOut:
    require_role(principal, "customer", "associate", "agent", "admin")
    order = await _visible_order(request, principal, order_id)
    return await _answer(request, principal, order, payments_required=True)


@router.put(
    "/{order_id}/shipping-address", response_model=OrderOut, response_model_exclude_unset=True
)
async def change_shipping_address(
    order_id: str, body: AddressIn, request: Request, principal: Caller
) -> OrderOut:
    """The customer or an agent, before the shipment is picked (409 after):
    the order ships to the new address, from a nearer location when there is
    one (issue 11)."""
    require_role(principal, "customer", "agent", "admin")
    await _visible_order(request, principal, order_id)
    reply = await call(
        clients_of(request).orders.ChangeShippingAddress,
        orders_pb2.ChangeShippingAddressRequest(
            order_id=order_id,
            address=common_pb2.Address(
                line1=body.line1,
                city=body.city,
                postal_code=body.postal_code,
                country=body.country,
                point=common_pb2.GeoPoint(lat=body.lat, lon=body.lon),
                region=body.region,
            ),
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
        deadline=settings_of(request).journey_timeout_seconds,
    )
    return await _answer(request, principal, reply.order, payments_required=False)


@router.post("/{order_id}/payment", response_model=OrderOut, response_model_exclude_unset=True)
async def submit_payment(
    order_id: str, body: PaymentIn, request: Request, principal: Caller
) -> OrderOut:
    """The customer or an agent, when the order asks for a new tender (its
    re-authorization was declined; 409 otherwise): the new tenders pay what
    the old one still owed, the old authorization is voided (issue 11); a
    declined one is 422 and the order still waits until its deadline."""
    require_role(principal, "customer", "agent", "admin")
    await _visible_order(request, principal, order_id)
    reply = await call(
        clients_of(request).orders.SubmitOrderPayment,
        orders_pb2.SubmitOrderPaymentRequest(
            order_id=order_id,
            tenders=[mapping.tender(t, i, "tenders") for i, t in enumerate(body.tenders)],
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
        deadline=settings_of(request).journey_timeout_seconds,
    )
    return await _answer(request, principal, reply.order, payments_required=False)


@router.post("/{order_id}/cancel", response_model=OrderOut, response_model_exclude_unset=True)
async def cancel_order(
    order_id: str,
    request: Request,
    principal: Caller,
    body: CancelIn | None = None,
) -> OrderOut:
    """The customer, an agent or admin; allowed until picked up or shipped
    (409 after): stock released, payment voided or refunded."""
    require_role(principal, "customer", "agent", "admin")
    await _visible_order(request, principal, order_id)
    reply = await call(
        clients_of(request).orders.CancelOrder,
        orders_pb2.CancelOrderRequest(
            order_id=order_id,
            reason=(body.reason if body and body.reason else "cancelled by " + principal.role),
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
        deadline=settings_of(request).journey_timeout_seconds,
    )
    return await _answer(request, principal, reply.order, payments_required=False)


@router.post("/{order_id}/lines/cancel", response_model=OrderOut, response_model_exclude_unset=True)
async def cancel_order_lines(
    order_id: str, body: CancelLinesIn, request: Request, principal: Caller
) -> OrderOut:
    """The customer, an agent or admin: units of lines not yet handed over or
    shipped (409 after; 422 for a sku the order lacks or more than it has
    left): their stock released, their share no longer captured; every unit
    left cancelled cancels the order."""
    require_role(principal, "customer", "agent", "admin")
    await _visible_order(request, principal, order_id)
    reply = await call(
        clients_of(request).orders.CancelOrderLines,
        orders_pb2.CancelOrderLinesRequest(
            order_id=order_id,
            lines=[
                common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity) for line in body.lines
            ],
            reason=body.reason or "lines cancelled by " + principal.role,
            actor=principal.sub,
            idempotency_key=action_key(request, principal.sub),
        ),
        deadline=settings_of(request).journey_timeout_seconds,
    )
    return await _answer(request, principal, reply.order, payments_required=False)


async def _store_of(request: Request, location_id: str) -> ReceiptStoreOut | None:
    if not location_id:
        return None
    try:
        reply = await call(
            clients_of(request).inventory.GetLocation,
            inventory_pb2.GetLocationRequest(location_id=location_id),
            deadline=settings_of(request).read_timeout_seconds,
        )
    except Problem as problem:
        if problem.status != 404:
            raise
        return ReceiptStoreOut(location_id=location_id, name="")
    return ReceiptStoreOut(location_id=location_id, name=reply.location.name)


@router.get("/{order_id}/receipt", response_model=ReceiptOut, response_model_exclude_unset=True)
async def get_receipt(order_id: str, request: Request, principal: Caller) -> ReceiptOut:
    """Issue 14: what a till prints - the store (where it was sold, else where
    it is collected), the associate, lines, tenders and totals. Whoever may
    see the order may see its receipt."""
    require_role(principal, "customer", "associate", "agent", "admin")
    order = await _visible_order(request, principal, order_id)
    payments = await _payments_of(
        clients_of(request), settings_of(request), order.order_id, required=True
    )
    shown = mapping.order(order, payments, show_pickup_code=False)
    pickup = [f.location_id for f in order.fulfillments if f.location_id]
    store_id = order.store_id or (
        pickup[0] if pickup and not order.fulfillment_request.HasField("address") else ""
    )
    tenders = []
    for paid in shown.payments:
        captured = paid.captured.amount_minor if paid.captured else 0
        amount = paid.captured if captured > 0 else paid.authorized
        if amount is None:
            continue
        tenders.append(
            ReceiptTenderOut(
                tender_type=paid.tender_type,
                amount=amount,
                status=paid.status,
                card_brand=paid.card_brand,
                card_last4=paid.card_last4,
            )
        )
    return ReceiptOut(
        order_id=shown.order_id,
        store=await _store_of(request, store_id),
        associate_id=shown.associate_id,
        lines=shown.lines,
        tenders=tenders,
        totals=shown.totals,
        at=shown.created_at,
    )
