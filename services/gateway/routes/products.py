from __future__ import annotations

from fastapi import APIRouter, Request

from omni.inventory.v1 import inventory_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models import ProductIn, ProductOut
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
