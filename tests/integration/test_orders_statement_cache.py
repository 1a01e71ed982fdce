"""The placement's row writes on real PostgreSQL, as the orders service sends
them (plain asyncpg: services/common/plain_session.py): several fulfillments
in one upsert come back as written, and every statement is compiled once and
kept — a multi-row VALUES, or a statement built per call, would be compiled
again on every placement (~1 ms of orders' CPU each, issue 10)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from omni.words import FulfillmentStatus, FulfillmentType, OrderStatus
from services.common import plain_session
from services.common.plain_session import PlainDatabase
from services.common.plain_sql import PlainStatement, plain_statement
from services.orders.domain.records import Event, FulfillmentLineRecord, FulfillmentRecord
from services.orders.store import events, orders, placements
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


async def _sell(database: PlainDatabase, order_id: str) -> list[FulfillmentRecord] | None:
    now = datetime.now(UTC)
    sold = [_fulfillment(order_id, "S1", "TEE-1")]
    async with database.unit_of_work() as uow:
        written = await placements.record_placed(
            uow.session,
            order_id,
            sold,
            Event(now, "placed", "carry_out at S1"),
            completed=Event(now, "completed", "sold at the till of S1"),
        )
        await uow.commit()
    return written


async def test_a_till_sale_is_completed_with_both_events_in_three_statements(
    database: PlainDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _sell(database, await add_pending(database))  # compiles each statement once
    order_id = await add_pending(database)
    sent: list[str] = []
    real_fetch = plain_session.PlainSession._fetch

    async def note(self: Any, statement: Any, values: Any) -> Any:
        sent.append(str(statement).split(None, 1)[0])
        return await real_fetch(self, statement, values)

    monkeypatch.setattr(plain_session.PlainSession, "_fetch", note)
    written = await _sell(database, order_id)
    monkeypatch.undo()
    assert written is not None and [w.location_id for w in written] == ["S1"]
    assert sent == ["UPDATE", "INSERT", "INSERT"]
    async with database.unit_of_work() as uow:
        order = await orders.load_order(uow.session, order_id)
        history = await events.order_history(uow.session, order_id)
    assert order is not None
    assert (order.status, order.completed_at is not None) == (OrderStatus.COMPLETED, True)
    # At one instant, in the order written.
    assert [e.type for e in history] == ["placed", "completed"]


async def test_a_till_sale_completed_twice_writes_it_once(database: PlainDatabase) -> None:
    order_id = await add_pending(database)
    first, second = await asyncio.gather(_sell(database, order_id), _sell(database, order_id))
    assert sorted([first is None, second is None]) == [False, True]
    async with database.unit_of_work() as uow:
        history = await events.order_history(uow.session, order_id)
    assert [e.type for e in history] == ["placed", "completed"]
