"""The pool's liveness check (services/common/db.py, issue 10's placement
speed): a connection idle longer than `ping_after_idle_seconds` is pinged at
checkout and replaced when dead; a recently used one is trusted, so a
connection that died meanwhile (PostgreSQL restarted) fails its statement
as a lost connection — UNAVAILABLE to the caller, who retries — and the whole
pool is renewed, so the statements after it get fresh connections.

Real PostgreSQL; the backends are killed with pg_terminate_backend."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from services.common.db import Database
from services.common.grpc_errors import is_connection_lost
from stack.postgres import PostgresServer


async def _kill_backends(postgres: PostgresServer, name: str) -> None:
    """Terminates every backend of database `name`, and waits until they are gone."""
    admin = await asyncpg.connect(postgres.url("postgres"))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        for _ in range(500):
            left = await admin.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1", name
            )
            if left == 0:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"backends of {name} still there")
    finally:
        await admin.close()


async def _backend_pid(database: Database) -> int:
    async with database.transaction() as session:
        return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _open_connections(database: Database, count: int) -> set[int]:
    """Checks out `count` connections at once (so the pool holds that many), returns their pids."""
    started = asyncio.Event()
    gate = asyncio.Event()
    pids: set[int] = set()
    inside = 0

    async def hold() -> None:
        nonlocal inside
        async with database.transaction() as session:
            pids.add(int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()))
            inside += 1
            if inside == count:
                started.set()
            await gate.wait()

    tasks = [asyncio.create_task(hold()) for _ in range(count)]
    await started.wait()
    gate.set()
    await asyncio.gather(*tasks)
    return pids


@pytest.fixture
def fresh_database(postgres: PostgresServer) -> Callable[[], tuple[str, str]]:
    counter = iter(range(1000))

    def make() -> tuple[str, str]:
        name = f"liveness_{next(counter)}_{id(postgres) % 10000}"
        postgres.ensure_database(name)
        return name, postgres.url(name)

    return make


async def test_an_idle_connection_is_pinged_and_replaced(
    postgres: PostgresServer, fresh_database: Callable[[], tuple[str, str]]
) -> None:
    name, url = fresh_database()
    database = Database(url, pool_size=2, ping_after_idle_seconds=0.0)
    try:
        before = await _backend_pid(database)
        await _kill_backends(postgres, name)
        # The ping finds it dead: a new connection, and the statement works.
        after = await _backend_pid(database)
        assert after != before
    finally:
        await database.dispose()


async def test_a_recently_used_dead_connection_is_lost_once_then_the_pool_is_renewed(
    postgres: PostgresServer, fresh_database: Callable[[], tuple[str, str]]
) -> None:
    name, url = fresh_database()
    database = Database(url, pool_size=3, ping_after_idle_seconds=3600.0)
    try:
        old = await _open_connections(database, 3)
        assert len(old) == 3
        await _kill_backends(postgres, name)
        with pytest.raises(Exception) as lost:
            await _backend_pid(database)
        # What the error interceptor answers UNAVAILABLE (test_grpc_errors_connection_lost).
        assert is_connection_lost(lost.value), repr(lost.value)
        # Every other pooled connection was invalidated with it: none of the
        # old backends is used again, and nothing else fails.
        again = await _open_connections(database, 3)
        assert not again & old
        assert await _backend_pid(database) not in old
    finally:
        await database.dispose()


async def test_a_new_connection_is_not_pinged_before_its_first_use(
    postgres: PostgresServer, fresh_database: Callable[[], tuple[str, str]]
) -> None:
    _, url = fresh_database()
    database = Database(url, pool_size=1, ping_after_idle_seconds=3600.0)
    pings: list[int] = []
    original = database.engine.dialect.do_ping

    def counting(dbapi_connection: Any) -> bool:
        pings.append(1)
        return bool(original(dbapi_connection))

    database.engine.dialect.do_ping = counting  # type: ignore[method-assign]
    try:
        for _ in range(5):
            await _backend_pid(database)
        assert pings == []
    finally:
        await database.dispose()
