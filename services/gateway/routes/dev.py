from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from omni.payments.v1 import payments_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models import ProviderOperationOut
from services.gateway.routes.deps import clients_of, settings_of

router = APIRouter(prefix="/v1/dev", tags=["development"])


@router.get("/provider/operations", response_model=list[ProviderOperationOut])
async def provider_operations(
    request: Request,
    principal: Caller,
    reference: Annotated[str, Query(min_length=1, description="an order_id")],
) -> list[ProviderOperationOut]:
    """What the development payment provider actually did for an order (admin)."""
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).payments.ListProviderOperations,
        payments_pb2.ListProviderOperationsRequest(reference=reference),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return [mapping.provider_operation(op) for op in reply.operations]
