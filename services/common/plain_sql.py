"""Plain asyncpg beside SQLAlchemy, for the few statements hot enough to skip it.

A statement through an `AsyncSession` costs ~270 us of the process's CPU
against ~60 us for the same statement on the asyncpg connection (measured
on this machine, one cached SELECT by key); a unit of work around it (BEGIN,
ROLLBACK) another ~450 us. The pools here hold no session state, and the
statements get the same client spans `telemetry.trace_sql` gives
SQLAlchemy's, by hand.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from opentelemetry.trace import SpanKind

from services.common.telemetry import SQL_TRACER, sql_span_details


def plain_postgres_url(url: str) -> str:
    """asyncpg wants postgresql://, the services are configured with a SQLAlchemy URL."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool release hook: nothing to reset (see `create_hot_pool`)."""


async def create_hot_pool(database_url: str, size: int) -> asyncpg.Pool:
    """A plain asyncpg pool for single autocommitted statements and short
    explicit transactions.

    Neither leaves session state behind (no cursor, LISTEN, advisory lock or
    SET), so the pool skips asyncpg's reset query on release, which cost as
    much as a quarter of a reservation's CPU. asyncpg still rolls back a
    transaction left open, should one ever be."""
    return await asyncpg.create_pool(
        plain_postgres_url(database_url), min_size=1, max_size=size, reset=_keep_session
    )


def sql_span(statement: str, database_name: str) -> Any:
    """The client span SQLAlchemy's statements get (telemetry.trace_sql), for plain asyncpg."""
    name, attributes = sql_span_details(statement, database_name)
    return SQL_TRACER.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)
