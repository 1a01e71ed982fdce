"""Pricing: promotions, tax regions, shipping methods (admin) and quotes
(anyone). The orders service prices; these routes only map REST to gRPC."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2
from omni.orders.v1 import orders_pb2
from omni.words import Channel, PromotionKind
from services.gateway import mapping
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import call
from services.gateway.idempotency import downstream_key
from services.gateway.models.pricing import (
    AppliedPromotionOut,
    PromotionIn,
    PromotionList,
    PromotionOut,
    QuoteIn,
    QuoteLineOut,
    QuoteOut,
    ShippingMethodIn,
    ShippingMethodList,
    ShippingMethodOut,
    TaxRegionIn,
    TaxRegionOut,
    TotalsOut,
)
from services.gateway.problems import forbidden
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(tags=["pricing"])


def _timestamp(value: object) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)  # type: ignore[arg-type]
    return stamp


def _promotion_out(value: orders_pb2.Promotion) -> PromotionOut:
    return PromotionOut(
        promotion_id=value.promotion_id,
        name=value.name,
        kind=mapping.word(PromotionKind, value.kind) or "",
        value=value.value,
        currency=value.currency or None,
        skus=list(value.skus),
        channels=[mapping.word(Channel, c) or "" for c in value.channels],
        code=value.code or None,
        min_subtotal=mapping.money(value.min_subtotal) if value.HasField("min_subtotal") else None,
        starts_at=mapping.timestamp(value.starts_at),
        ends_at=mapping.timestamp(value.ends_at),
        ended_at=mapping.timestamp(value.ended_at) if value.HasField("ended_at") else None,
    )


@router.post("/v1/promotions", status_code=201, response_model=PromotionOut)
async def create_promotion(body: PromotionIn, request: Request, principal: Caller) -> PromotionOut:
    """Without `code` it applies by itself; with one, only when a basket names it."""
    require_role(principal, "admin")
    promotion = orders_pb2.Promotion(
        name=body.name,
        kind=body.kind.to_proto(),
        value=body.value,
        currency=body.currency or "",
        skus=body.skus or [],
        channels=[c.to_proto() for c in body.channels or []],
        code=body.code or "",
        starts_at=_timestamp(body.starts_at),
        ends_at=_timestamp(body.ends_at),
    )
    if body.min_subtotal is not None:
        promotion.min_subtotal.CopyFrom(mapping.money_message(body.min_subtotal))
    key = request.headers.get("idempotency-key")
    reply = await call(
        clients_of(request).orders.CreatePromotion,
        orders_pb2.CreatePromotionRequest(
            promotion=promotion,
            idempotency_key=downstream_key(request, principal.sub) if key else "",
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _promotion_out(reply.promotion)


@router.get("/v1/promotions", response_model=PromotionList)
async def list_promotions(
    request: Request,
    principal: Caller,
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> PromotionList:
    require_role(principal, "agent", "admin")
    reply = await call(
        clients_of(request).orders.ListPromotions,
        orders_pb2.ListPromotionsRequest(limit=limit, page_token=cursor),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return PromotionList(
        items=[_promotion_out(p) for p in reply.promotions],
        next_cursor=reply.next_page_token or None,
    )


@router.post("/v1/promotions/{promotion_id}/end", response_model=PromotionOut)
async def end_promotion(promotion_id: str, request: Request, principal: Caller) -> PromotionOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).orders.EndPromotion,
        orders_pb2.EndPromotionRequest(promotion_id=promotion_id),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _promotion_out(reply.promotion)


@router.put("/v1/tax-regions/{region}", response_model=TaxRegionOut)
async def put_tax_region(
    region: str, body: TaxRegionIn, request: Request, principal: Caller
) -> TaxRegionOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).orders.PutTaxRegion,
        orders_pb2.PutTaxRegionRequest(
            tax_region=orders_pb2.TaxRegion(region=region, name=body.name, rate_bps=body.rate_bps)
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    value = reply.tax_region
    return TaxRegionOut(region=value.region, name=value.name, rate_bps=value.rate_bps)


def _method_out(value: orders_pb2.ShippingMethod) -> ShippingMethodOut:
    return ShippingMethodOut(
        method_id=value.method_id,
        name=value.name,
        price=mapping.money(value.price),
        free_over=mapping.money(value.free_over) if value.HasField("free_over") else None,
        countries=list(value.countries),
    )


@router.post("/v1/shipping-methods", status_code=201, response_model=ShippingMethodOut)
async def create_shipping_method(
    body: ShippingMethodIn, request: Request, principal: Caller
) -> ShippingMethodOut:
    require_role(principal, "admin")
    method = orders_pb2.ShippingMethod(
        method_id=body.method_id,
        name=body.name,
        price=mapping.money_message(body.price),
        countries=body.countries,
    )
    if body.free_over is not None:
        method.free_over.CopyFrom(mapping.money_message(body.free_over))
    reply = await call(
        clients_of(request).orders.CreateShippingMethod,
        orders_pb2.CreateShippingMethodRequest(shipping_method=method),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _method_out(reply.shipping_method)


@router.get("/v1/shipping-methods", response_model=ShippingMethodList)
async def list_shipping_methods(request: Request, principal: Caller) -> ShippingMethodList:
    reply = await call(
        clients_of(request).orders.ListShippingMethods,
        orders_pb2.ListShippingMethodsRequest(),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return ShippingMethodList(items=[_method_out(m) for m in reply.shipping_methods])


def quote_out(quote: orders_pb2.Quote) -> QuoteOut:
    t = quote.totals
    money = mapping.money
    return QuoteOut(
        lines=[
            QuoteLineOut(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                discount=money(line.discount),
                tax=money(line.tax),
                total=money(line.total),
            )
            for line in quote.lines
        ],
        totals=TotalsOut(
            subtotal=money(t.subtotal),
            discount=money(t.discount),
            shipping=money(t.shipping),
            tax=money(t.tax),
            total=money(t.total),
        ),
        promotions_applied=[
            AppliedPromotionOut(
                promotion_id=p.promotion_id,
                name=p.name,
                code=p.code or None,
                discount=money(p.discount),
            )
            for p in quote.promotions_applied
        ],
        tax_rule=quote.tax_rule,
        shipping_method=quote.shipping_method or None,
    )


def quote_channel(principal: Principal, asked: Channel | None) -> common_pb2.Channel:
    """A quote is for the token's channel (as its order would be); a token
    without one may ask for any channel, else its role's default."""
    return mapping.channel(principal.channel or asked or principal.home_channel)


@router.post("/v1/quotes", response_model=QuoteOut, response_model_exclude_none=True)
async def create_quote(body: QuoteIn, request: Request, principal: Caller) -> QuoteOut:
    """What the same order would charge, to the minor unit. A coupon that is
    unknown, expired or not for this channel is a 422 naming it."""
    if principal.is_("customer") and body.customer_id not in (None, principal.customer_id):
        raise forbidden("a customer may ask quotes only for themselves")
    reply = await call(
        clients_of(request).orders.QuoteBasket,
        orders_pb2.QuoteBasketRequest(
            customer_id=body.customer_id or principal.customer_id or "",
            channel=quote_channel(principal, body.channel),
            lines=mapping.order_lines(body.lines),
            fulfillment=mapping.fulfillment_request(body.fulfillment),
            coupon_codes=body.coupon_codes or [],
        ),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return quote_out(reply.quote)
