"""A customer's timeline, messages, points, preferences, merges and privacy
rights (API.md, Customers)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from omni.customers.v1 import customers_pb2
from omni.orders.v1 import orders_pb2
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.idempotency import IdempotencyStore
from services.gateway.models import (
    CustomerRecordOut,
    ExportOut,
    LoyaltyOut,
    MergedCustomerOut,
    MergeIn,
    NotificationList,
    PreferencesIn,
    TimelineList,
)
from services.gateway.routes.customer_access import check_own_customer, own_customer_page
from services.gateway.routes.deps import Paging, clients_of, next_cursor, settings_of

router = APIRouter(prefix="/v1/customers", tags=["customers"])


def _read(request: Request) -> float:
    return settings_of(request).read_timeout_seconds


def _write(request: Request) -> float:
    return settings_of(request).write_timeout_seconds


@router.get(
    "/{customer_id}/timeline", response_model=TimelineList, response_model_exclude_unset=True
)
async def timeline(
    customer_id: str, request: Request, principal: Caller, paging: Paging
) -> TimelineList:
    """Every order, fulfillment milestone, return and refund, newest first."""
    reply = await own_customer_page(
        request,
        principal,
        customer_id,
        paging,
        clients_of(request).customers.ListTimeline,
        customers_pb2.ListTimelineRequest,
    )
    return TimelineList(
        items=[mapping.timeline_event(e) for e in reply.events],
        next_cursor=next_cursor(reply.next_page_token),
    )


@router.get(
    "/{customer_id}/notifications",
    response_model=NotificationList,
    response_model_exclude_unset=True,
)
async def notifications(
    customer_id: str, request: Request, principal: Caller, paging: Paging
) -> NotificationList:
    """Messages sent (or, without an allowed channel, suppressed), newest first."""
    reply = await own_customer_page(
        request,
        principal,
        customer_id,
        paging,
        clients_of(request).customers.ListNotifications,
        customers_pb2.ListNotificationsRequest,
    )
    return NotificationList(
        items=[mapping.notification(n) for n in reply.notifications],
        next_cursor=next_cursor(reply.next_page_token),
    )


@router.get("/{customer_id}/loyalty", response_model=LoyaltyOut, response_model_exclude_unset=True)
async def loyalty(customer_id: str, request: Request, principal: Caller) -> LoyaltyOut:
    """The points balance, any debt, and every change with its cause."""
    await check_own_customer(request, principal, customer_id)
    clients = clients_of(request)
    profile = await call(
        clients.customers.GetCustomer,
        customers_pb2.GetCustomerRequest(customer_id=customer_id),
        deadline=_read(request),
    )
    history = await call(
        clients.customers.ListLoyaltyHistory,
        customers_pb2.ListLoyaltyHistoryRequest(customer_id=customer_id),
        deadline=_read(request),
    )
    return LoyaltyOut(
        loyalty_points=profile.customer.loyalty_points,
        loyalty_debt=profile.customer.loyalty_debt,
        history=[mapping.loyalty_entry(e) for e in history.entries],
    )


@router.put(
    "/{customer_id}/preferences",
    response_model=CustomerRecordOut,
    response_model_exclude_unset=True,
)
async def put_preferences(
    customer_id: str, body: PreferencesIn, request: Request, principal: Caller
) -> CustomerRecordOut:
    """Channels in order of preference ("email", "sms") and marketing consent per channel."""
    await check_own_customer(request, principal, customer_id)
    reply = await call(
        clients_of(request).customers.UpdatePreferences,
        customers_pb2.UpdatePreferencesRequest(
            customer_id=customer_id,
            preferences=customers_pb2.Preferences(
                channels=mapping.contact_channels(body.channels),
                marketing_consent=mapping.contact_channels(body.marketing_consent),
            ),
        ),
        deadline=_write(request),
    )
    return mapping.customer(reply.customer)


@router.post(
    "/{customer_id}/merge", response_model=MergedCustomerOut, response_model_exclude_unset=True
)
async def merge(
    customer_id: str, body: MergeIn, request: Request, principal: Caller
) -> MergedCustomerOut:
    """Agents and admins: the duplicate's orders, returns, points and cart move
    here; its id keeps answering as this customer. Idempotent."""
    require_role(principal, "agent", "admin")
    reply = await call(
        clients_of(request).customers.MergeCustomers,
        customers_pb2.MergeCustomersRequest(
            survivor_customer_id=customer_id,
            duplicate_customer_id=body.duplicate_customer_id,
            actor=principal.sub,
        ),
        deadline=_write(request),
    )
    return mapping.merged_customer(reply)


@router.get("/{customer_id}/export", response_model=ExportOut, response_model_exclude_unset=True)
async def export(customer_id: str, request: Request, principal: Caller) -> ExportOut:
    """Everything Omni holds about the customer."""
    await check_own_customer(request, principal, customer_id)
    reply = await call(
        clients_of(request).customers.ExportCustomer,
        customers_pb2.ExportCustomerRequest(customer_id=customer_id),
        deadline=_read(request),
    )
    return mapping.export(reply)


@router.post(
    "/{customer_id}/erase", response_model=CustomerRecordOut, response_model_exclude_unset=True
)
async def erase(customer_id: str, request: Request, principal: Caller) -> CustomerRecordOut:
    """Removes name, email, phone, card and preferences, and the street, city
    and postal code of every shipping address; orders stay under the
    (pseudonymous) customer id. Each service erases what it owns; both steps
    are idempotent, so a retry after a failure finishes the job."""
    await check_own_customer(request, principal, customer_id)
    clients = clients_of(request)
    reply = await call(
        clients.customers.EraseCustomer,
        customers_pb2.EraseCustomerRequest(customer_id=customer_id, actor=principal.sub),
        deadline=_write(request),
    )
    # Orders placed under an id merged into this customer are theirs too.
    ids = [reply.customer.customer_id or customer_id, *reply.aliases]
    await call(
        clients.orders.ErasePersonalData,
        orders_pb2.ErasePersonalDataRequest(customer_ids=ids),
        deadline=_write(request),
    )
    # The gateway's own kept answers (idempotency) hold names and emails too.
    store: IdempotencyStore = request.app.state.idempotency
    for erased in ids:
        await store.erase_customer(erased)
    return mapping.customer(reply.customer)
