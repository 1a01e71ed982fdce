from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from omni.customers.v1 import customers_pb2
from omni.words import StoreNotificationKind, TaskType
from services.gateway import mapping
from services.gateway.access import check_store
from services.gateway.auth import Caller
from services.gateway.clients import call
from services.gateway.mapping import timestamp, word
from services.gateway.models import StoreNotificationList, StoreNotificationOut, TaskList
from services.gateway.routes.deps import Paging, clients_of, next_cursor, settings_of

router = APIRouter(prefix="/v1/stores", tags=["store work"])


@router.get("/{store_id}/tasks", response_model=TaskList)
async def list_store_tasks(
    store_id: str,
    request: Request,
    principal: Caller,
    paging: Paging,
    type: Annotated[TaskType | None, Query()] = None,
) -> TaskList:
    """Open work at the store: associates of that store (and admins)."""
    check_store(principal, store_id)
    reply = await call(
        clients_of(request).orders.ListStoreTasks,
        mapping.store_tasks_request(store_id, type, limit=paging.limit, cursor=paging.cursor),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return TaskList(
        items=[mapping.task(t) for t in reply.tasks],
        next_cursor=next_cursor(reply.next_page_token),
    )


@router.get("/{store_id}/notifications", response_model=StoreNotificationList)
async def list_store_notifications(
    store_id: str, request: Request, principal: Caller, paging: Paging
) -> StoreNotificationList:
    """The store's outbox, newest first (a pick overdue, ...): associates of
    that store (and admins). Not in API.md yet: a listed extra."""
    check_store(principal, store_id)
    reply = await call(
        clients_of(request).customers.ListStoreNotifications,
        customers_pb2.ListStoreNotificationsRequest(
            store_id=store_id, limit=paging.limit, page_token=paging.cursor
        ),
        deadline=settings_of(request).read_timeout_seconds,
    )
    return StoreNotificationList(
        items=[
            StoreNotificationOut(
                notification_id=n.notification_id,
                kind=word(StoreNotificationKind, n.kind),
                subject=n.subject,
                body=n.body,
                reference_id=n.reference_id or None,
                created_at=timestamp(n.created_at),
            )
            for n in reply.notifications
        ],
        next_cursor=next_cursor(reply.next_page_token),
    )
