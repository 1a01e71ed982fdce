"""The database engine and the unit of work every service uses.

What a statement costs here (measured on the 2-core dev machine, one cached
UPDATE or SELECT by key through an AsyncSession, 2,000 in a row): ~190 us of
the process's CPU when the statement object is built once, ~390 us when it is
built on every call (the construction, then walking it again for its compiled
cache key), ~60 us on the bare asyncpg connection; a unit of work around it
(BEGIN, ROLLBACK) ~450 us more. So a statement on a hot path (a placement, an
authorization, a journey's activity) is built once at module level with
`bindparam()`s and executed with a dict of values. Rows go as a list of
dicts (executemany), never as a multi-row `.values([...])`, which has no
cache key and is compiled again on every call. A read, or a write that is
one statement with nothing else in its transaction, goes through
`autocommit()`: no BEGIN and ROLLBACK/COMMIT around it. Per single-row read,
measured again on 2026-12-03 (a slower day, 3,000 in a row, CPU of the
process): ~890 us in a unit of work, ~680 us on a Core connection (BEGIN and
ROLLBACK still sent: three round trips), ~460 us autocommitted (one),
~155 us on bare asyncpg. So orders and customers run every store statement,
and payments its keyed writes, on plain asyncpg with the same statement
objects (services/common/plain_session.py); inventory's hot path and
settlement are plain SQL (services/common/plain_sql.py). This engine stays
for the readiness pings and the ORM paths that are not hot.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from services.common.telemetry import trace_sql

# Liveness of pooled connections. pool_pre_ping cost a round trip on every
# checkout (measured: ~0.6 ms of client CPU and a PostgreSQL round trip each,
# 6-8 checkouts per placement in orders alone). Instead a connection idle
# longer than this is pinged at checkout (and replaced when dead); one used
# more recently is trusted: if it died meanwhile (PostgreSQL restarted), its
# statement fails as a lost connection, which the services answer UNAVAILABLE
# (callers retry: grpc_errors.is_connection_lost), and SQLAlchemy then
# invalidates the whole pool, so every later checkout gets a fresh connection.
PING_AFTER_IDLE_SECONDS = 2.0
_LAST_USED = "omni_last_used"


def async_url(url: str) -> str:
    """Accepts postgresql:// URLs and points them at the asyncpg driver."""
    for prefix in ("postgresql+asyncpg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must be a postgresql:// URL")


def ping_when_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """Pings a pooled connection at checkout only when it has been idle longer
    than `idle_seconds` (see PING_AFTER_IDLE_SECONDS); a dead one is replaced."""
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    @event.listens_for(sync_engine, "connect")
    def _connected(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(sync_engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        last = record.info.get(_LAST_USED)
        if last is not None and time.monotonic() - last <= idle_seconds:
            return
        try:
            alive = dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool drops it and checks out another (a new one if need be).
            raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error
        if not alive:
            raise exc.DisconnectionError("pooled connection is dead")
        record.info[_LAST_USED] = time.monotonic()


class UnitOfWork:
    """One transaction that rolls back unless the use case calls `commit()`."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.committed = False

    async def commit(self) -> None:
        await self.session.commit()
        self.committed = True


class Database:
    """One engine per process; `unit_of_work()` is what use cases open."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        self.engine = create_async_engine(
            async_url(url), pool_size=pool_size, max_overflow=pool_size
        )
        ping_when_idle(self.engine, ping_after_idle_seconds)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        # The same pool, each statement committed by itself (no BEGIN, no ROLLBACK).
        self._autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        trace_sql(self.engine)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Commits when the block ends normally, rolls back on any exception."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        """Rolls back at the end unless `commit()` was called (cosmicpython's rule)."""
        async with self._sessions() as session:
            uow = UnitOfWork(session)
            try:
                yield uow
            finally:
                if not uow.committed:
                    await session.rollback()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[AsyncConnection]:
        """A connection whose every statement commits by itself. Each sees
        what is committed when it starts, as in a READ COMMITTED transaction,
        and a write holds its row locks only while it runs: for reads, and
        for writes that are one statement each with nothing to roll back
        together. Never for statements that must stand or fall together, or
        a lock (FOR UPDATE) meant to outlast its statement."""
        async with self._autocommit.connect() as connection:
            yield connection

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
