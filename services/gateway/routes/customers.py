from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from omni.customers.v1 import customers_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, Principal, require_role
from services.gateway.clients import call
from services.gateway.customer_identity import same_customer
from services.gateway.models import (
    ActivityList,
    CustomerContactOut,
    CustomerIdOut,
    CustomerIn,
    CustomerOut,
)
from services.gateway.models.staff import CustomerMatches
from services.gateway.problems import Problem
from services.gateway.routes.customer_access import check_own_customer, own_customer_page
from services.gateway.routes.deps import Paging, clients_of, next_cursor, settings_of
from services.gateway.routes.gift_cards import store_credit_of

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.post(
    "",
    status_code=201,
    response_model=CustomerOut | CustomerContactOut | CustomerIdOut,
    responses={
        200: {
            "model": CustomerOut | CustomerContactOut | CustomerIdOut,
            "description": "an existing customer matched",
        }
    },
)
async def create_customer(body: CustomerIn, request: Request, principal: Caller) -> JSONResponse:
    """Any role. The same email (any case), phone (E.164) or loyalty card
    returns the existing customer with 200, so one shopper is one customer on
    every channel (a card scanned at the till finds the online account).
    A guest (or another customer) gets only `{customer_id}` and adds nothing
    to a matched record; an associate sees name and contact; the customer
    themselves, agents and admins the profile."""
    if not (body.email or body.phone or body.loyalty_card):
        message = "email, phone or loyalty_card is required"
        raise Problem(
            400,
            "an email, a phone or a loyalty card is required",
            slug="validation-error",
            errors=[("email", message), ("phone", message), ("loyalty_card", message)],
        )
    reply = await call(
        clients_of(request).customers.CreateCustomer,
        customers_pb2.CreateCustomerRequest(
            email=body.email or "",
            phone=body.phone or "",
            name=body.name or "",
            loyalty_card=body.loyalty_card or "",
            # Only staff may add identities to a customer they matched.
            leave_matched_unchanged=principal.is_("guest", "customer"),
        ),
        deadline=settings_of(request).write_timeout_seconds,
    )
    content = await _view_of_match(request, principal, reply.customer)
    return JSONResponse(content, status_code=201 if reply.created else 200)


async def _view_of_match(
    request: Request, principal: Principal, customer: customers_pb2.Customer
) -> dict[str, Any]:
    """Personal data only for the customer themselves, agents, admins and
    (name and contact) associates: anyone else learns the id."""
    if principal.is_("agent", "admin") or (
        principal.is_("customer")
        and await same_customer(request, principal.customer_id, customer.customer_id)
    ):
        # API.md's profile fields only, every one of them.
        profile = CustomerOut.model_validate(mapping.customer(customer).model_dump())
        return profile.model_dump(mode="json")
    if principal.is_("associate"):
        contact = CustomerContactOut(
            customer_id=customer.customer_id,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
        )
        return contact.model_dump(mode="json")
    return CustomerIdOut(customer_id=customer.customer_id).model_dump(mode="json")


@router.get("", response_model=CustomerMatches)
async def find_customers(
    request: Request,
    principal: Caller,
    email: Annotated[str, Query(max_length=320)] = "",
    phone: Annotated[str, Query(max_length=40)] = "",
    loyalty_card: Annotated[str, Query(max_length=40)] = "",
) -> CustomerMatches:
    """Agent, associate, admin (issue 14): exact-match lookup by email (any
    case), phone (E.164 after normalizing) or loyalty card, for the till and
    the call centre; no partial matches, no listing everyone."""
    require_role(principal, "associate", "agent", "admin")
    if not (email or phone or loyalty_card):
        message = "email, phone or loyalty_card is required"
        raise Problem(
            400,
            message,
            slug="validation-error",
            errors=[("email", message), ("phone", message), ("loyalty_card", message)],
        )
    reply = await call(
        clients_of(request).customers.FindCustomers,
        customers_pb2.FindCustomersRequest(email=email, phone=phone, loyalty_card=loyalty_card),
        deadline=settings_of(request).read_timeout_seconds,
    )
    items: list[CustomerOut | CustomerContactOut] = []
    for found in reply.customers:
        if principal.is_("associate"):
            items.append(
                CustomerContactOut(
                    customer_id=found.customer_id,
                    name=found.name,
                    email=found.email,
                    phone=found.phone,
                )
            )
        else:
            items.append(CustomerOut.model_validate(mapping.customer(found).model_dump()))
    return CustomerMatches(items=items)


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(customer_id: str, request: Request, principal: Caller) -> CustomerOut:
    await check_own_customer(request, principal, customer_id)
    reply = await call(
        clients_of(request).customers.GetCustomer,
        customers_pb2.GetCustomerRequest(customer_id=customer_id),
        deadline=settings_of(request).read_timeout_seconds,
    )
    # Credit issued under a merged duplicate's id belongs to the survivor too.
    owners = [reply.customer.customer_id or customer_id, *reply.aliases]
    profile = mapping.customer(reply.customer)
    profile.store_credit = [
        card for owner in owners for card in await store_credit_of(request, owner)
    ]
    return profile


@router.get("/{customer_id}/orders", response_model=ActivityList)
async def list_customer_orders(
    customer_id: str,
    request: Request,
    principal: Caller,
    paging: Paging,
) -> ActivityList:
    """Every order and return of the customer, across channels, newest first."""
    reply = await own_customer_page(
        request,
        principal,
        customer_id,
        paging,
        clients_of(request).customers.ListActivities,
        customers_pb2.ListActivitiesRequest,
    )
    return ActivityList(
        items=[mapping.activity(a) for a in reply.activities],
        next_cursor=next_cursor(reply.next_page_token),
    )
