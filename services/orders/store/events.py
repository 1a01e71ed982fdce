"""The order and return timelines: append-only, read oldest first."""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import Insert, Select, Table, bindparam, select

from services.common.plain_session import SqlSession
from services.orders.domain.records import Event
from services.orders.store.tables import order_events, return_events


@functools.cache
def _insert(table: Table) -> Insert:
    """Built once per table (bound parameters): a statement built per call is
    walked again for its cache key, which cost as much as executing it."""
    return table.insert()


async def _append(session: SqlSession, table: Table, key: str, owner_id: str, event: Event) -> None:
    await session.execute(
        _insert(table), {key: owner_id, "at": event.at, "type": event.type, "detail": event.detail}
    )


@functools.cache
def _oldest_first(table: Table, key: str) -> Select[Any]:
    return (
        select(table.c.at, table.c.type, table.c.detail)
        .where(table.c[key] == bindparam("the_owner"))
        .order_by(table.c.at, table.c.id)
    )


async def _history(session: SqlSession, table: Table, key: str, owner_id: str) -> list[Event]:
    rows = await session.execute(_oldest_first(table, key), {"the_owner": owner_id})
    return [Event(at=e.at, type=e.type, detail=e.detail) for e in rows]


async def append_order_event(session: SqlSession, order_id: str, event: Event) -> None:
    await _append(session, order_events, "order_id", order_id, event)


# Two rows in one statement (a till sale's placed and completed): built once.
_TWO_ORDER_EVENTS = order_events.insert().values(
    [
        {
            "order_id": bindparam("the_order"),
            "at": bindparam(f"at_{n}"),
            "type": bindparam(f"type_{n}"),
            "detail": bindparam(f"detail_{n}"),
        }
        for n in (1, 2)
    ]
)


async def append_two_order_events(
    session: SqlSession, order_id: str, first: Event, second: Event
) -> None:
    """Both events, in this order (their ids, which order them at one instant)."""
    await session.execute(
        _TWO_ORDER_EVENTS,
        {
            "the_order": order_id,
            "at_1": first.at,
            "type_1": first.type,
            "detail_1": first.detail,
            "at_2": second.at,
            "type_2": second.type,
            "detail_2": second.detail,
        },
    )


async def order_history(session: SqlSession, order_id: str) -> list[Event]:
    return await _history(session, order_events, "order_id", order_id)


async def append_return_event(session: SqlSession, return_id: str, event: Event) -> None:
    await _append(session, return_events, "return_id", return_id, event)


async def return_history(session: SqlSession, return_id: str) -> list[Event]:
    return await _history(session, return_events, "return_id", return_id)
