"""The placement's row writes on real PostgreSQL, as the orders service sends
them (plain asyncpg: services/common/plain_session.py): several fulfillments
in one upsert come back as written, and every statement is compiled once and
kept — a multi-row VALUES, or a statement built per call, would be compiled
again on every placement (~1 ms of orders' CPU each, issue 10)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from omni.words import FulfillmentStatus, FulfillmentType
from services.common import plain_session
from services.common.plain_session import PlainDatabase
from services.common.plain_sql import PlainStatement, plain_statement
from services.orders.domain.records import Event, FulfillmentLineRecord, FulfillmentRecord
from services.orders.store import placements
from tests.integration.test_orders_exchange_recovery import add_pending


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("orders")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[PlainDatabase]:
    db = await PlainDatabase.open(database_url, 2)
    yield db
    await db.close()


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


async def _place(
    database: PlainDatabase,
) -> tuple[list[FulfillmentRecord], list[FulfillmentRecord]]:
    order_id = await add_pending(database)
    placed = [_fulfillment(order_id, "W1", "TEE-1"), _fulfillment(order_id, "S2", "MUG-1")]
    async with database.unit_of_work() as uow:
        written = await placements.record_placed(
            uow.session, order_id, placed, Event(datetime.now(UTC), "placed", "")
        )
        await uow.commit()
    assert written is not None
    return placed, written


async def test_a_split_placement_is_written_with_kept_statements(
    database: PlainDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _place(database)  # the first placement compiles each statement once
    compiled: list[str] = []

    def compile_and_note(statement: Any, column_keys: Any = None) -> PlainStatement:
        made = plain_statement(statement, column_keys)
        compiled.append(made.sql)
        return made

    monkeypatch.setattr(plain_session, "plain_statement", compile_and_note)
    placed, written = await _place(database)

    assert [(w.fulfillment_id, w.location_id, w.lines) for w in written] == [
        (p.fulfillment_id, p.location_id, p.lines) for p in placed
    ]
    assert all(w.status == FulfillmentStatus.PENDING for w in written)
    # add_pending's INSERT is built per call (a test helper); the placement's are kept.
    assert [sql.split(None, 1)[0] for sql in compiled] == ["INSERT"], compiled
    assert "orders" in compiled[0].split("(", 1)[0]


async def test_a_placement_of_an_order_no_longer_pending_writes_nothing(
    database: PlainDatabase,
) -> None:
    placed, _ = await _place(database)
    order_id = placed[0].order_id
    async with database.unit_of_work() as uow:
        again = await placements.record_placed(
            uow.session, order_id, placed, Event(datetime.now(UTC), "placed", "")
        )
    assert again is None
