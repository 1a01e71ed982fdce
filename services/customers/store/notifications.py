"""The notification outbox: a message is stored (queued) in the same
transaction as the decision to send it, then a sender delivers it.

`next_attempt_at` is both the retry schedule and a lease: whoever is about to
send a message first moves it into the future, so the inline delivery and the
drainer (or two drainers) do not send the same message at the same time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import ContactChannel, NotificationKind, NotificationStatus
from services.common.paging import Page
from services.customers.domain import HistoryKey, Notification
from services.customers.store.history import newest_first
from services.customers.store.tables import notifications

# How long the request that queued a message has to deliver it before the
# drainer may try.
INLINE_DELIVERY_LEASE = timedelta(seconds=60)


def _notification(row: Row[Any]) -> Notification:
    return Notification(
        notification_id=row.notification_id,
        kind=NotificationKind(row.kind),
        channel=ContactChannel.parse(row.channel),
        subject=row.subject,
        body=row.body,
        status=NotificationStatus(row.status),
        marketing=row.marketing,
        reference_id=row.reference_id,
        created_at=row.created_at,
        attempts=row.attempts,
    )


async def queue_notification(
    session: AsyncSession, customer_id: str, message: Notification
) -> Notification:
    """Stores the message once per notification_id; returns the stored one."""
    queued = message.status == NotificationStatus.QUEUED
    await session.execute(
        insert(notifications)
        .values(
            notification_id=message.notification_id,
            customer_id=customer_id,
            kind=message.kind,
            channel=message.channel or "",
            subject=message.subject,
            body=message.body,
            status=message.status,
            marketing=message.marketing,
            reference_id=message.reference_id,
            next_attempt_at=func.now() + INLINE_DELIVERY_LEASE if queued else None,
        )
        .on_conflict_do_nothing(index_elements=["notification_id"])
    )
    row = (
        await session.execute(
            select(notifications).where(notifications.c.notification_id == message.notification_id)
        )
    ).one()
    return _notification(row)


async def mark_sent(session: AsyncSession, notification_id: str) -> None:
    await session.execute(
        notifications.update()
        .where(notifications.c.notification_id == notification_id)
        .values(status=NotificationStatus.SENT)
    )


async def count_attempt(session: AsyncSession, notification_id: str) -> int:
    """Counts a refused delivery; the attempts so far."""
    attempts = (
        await session.execute(
            notifications.update()
            .where(notifications.c.notification_id == notification_id)
            .values(attempts=notifications.c.attempts + 1)
            .returning(notifications.c.attempts)
        )
    ).scalar_one()
    return int(attempts)


async def retry_at(
    session: AsyncSession, notification_id: str, at: datetime | None
) -> Notification:
    """Schedules the next try at `at`; None: no more tries, the message failed."""
    values: dict[str, Any] = (
        {"status": NotificationStatus.FAILED, "next_attempt_at": None}
        if at is None
        else {"next_attempt_at": at}
    )
    row = (
        await session.execute(
            notifications.update()
            .where(notifications.c.notification_id == notification_id)
            .values(**values)
            .returning(*notifications.c)
        )
    ).one()
    return _notification(row)


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease: timedelta
) -> list[tuple[str, Notification]]:
    """(customer_id, message) for queued messages due by `now`, each leased
    until `now + lease`; rows another drainer holds are skipped."""
    due = (
        select(notifications.c.notification_id)
        .where(
            notifications.c.status == NotificationStatus.QUEUED,
            notifications.c.next_attempt_at <= now,
        )
        .order_by(notifications.c.next_attempt_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = await session.execute(
        notifications.update()
        .where(notifications.c.notification_id.in_(due.scalar_subquery()))
        .values(next_attempt_at=now + lease)
        .returning(*notifications.c)
    )
    return [(row.customer_id, _notification(row)) for row in rows]


async def list_notifications(
    session: AsyncSession, customer_id: str, limit: int, after: HistoryKey | None
) -> Page[Notification]:
    """Newest first."""
    table = notifications
    page = await newest_first(
        session, table, customer_id, table.c.created_at, table.c.seq, limit, after
    )
    return Page([_notification(row) for row in page.items], page.next_cursor)
