"""The customer's timeline and loyalty ledger: one row per event id, so a
retried activity changes nothing the second time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.customers import domain
from services.customers.domain import LoyaltyEntry, PageCursor, TimelineEvent
from services.customers.store.paging import newest_first
from services.customers.store.tables import customers, loyalty_ledger, timeline_events


def _event(row: Row[Any]) -> TimelineEvent:
    return TimelineEvent(
        event_id=row.event_id,
        kind=row.kind,
        reference_id=row.reference_id,
        order_id=row.order_id,
        channel=row.channel,
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
                channel=event.channel,
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
    session: AsyncSession, customer_id: str, limit: int, after: PageCursor | None
) -> tuple[list[TimelineEvent], PageCursor | None]:
    """Newest first; the cursor of the last row when more remain."""
    table = timeline_events
    page, cursor = await newest_first(
        session, table, customer_id, table.c.at, table.c.seq, limit, after
    )
    return [_event(row) for row in page], cursor


async def change_points(
    session: AsyncSession, customer_id: str, entry_id: str, reason: str, reference: str, delta: int
) -> LoyaltyEntry | None:
    """Applies `delta` once per entry_id (None when already applied)."""
    row = (
        await session.execute(
            select(customers.c.loyalty_points, customers.c.loyalty_debt)
            .where(customers.c.customer_id == customer_id)
            .with_for_update()
        )
    ).one()
    balance, debt = domain.apply_points(row.loyalty_points, row.loyalty_debt, delta)
    added = (
        await session.execute(
            insert(loyalty_ledger)
            .values(
                entry_id=entry_id,
                customer_id=customer_id,
                reason=reason,
                reference_id=reference,
                points=delta,
                balance_after=balance,
                debt_after=debt,
            )
            .on_conflict_do_nothing(index_elements=["entry_id"])
            .returning(*loyalty_ledger.c)
        )
    ).first()
    if added is None:
        return None
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == customer_id)
        .values(loyalty_points=balance, loyalty_debt=debt)
    )
    return _entry(added)


def _entry(row: Row[Any]) -> LoyaltyEntry:
    return LoyaltyEntry(
        entry_id=row.entry_id,
        reason=row.reason,
        reference_id=row.reference_id,
        points=row.points,
        balance_after=row.balance_after,
        debt_after=row.debt_after,
        at=row.at,
    )


async def loyalty_history(session: AsyncSession, customer_id: str) -> list[LoyaltyEntry]:
    rows = await session.execute(
        select(loyalty_ledger)
        .where(loyalty_ledger.c.customer_id == customer_id)
        .order_by(loyalty_ledger.c.at, loyalty_ledger.c.entry_id)
    )
    return [_entry(row) for row in rows]
