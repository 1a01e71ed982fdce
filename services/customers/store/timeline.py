"""The customer's timeline: one row per event id, so a retried activity
changes nothing the second time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Row, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import Channel, TimelineEventKind
from services.common.paging import Page
from services.common.plain_session import SqlSession
from services.customers.domain import HistoryKey, TimelineEvent
from services.customers.store.history import newest_first
from services.customers.store.tables import timeline_events


def _event(row: Row[Any]) -> TimelineEvent:
    return TimelineEvent(
        event_id=row.event_id,
        kind=TimelineEventKind(row.kind),
        reference_id=row.reference_id,
        order_id=row.order_id,
        channel=Channel.parse(row.channel),
        summary=row.summary,
        at=row.at,
        amount_minor=row.amount_minor,
        currency=row.currency,
    )


# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_ADD_EVENT = (
    insert(timeline_events)
    .values(
        event_id=bindparam("new_event"),
        customer_id=bindparam("new_customer"),
        kind=bindparam("new_kind"),
        reference_id=bindparam("new_reference"),
        order_id=bindparam("new_order"),
        channel=bindparam("new_channel"),
        summary=bindparam("new_summary"),
        amount_minor=bindparam("new_amount"),
        currency=bindparam("new_currency"),
        at=func.coalesce(bindparam("new_at", type_=DateTime(timezone=True)), func.now()),
    )
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(*timeline_events.c)
)
_EVENT = select(timeline_events).where(timeline_events.c.event_id == bindparam("the_event"))


async def record_event(
    session: SqlSession, customer_id: str, event: TimelineEvent
) -> tuple[TimelineEvent, bool]:
    """Inserts the event once; (the stored event, True when this call added it)."""
    added = (
        await session.execute(
            _ADD_EVENT,
            {
                "new_event": event.event_id,
                "new_customer": customer_id,
                "new_kind": event.kind,
                "new_reference": event.reference_id,
                "new_order": event.order_id,
                "new_channel": event.channel or "",
                "new_summary": event.summary,
                "new_amount": event.amount_minor,
                "new_currency": event.currency,
                "new_at": event.at,
            },
        )
    ).first()
    if added is not None:
        return _event(added), True
    stored = (await session.execute(_EVENT, {"the_event": event.event_id})).one()
    return _event(stored), False


async def list_events(
    session: SqlSession, customer_id: str, limit: int, after: HistoryKey | None
) -> Page[TimelineEvent]:
    """Newest first."""
    table = timeline_events
    page = await newest_first(session, table, customer_id, table.c.at, table.c.seq, limit, after)
    return Page([_event(row) for row in page.items], page.next_cursor)
