"""The customer's orders and returns across channels: one row per
(customer, kind, reference), so a retried activity changes nothing twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Row, bindparam, case, func
from sqlalchemy.dialects.postgresql import insert

from omni.words import ActivityKind, Channel
from services.common.paging import Page
from services.common.plain_session import SqlSession
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


def _upsert_activity() -> Any:
    table = customer_activities
    statement = insert(table).values(
        customer_id=bindparam("new_customer"),
        kind=bindparam("new_kind"),
        reference_id=bindparam("new_reference"),
        channel=bindparam("new_channel"),
        status=bindparam("new_status"),
        order_id=bindparam("new_order"),
        occurred_at=func.coalesce(
            bindparam("new_occurred_at", type_=DateTime(timezone=True)), func.now()
        ),
    )
    excluded = statement.excluded

    def keep_or_fill(column: str) -> object:
        return case((table.c[column] == "", excluded[column]), else_=table.c[column])

    return statement.on_conflict_do_update(
        constraint="uq_customer_activities_reference",
        set_={
            "status": case((excluded.status == "", table.c.status), else_=excluded.status),
            "channel": keep_or_fill("channel"),
            "order_id": keep_or_fill("order_id"),
            "updated_at": func.now(),
        },
    ).returning(*table.c)


# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_UPSERT_ACTIVITY = _upsert_activity()


async def record_activity(session: SqlSession, customer_id: str, activity: Activity) -> Activity:
    """Upserts by (customer, kind, reference): the status is replaced, the first time kept."""
    row = (
        await session.execute(
            _UPSERT_ACTIVITY,
            {
                "new_customer": customer_id,
                "new_kind": activity.kind,
                "new_reference": activity.reference_id,
                "new_channel": activity.channel or "",
                "new_status": activity.status,
                "new_order": activity.order_id,
                "new_occurred_at": activity.occurred_at,
            },
        )
    ).one()
    return _activity(row)


async def list_activities(
    session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
) -> Page[Activity]:
    """Newest first."""
    table = customer_activities
    page = await newest_first(
        session, table, customer_id, table.c.occurred_at, table.c.activity_id, limit, after
    )
    return Page([_activity(row) for row in page.items], page.next_cursor)
