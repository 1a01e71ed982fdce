from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from omni.inventory.v1 import inventory_pb2
from omni.words import Channel
from services.gateway import mapping
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import call
from services.gateway.models import ProductIn, ProductOut
from services.gateway.models.pricing import (
    ChannelPriceIn,
    ProductDetailOut,
    ProductPage,
    ProductPatchIn,
)
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/products", tags=["catalog"])


@router.post("", status_code=201, response_model=ProductOut)
async def create_product(body: ProductIn, request: Request, principal: Caller) -> ProductOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).inventory.CreateProduct,
        inventory_pb2.CreateProductRequest(product=mapping.product_message(body)),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return mapping.product(reply.product)


def _detail(value: inventory_pb2.Product, principal: Principal) -> ProductDetailOut:
    out = ProductDetailOut(
        sku=value.sku,
        name=value.name,
        price=mapping.money(value.price),
        returnable_days=value.returnable_days,
        active=not value.inactive,
    )
    if principal.is_("admin"):
        out.channel_prices = {c: mapping.money(p) for c, p in value.channel_prices.items()}
    return out


@router.get("", response_model=ProductPage, response_model_exclude_none=True)
async def list_products(
    request: Request,
    principal: Caller,
    query: Annotated[str, Query(max_length=200)] = "",
    cursor: str = "",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ProductPage:
    """Name fragment or SKU prefix; each price is the caller's channel's."""
    reply = await call(
        clients_of(request).inventory.ListProducts,
        inventory_pb2.ListProductsRequest(
            query=query,
            channel=mapping.channel(principal.home_channel),
            limit=limit,
            page_token=cursor,
        ),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return ProductPage(
        items=[_detail(p, principal) for p in reply.products],
        next_cursor=reply.next_page_token or None,
    )


@router.get("/{sku}", response_model=ProductDetailOut, response_model_exclude_none=True)
async def get_product(sku: str, request: Request, principal: Caller) -> ProductDetailOut:
    reply = await call(
        clients_of(request).inventory.GetProducts,
        inventory_pb2.GetProductsRequest(
            skus=[sku], channel=mapping.channel(principal.home_channel)
        ),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return _detail(reply.products[0], principal)


@router.patch("/{sku}", response_model=ProductDetailOut, response_model_exclude_none=True)
async def update_product(
    sku: str, body: ProductPatchIn, request: Request, principal: Caller
) -> ProductDetailOut:
    """Orders already placed keep their prices; quotes and orders from now on pay this."""
    require_role(principal, "admin")
    grpc_request = inventory_pb2.UpdateProductRequest(sku=sku)
    if body.name is not None:
        grpc_request.name = body.name
    if body.price is not None:
        grpc_request.price.CopyFrom(mapping.money_message(body.price))
    if body.returnable_days is not None:
        grpc_request.returnable_days = body.returnable_days
    if body.active is not None:
        grpc_request.active = body.active
    reply = await call(
        clients_of(request).inventory.UpdateProduct,
        grpc_request,
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _detail(reply.product, principal)


@router.put(
    "/{sku}/prices/{channel}", response_model=ProductDetailOut, response_model_exclude_none=True
)
async def set_channel_price(
    sku: str, channel: Channel, body: ChannelPriceIn, request: Request, principal: Caller
) -> ProductDetailOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).inventory.SetChannelPrice,
        inventory_pb2.SetChannelPriceRequest(
            sku=sku, channel=channel.to_proto(), price=mapping.money_message(body.price)
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _detail(reply.product, principal)


@router.delete(
    "/{sku}/prices/{channel}", response_model=ProductDetailOut, response_model_exclude_none=True
)
async def delete_channel_price(
    sku: str, channel: Channel, request: Request, principal: Caller
) -> ProductDetailOut:
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).inventory.DeleteChannelPrice,
        inventory_pb2.DeleteChannelPriceRequest(sku=sku, channel=channel.to_proto()),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return _detail(reply.product, principal)
