"""One cart per customer, the same on every device and channel (API.md, Customers).

`GET` answers with an `ETag` (the cart's version); a `PUT` carrying a stale
`If-Match` is a 409, so two devices never overwrite each other unseen. A
storefront keeps a guest's cart itself and, when the shopper signs in, posts
its lines to `/cart/merge`: the larger quantity per sku wins, so a retried
merge changes nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2
from omni.orders.v1 import orders_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, Principal
from services.gateway.clients import call
from services.gateway.models import CartIn, CartOut
from services.gateway.problems import Problem, bad_request
from services.gateway.routes.customer_access import check_own_customer
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/customers", tags=["carts"])


def _body(out: CartOut) -> dict[str, Any]:
    """The cart as JSON; prices are added fields, left out where there are none
    (a PUT's answer, a cart that could not be priced), so those read as before."""
    body: dict[str, Any] = out.model_dump(mode="json")
    for line in body["lines"]:
        for name in ("unit_price", "discount", "total"):
            if line.get(name) is None:
                line.pop(name, None)
    for name in ("totals", "promotions_applied", "pricing_problem"):
        if body.get(name) is None:
            body.pop(name, None)
    return body


def _cart_response(cart: customers_pb2.Cart) -> JSONResponse:
    return JSONResponse(_body(mapping.cart(cart)), headers={"ETag": mapping.etag(cart.version)})


def _expected_version(if_match: str | None) -> int | None:
    """The version an `If-Match` names; None for no condition (absent or `*`)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not tag.isdigit():
        raise bad_request("If-Match", "must be the ETag of a GET of this cart")
    return int(tag)


def _channel(body: CartIn, principal: Principal) -> common_pb2.Channel:
    """The body's channel, else the token's; unspecified when neither names one."""
    return mapping.channel(body.channel or principal.channel)


@router.get("/{customer_id}/cart", response_model=CartOut)
async def get_cart(customer_id: str, request: Request, principal: Caller) -> JSONResponse:
    await check_own_customer(request, principal, customer_id)
    reply = await call(
        clients_of(request).customers.GetCart,
        customers_pb2.GetCartRequest(customer_id=customer_id),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return await _priced_cart_response(request, principal, reply.cart)


async def _priced_cart_response(
    request: Request, principal: Principal, cart: customers_pb2.Cart
) -> JSONResponse:
    """The cart with its prices: the orders service's quote of its lines for the
    cart's channel (the one pricing function; tax and shipping come with a
    fulfillment). A cart holding a sku that can no longer be sold shows why."""
    out = mapping.cart(cart)
    if cart.lines:
        channel = cart.channel or mapping.channel(principal.home_channel)
        try:
            reply = await call(
                clients_of(request).orders.QuoteBasket,
                orders_pb2.QuoteBasketRequest(
                    customer_id=cart.customer_id,
                    channel=channel,
                    lines=[
                        common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity)
                        for line in cart.lines
                    ],
                ),
                deadline=settings_of(request).read_timeout_seconds,
            )
        except Problem as problem:
            if problem.status >= 500:
                raise
            out.pricing_problem = problem.detail
        else:
            mapping.price_cart(out, reply.quote)
    return JSONResponse(_body(out), headers={"ETag": mapping.etag(cart.version)})


@router.put(
    "/{customer_id}/cart",
    response_model=CartOut,
    responses={409: {"description": "stale If-Match"}},
)
async def put_cart(
    customer_id: str,
    body: CartIn,
    request: Request,
    principal: Caller,
    if_match: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Replaces the cart's lines; `[]` empties it (checked out or abandoned)."""
    await check_own_customer(request, principal, customer_id)
    expected = _expected_version(if_match)
    reply = await call(
        clients_of(request).customers.PutCart,
        customers_pb2.PutCartRequest(
            customer_id=customer_id,
            lines=mapping.cart_lines(body.lines),
            channel=_channel(body, principal),
            expected_version=expected or 0,
            check_version=expected is not None,
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _cart_response(reply.cart)


@router.post("/{customer_id}/cart/merge", response_model=CartOut)
async def merge_guest_cart(
    customer_id: str, body: CartIn, request: Request, principal: Caller
) -> JSONResponse:
    """Folds a guest's cart (its lines) into the customer's on sign-in."""
    await check_own_customer(request, principal, customer_id)
    reply = await call(
        clients_of(request).customers.MergeGuestCart,
        customers_pb2.MergeGuestCartRequest(
            customer_id=customer_id,
            lines=mapping.cart_lines(body.lines),
            channel=_channel(body, principal),
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _cart_response(reply.cart)
