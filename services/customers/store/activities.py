"""The customer's orders and returns across channels: one row per
(customer, kind, reference), so a retried activity changes nothing twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, case, func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import ActivityKind, Channel
from services.common.paging import Page
from services.customers.domain import Activity, HistoryKey
from services.customers.store.history import newest_first
from services.customers.store.tables import customer_activities


def _activity(row: Row[Any]) -> Activity:
    return Activity(
        kind=ActivityKind(row.kind),
        reference_id=row.reference_id,
        channel=Channel.parse(row.channel),
        status=row.status,
        order_id=row.order_id,
        occurred_at=row.occurred_at,
    )


async def record_activity(session: AsyncSession, customer_id: str, activity: Activity) -> Activity:
    """Upserts by (customer, kind, reference): the status is replaced, the first time kept."""
    table = customer_activities
    statement = insert(table).values(
        customer_id=customer_id,
        kind=activity.kind,
        reference_id=activity.reference_id,
        channel=activity.channel or "",
        status=activity.status,
        order_id=activity.order_id,
        occurred_at=activity.occurred_at or func.now(),
    )
    excluded = statement.excluded

    def keep_or_fill(column: str) -> object:
        return case((table.c[column] == "", excluded[column]), else_=table.c[column])

    row = (
        await session.execute(
            statement.on_conflict_do_update(
                constraint="uq_customer_activities_reference",
                set_={
                    "status": case((excluded.status == "", table.c.status), else_=excluded.status),
                    "channel": keep_or_fill("channel"),
                    "order_id": keep_or_fill("order_id"),
                    "updated_at": func.now(),
                },
            ).returning(*table.c)
        )
    ).one()
    return _activity(row)


async def list_activities(
    session: AsyncSession, customer_id: str, limit: int, after: HistoryKey | None
) -> Page[Activity]:
    """Newest first."""
    table = customer_activities
    page = await newest_first(
        session, table, customer_id, table.c.occurred_at, table.c.activity_id, limit, after
    )
    return Page([_activity(row) for row in page.items], page.next_cursor)
