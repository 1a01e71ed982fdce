"""Exchanges (issue 11) and placement recovery, on real PostgreSQL: a pending
replacement order waits for its return's goods (days), so recovery, which
abandons pending placements nobody moved for a while, must leave it to its
return journey; an ordinary pending order of the same age is taken over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from omni.words import OrderStatus
from services.common.plain_session import PlainDatabase
from services.orders.store import placements
from services.orders.store.tables import orders


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("orders")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[PlainDatabase]:
    db = await PlainDatabase.open(database_url, 4)
    yield db
    await db.close()


async def add_pending(database: PlainDatabase, *, exchange_for: str = "") -> str:
    order_id = f"O-{uuid.uuid4().hex[:10]}"
    async with database.unit_of_work() as uow:
        await uow.session.execute(
            orders.insert().values(
                order_id=order_id,
                customer_id="C1",
                channel="web",
                status=OrderStatus.PENDING,
                currency="USD",
                total_minor=1500,
                fulfillment_type="pickup",
                location_id="S1",
                workflow_id=f"order-{order_id}",
                exchange_for=exchange_for,
                # Nobody has moved it for an hour.
                updated_at=func.now() - timedelta(hours=1),
            )
        )
        await uow.commit()
    return order_id


async def test_recovery_leaves_a_pending_replacement_to_its_return(database: PlainDatabase) -> None:
    replacement = await add_pending(database, exchange_for=f"ret_{uuid.uuid4().hex[:8]}")
    stuck = await add_pending(database)

    async def claim() -> list[str]:
        async with database.unit_of_work() as uow:
            claimed = await placements.claim_stale(uow.session, timedelta(minutes=2), 1000)
            await uow.commit()
        return claimed

    # Two recoveries at once: the stuck order is taken once, the replacement never.
    first, second = await asyncio.gather(claim(), claim())
    assert replacement not in first + second
    assert (first + second).count(stuck) == 1

    async with database.unit_of_work() as uow:
        rows = (
            await uow.session.execute(
                select(orders.c.order_id, orders.c.abandoned_at, orders.c.status).where(
                    orders.c.order_id.in_([replacement, stuck])
                )
            )
        ).all()
        # Its lease can still be taken by PlaceExchange (placement.renew).
        renewed = await placements.renew(uow.session, replacement)
        await uow.commit()
    by_id = {row.order_id: row for row in rows}
    assert by_id[replacement].abandoned_at is None
    assert by_id[stuck].abandoned_at is not None
    assert by_id[replacement].status == OrderStatus.PENDING
    assert renewed
