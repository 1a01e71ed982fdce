"""The placement's row writes on real PostgreSQL: several fulfillments in one
upsert come back as written, and every statement is one SQLAlchemy compiled
once and cached — a multi-row VALUES has no cache key, so it was compiled
again on every placement (~1 ms of orders' CPU each, issue 10)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import default

from omni.words import FulfillmentStatus, FulfillmentType
from services.common.db import Database
from services.orders.domain.records import Event, FulfillmentLineRecord, FulfillmentRecord
from services.orders.store import placements
from tests.integration.test_orders_exchange_recovery import add_pending


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("orders")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=2)
    yield db
    await db.dispose()


def _fulfillment(order_id: str, location_id: str, sku: str) -> FulfillmentRecord:
    return FulfillmentRecord(
        fulfillment_id=f"{order_id}-{location_id}",
        order_id=order_id,
        type=FulfillmentType.SHIP,
        location_id=location_id,
        status=FulfillmentStatus.PENDING,
        lines=[FulfillmentLineRecord(sku=sku, quantity=2)],
        pickup_code="",
        carrier="",
        tracking_number="",
        updated_at=datetime.now(UTC),
    )


async def _place(database: Database) -> tuple[list[FulfillmentRecord], list[FulfillmentRecord]]:
    order_id = await add_pending(database)
    placed = [_fulfillment(order_id, "W1", "TEE-1"), _fulfillment(order_id, "S2", "MUG-1")]
    async with database.unit_of_work() as uow:
        written = await placements.record_placed(
            uow.session, order_id, placed, Event(datetime.now(UTC), "placed", "")
        )
        await uow.commit()
    assert written is not None
    return placed, written


async def test_a_split_placement_is_written_with_cached_statements(database: Database) -> None:
    await _place(database)  # the first placement compiles each statement once
    seen: list[tuple[Any, str]] = []

    def _record(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _m: bool) -> None:
        seen.append((context.cache_hit, statement.split(None, 1)[0]))

    engine = database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", _record)
    try:
        placed, written = await _place(database)
    finally:
        event.remove(engine, "before_cursor_execute", _record)

    assert [(w.fulfillment_id, w.location_id, w.lines) for w in written] == [
        (p.fulfillment_id, p.location_id, p.lines) for p in placed
    ]
    assert all(w.status == FulfillmentStatus.PENDING for w in written)
    writes = [(hit, verb) for hit, verb in seen if verb in ("INSERT", "UPDATE")]
    assert writes, seen
    assert all(hit == default.CACHE_HIT for hit, _ in writes), writes


async def test_a_placement_of_an_order_no_longer_pending_writes_nothing(
    database: Database,
) -> None:
    placed, _ = await _place(database)
    order_id = placed[0].order_id
    async with database.unit_of_work() as uow:
        again = await placements.record_placed(
            uow.session, order_id, placed, Event(datetime.now(UTC), "placed", "")
        )
    assert again is None
