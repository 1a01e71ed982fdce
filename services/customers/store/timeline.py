"""The customer's timeline: one row per event id, so a retried activity
changes nothing the second time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import Channel, TimelineEventKind
from services.common.paging import Page
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


async def record_event(
    session: AsyncSession, customer_id: str, event: TimelineEvent
) -> tuple[TimelineEvent, bool]:
    """Inserts the event once; (the stored event, True when this call added it)."""
    added = (
        await session.execute(
            insert(timeline_events)
            .values(
                event_id=event.event_id,
                customer_id=customer_id,
                kind=event.kind,
                reference_id=event.reference_id,
                order_id=event.order_id,
                channel=event.channel or "",
                summary=event.summary,
                amount_minor=event.amount_minor,
                currency=event.currency,
                at=event.at or func.now(),
            )
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(*timeline_events.c)
        )
    ).first()
    if added is not None:
        return _event(added), True
    stored = (
        await session.execute(
            select(timeline_events).where(timeline_events.c.event_id == event.event_id)
        )
    ).one()
    return _event(stored), False


async def list_events(
    session: AsyncSession, customer_id: str, limit: int, after: HistoryKey | None
) -> Page[TimelineEvent]:
    """Newest first."""
    table = timeline_events
    page = await newest_first(session, table, customer_id, table.c.at, table.c.seq, limit, after)
    return Page([_event(row) for row in page.items], page.next_cursor)
