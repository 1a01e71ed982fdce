"""The store outbox: messages to a store's associates, once per notification_id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from omni.words import StoreNotificationKind
from services.common.paging import Page, cut_page
from services.common.plain_session import SqlSession
from services.customers.domain import HistoryKey
from services.customers.domain.store_notifications import StoreNotification
from services.customers.store.tables import store_notifications


def _message(row: Row[Any]) -> StoreNotification:
    return StoreNotification(
        notification_id=row.notification_id,
        store_id=row.store_id,
        kind=StoreNotificationKind(row.kind),
        subject=row.subject,
        body=row.body,
        reference_id=row.reference_id,
        created_at=row.created_at,
    )


async def put_store_notification(
    session: SqlSession, message: StoreNotification
) -> StoreNotification:
    """Stores the message once per notification_id; returns the stored one
    (a repeat, even a concurrent one, gets the first)."""
    await session.execute(
        insert(store_notifications)
        .values(
            notification_id=message.notification_id,
            store_id=message.store_id,
            kind=message.kind,
            subject=message.subject,
            body=message.body,
            reference_id=message.reference_id,
        )
        .on_conflict_do_nothing(index_elements=["notification_id"])
    )
    row = (
        await session.execute(
            select(store_notifications).where(
                store_notifications.c.notification_id == message.notification_id
            )
        )
    ).one()
    return _message(row)


async def list_store_notifications(
    session: SqlSession, store_id: str, limit: int, after: HistoryKey | None
) -> Page[StoreNotification]:
    """Newest first, a page at a time."""
    table = store_notifications
    query = select(table).where(table.c.store_id == store_id)
    if after is not None:
        query = query.where(tuple_(table.c.created_at, table.c.seq) < tuple_(after.at, after.seq))
    rows = (
        await session.execute(
            query.order_by(table.c.created_at.desc(), table.c.seq.desc()).limit(limit + 1)
        )
    ).all()
    page = cut_page(rows, limit, lambda row: HistoryKey(row.created_at, row.seq).cursor_key())
    return Page([_message(row) for row in page.items], page.next_cursor)
