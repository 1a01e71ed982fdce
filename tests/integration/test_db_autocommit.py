"""`Database.autocommit()` (services/common/db.py): statements without a
transaction around them. What must hold: no transaction is open while the
connection is held (the BEGIN and ROLLBACK are what it saves), a write made
through it is committed when the statement ends (so it is only for writes
that stand alone), and the pooled connection it used is transactional again
for the next unit of work (a rolled-back write is gone). Real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from sqlalchemy import text

from services.common.db import Database
from stack.postgres import PostgresServer


@asynccontextmanager
async def _database_with_notes(postgres: PostgresServer) -> AsyncIterator[tuple[str, Database]]:
    """A fresh database with an empty `notes` table, on one pooled connection
    (autocommit() and the unit of work after it share it)."""
    name = f"reads_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    database = Database(postgres.url(name), pool_size=1)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (id int PRIMARY KEY)"))
        yield name, database
    finally:
        await database.dispose()


async def _state_of(postgres: PostgresServer, pid: int) -> str:
    admin = await asyncpg.connect(postgres.url("postgres"))
    try:
        return str(await admin.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid))
    finally:
        await admin.close()


async def test_a_read_holds_no_transaction_and_the_next_unit_of_work_has_one(
    postgres: PostgresServer,
) -> None:
    async with _database_with_notes(postgres) as (_, database):
        async with database.autocommit() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0
            # Between two statements: idle, not "idle in transaction".
            assert await _state_of(postgres, pid) == "idle"
        async with database.unit_of_work() as uow:
            same = (await uow.session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await uow.session.execute(text("INSERT INTO notes VALUES (1)"))
            assert await _state_of(postgres, same) == "idle in transaction"
            # Not committed: rolled back when the block ends.
        assert same == pid
        async with database.autocommit() as connection:
            assert (await connection.execute(text("SELECT count(*) FROM notes"))).scalar_one() == 0


async def test_what_a_read_connection_executes_is_committed_at_once(
    postgres: PostgresServer,
) -> None:
    # Why it is only for writes that stand alone: nothing it runs is rolled back.
    async with _database_with_notes(postgres) as (name, database):
        async with database.autocommit() as connection:
            await connection.execute(text("INSERT INTO notes VALUES (7)"))
            outside = await asyncpg.connect(postgres.url(name))
            try:
                assert await outside.fetchval("SELECT count(*) FROM notes") == 1
            finally:
                await outside.close()
