"""The notification outbox: a message is stored (queued) in the same
transaction as the decision to send it, then a sender delivers it.

`next_attempt_at` is both the retry schedule and a lease: whoever is about to
send a message first moves it into the future, so the inline delivery and the
drainer (or two drainers) do not send the same message at the same time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import ContactChannel, NotificationKind, NotificationStatus
from services.common.paging import Page
from services.common.plain_session import SqlSession
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


# Every placed order queues a message or two: built once with bound
# parameters (a statement built per call is compiled per call).
def _queue(next_attempt_at: Any) -> Any:
    return (
        insert(notifications)
        .values(
            notification_id=bindparam("the_notification"),
            customer_id=bindparam("the_customer"),
            kind=bindparam("new_kind"),
            channel=bindparam("new_channel"),
            subject=bindparam("new_subject"),
            body=bindparam("new_body"),
            status=bindparam("new_status"),
            marketing=bindparam("new_marketing"),
            reference_id=bindparam("new_reference"),
            next_attempt_at=next_attempt_at,
        )
        .on_conflict_do_nothing(index_elements=["notification_id"])
    )


_QUEUE_NOW = _queue(func.now() + INLINE_DELIVERY_LEASE)
_QUEUE_DONE = _queue(None)
_BY_ID = select(notifications).where(
    notifications.c.notification_id == bindparam("the_notification")
)


async def queue_notification(
    session: SqlSession, customer_id: str, message: Notification
) -> Notification:
    """Stores the message once per notification_id; returns the stored one."""
    queued = message.status == NotificationStatus.QUEUED
    await session.execute(
        _QUEUE_NOW if queued else _QUEUE_DONE,
        {
            "the_notification": message.notification_id,
            "the_customer": customer_id,
            "new_kind": message.kind,
            "new_channel": message.channel or "",
            "new_subject": message.subject,
            "new_body": message.body,
            "new_status": message.status,
            "new_marketing": message.marketing,
            "new_reference": message.reference_id,
        },
    )
    by_id = {"the_notification": message.notification_id}
    row = (await session.execute(_BY_ID, by_id)).one()
    return _notification(row)


async def mark_sent(session: SqlSession, notification_id: str) -> None:
    await session.execute(
        notifications.update()
        .where(notifications.c.notification_id == notification_id)
        .values(status=NotificationStatus.SENT)
    )


async def count_attempt(session: SqlSession, notification_id: str) -> int:
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


async def retry_at(session: SqlSession, notification_id: str, at: datetime | None) -> Notification:
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
    session: SqlSession, now: datetime, limit: int, lease: timedelta
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
    session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
) -> Page[Notification]:
    """Newest first."""
    table = notifications
    page = await newest_first(
        session, table, customer_id, table.c.created_at, table.c.seq, limit, after
    )
    return Page([_notification(row) for row in page.items], page.next_cursor)
