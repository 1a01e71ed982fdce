"""The associates registry (issue 14): admins register store associates with
a home store and deactivate them; an associate token must name an active one
(auth.check_registered_associate)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from omni.orders.v1 import orders_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models.staff import AssociateIn, AssociateList, AssociateOut
from services.gateway.problems import not_found
from services.gateway.routes.deps import Paging, clients_of, next_cursor, settings_of

router = APIRouter(prefix="/v1/associates", tags=["associates"])


def associate_out(value: orders_pb2.Associate) -> AssociateOut:
    return AssociateOut(
        associate_id=value.associate_id,
        name=value.name,
        store_id=value.store_id,
        active=value.active,
        created_at=mapping.timestamp(value.created_at),
        deactivated_at=mapping.timestamp(value.deactivated_at),
    )


@router.post(
    "",
    status_code=201,
    response_model=AssociateOut,
    responses={200: {"model": AssociateOut, "description": "already registered, the same"}},
)
async def create_associate(body: AssociateIn, request: Request, principal: Caller) -> JSONResponse:
    """Admin. The same id again with the same name and store answers it (200);
    with another name or store, 409 (an id names one person)."""
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).orders.CreateAssociate,
        orders_pb2.CreateAssociateRequest(
            associate=orders_pb2.Associate(
                associate_id=body.associate_id, name=body.name, store_id=body.store_id
            )
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return JSONResponse(
        associate_out(reply.associate).model_dump(mode="json"),
        status_code=201 if reply.created else 200,
    )


@router.get("", response_model=AssociateList)
async def list_associates(
    request: Request,
    principal: Caller,
    paging: Paging,
    store_id: Annotated[str, Query(max_length=128, description="a home store")] = "",
) -> AssociateList:
    """Admin (any store or all); an associate, their own store's."""
    require_role(principal, "associate", "admin")
    if principal.is_("associate"):
        if store_id and store_id != principal.store_id:
            raise not_found("location")
        store_id = principal.store_id
    reply = await call(
        clients_of(request).orders.ListAssociates,
        orders_pb2.ListAssociatesRequest(
            store_id=store_id, limit=paging.limit, page_token=paging.cursor
        ),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return AssociateList(
        items=[associate_out(a) for a in reply.associates],
        next_cursor=next_cursor(reply.next_page_token),
    )


@router.post("/{associate_id}/deactivate", response_model=AssociateOut)
async def deactivate_associate(
    associate_id: str, request: Request, principal: Caller
) -> AssociateOut:
    """Admin. Their tokens are refused from the next request on and no new
    sale may credit them; their past credit stays. A repeat answers the same."""
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).orders.DeactivateAssociate,
        orders_pb2.DeactivateAssociateRequest(associate_id=associate_id),
        deadline=settings_of(request).write_timeout_seconds,
    )
    return associate_out(reply.associate)
