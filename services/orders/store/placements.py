"""Placements in progress: a pending order is one (use_cases.place_order).

Its `updated_at` is the lease of whoever is placing it (the first request, or a
retry of its key, renews it); recovery takes over the pending orders whose
lease ran out (`abandoned_at`), and starts their journeys with `abandoned`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import OrderStatus
from services.orders.domain.records import Event, FulfillmentRecord
from services.orders.store import events, fulfillments
from services.orders.store.tables import orders

INTERRUPTED_REASON = "PLACEMENT_INTERRUPTED"
INTERRUPTED_MESSAGE = "the order could not be placed; try again"


async def renew(session: AsyncSession, order_id: str) -> bool:
    """Takes the lease of a pending placement again; False once recovery took it."""
    renewed = await session.execute(
        orders.update()
        .where(
            orders.c.order_id == order_id,
            orders.c.status == OrderStatus.PENDING,
            orders.c.abandoned_at.is_(None),
        )
        .values(updated_at=func.now())
        .returning(orders.c.order_id)
    )
    return renewed.first() is not None


async def claim_stale(session: AsyncSession, older_than: timedelta, limit: int) -> list[str]:
    """The pending orders nobody moved for `older_than`: marked abandoned (a
    retry of their key is then told to try again with a new one) and their
    lease taken, so each comes back once per `older_than` until its journey
    records how it ended. Concurrent recoveries take disjoint rows."""
    stale = (
        select(orders.c.order_id)
        .where(
            orders.c.status == OrderStatus.PENDING,
            orders.c.updated_at < func.now() - older_than,
            # An exchange's replacement waits for its return's goods: the
            # return journey places it or gives it back (issue 11).
            orders.c.exchange_for == "",
        )
        .order_by(orders.c.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = await session.execute(
        orders.update()
        .where(orders.c.order_id.in_(stale))
        .values(
            abandoned_at=func.coalesce(orders.c.abandoned_at, func.now()),
            rejection_reason=INTERRUPTED_REASON,
            rejection_message=INTERRUPTED_MESSAGE,
            updated_at=func.now(),
        )
        .returning(orders.c.order_id)
    )
    return [row.order_id for row in claimed]


async def mark_placed(
    session: AsyncSession, order_id: str, fulfillment: FulfillmentRecord, event: Event
) -> bool:
    """The journey started with the placement: the order is placed with its
    first fulfillment. Only from pending: a journey that already recorded a
    later status (a hold that ran out, say) is not overwritten."""
    placed = await session.execute(
        orders.update()
        .where(orders.c.order_id == order_id, orders.c.status == OrderStatus.PENDING)
        .values(
            status=OrderStatus.PLACED,
            rejection_reason="",
            rejection_message="",
            updated_at=func.now(),
        )
        .returning(orders.c.order_id)
    )
    if placed.first() is None:
        return False
    await fulfillments.upsert_fulfillment(session, fulfillment)
    await events.append_order_event(session, order_id, event)
    return True
