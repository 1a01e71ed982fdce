"""SQLAlchemy Core statements sent on a bare asyncpg connection, through the
two calls the stores make of a session (`execute`, `scalar`) and the one the
idempotency helper makes (`begin_nested`).

A keyed write (run_once) is a transaction of eight to ten short statements;
through an AsyncSession each cost ~200-270 us of the process's CPU against
~60 us on the connection (services/common/db.py). With a `PlainDatabase`
the same store functions and the same statement objects run here instead:
each statement is compiled once for asyncpg (plain_sql.plain_statement) and
kept while it is in use, a statement built per call is compiled per call.
Rows come back read by attribute, as SQLAlchemy's do.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from asyncpg.transaction import Transaction
from sqlalchemy.engine import make_url

from services.common.plain_sql import (
    PlainStatement,
    RowAttributes,
    create_hot_pool,
    plain_statement,
    sql_span,
)

# A service's plain pool: as many connections as services.common.db.Database
# (10, and 10 more under load), which it replaces for the stores' statements.
STATEMENT_POOL_SIZE = 20

# Compiled statements kept, most recently used last. The module-level ones of
# the hot paths are a few dozen; statements built per call pass through.
_KEPT_STATEMENTS = 512
_compiled: OrderedDict[tuple[int, tuple[str, ...]], tuple[Any, PlainStatement]] = OrderedDict()


class Savepoint(Protocol):
    async def commit(self) -> None: ...
    async def rollback(self) -> None: ...


class SqlSession(Protocol):
    """What a store function asks of its session: an AsyncSession, or a
    PlainSession from a PlainDatabase."""

    async def execute(self, statement: Any, params: Any = None) -> Any: ...
    async def scalar(self, statement: Any, params: Any = None) -> Any: ...
    def begin_nested(self) -> Awaitable[Savepoint]: ...


class Transactional(Protocol):
    """A database whose `transaction()` commits when the block ends and rolls
    back on an error: services.common.db.Database, or a PlainDatabase."""

    def transaction(self) -> AbstractAsyncContextManager[Any]: ...


def _plain(statement: Any, names: tuple[str, ...]) -> PlainStatement:
    """`statement` compiled for asyncpg and the values it is given, kept by
    identity (the entry holds the statement, so its id cannot be reused
    while it is kept)."""
    key = (id(statement), names)
    kept = _compiled.get(key)
    if kept is not None and kept[0] is statement:
        _compiled.move_to_end(key)
        return kept[1]
    compiled = plain_statement(statement, names)
    _compiled[key] = (statement, compiled)
    if len(_compiled) > _KEPT_STATEMENTS:
        _compiled.popitem(last=False)
    return compiled


class PlainResult:
    """The rows of one statement, with the calls the stores make of a Result."""

    def __init__(self, records: Iterable[asyncpg.Record]) -> None:
        self._rows = [RowAttributes(record) for record in records]

    def first(self) -> RowAttributes | None:
        return self._rows[0] if self._rows else None

    def one(self) -> RowAttributes:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def scalar_one(self) -> Any:
        return self.one()[0]

    def all(self) -> list[RowAttributes]:
        return list(self._rows)

    def scalars(self) -> Iterator[Any]:
        return (row[0] for row in self._rows)

    def __iter__(self) -> Iterator[RowAttributes]:
        return iter(self._rows)


class PlainSession:
    """One connection: inside a transaction (PlainDatabase.transaction,
    unit_of_work) or each statement committed by itself (autocommit)."""

    def __init__(self, connection: PoolConnectionProxy[asyncpg.Record], database_name: str) -> None:
        self._connection = connection
        self._database_name = database_name

    async def execute(
        self, statement: Any, params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
    ) -> PlainResult:
        """A list of parameter sets runs the statement once for each (what
        SQLAlchemy's executemany does), RETURNING rows of all of them."""
        if params is None or isinstance(params, Mapping):
            return PlainResult(await self._fetch(statement, params or {}))
        records: list[asyncpg.Record] = []
        for values in params:
            records.extend(await self._fetch(statement, values))
        return PlainResult(records)

    async def _fetch(self, statement: Any, values: Mapping[str, Any]) -> list[asyncpg.Record]:
        plain = _plain(statement, tuple(values))
        with sql_span(plain.sql, self._database_name):
            return await self._connection.fetch(plain.sql, *plain.args(**values))

    async def scalar(self, statement: Any, params: Mapping[str, Any] | None = None) -> Any:
        row = (await self.execute(statement, params)).first()
        return None if row is None else row[0]

    async def begin_nested(self) -> Transaction:
        savepoint = self._connection.transaction()
        await savepoint.start()
        return savepoint


def _as_sent(text: str) -> str:
    return text


async def _json_columns(connection: asyncpg.Connection) -> None:
    """json and jsonb read as Python values, as SQLAlchemy reads them (the
    parameters arrive as JSON text already: PlainStatement.args)."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=_as_sent, decoder=json.loads, schema="pg_catalog"
        )


class PlainDatabase:
    """Transactions on a plain asyncpg pool, for the keyed writes of a service."""

    def __init__(self, pool: asyncpg.Pool, database_name: str) -> None:
        self._pool = pool
        self._database_name = database_name

    @classmethod
    async def open(cls, database_url: str, size: int = STATEMENT_POOL_SIZE) -> PlainDatabase:
        pool = await create_hot_pool(database_url, size, init=_json_columns)
        return cls(pool, make_url(database_url).database or "")

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PlainSession]:
        """Commits when the block ends normally, rolls back on any exception."""
        async with self._pool.acquire() as connection, connection.transaction():
            yield PlainSession(connection, self._database_name)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[PlainUnitOfWork]:
        """Rolls back at the end unless `commit()` was called (as
        services.common.db.Database's)."""
        async with self._pool.acquire() as connection:
            uow = PlainUnitOfWork(connection, self._database_name)
            await uow.begin()
            try:
                yield uow
            finally:
                await uow.end()

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[PlainSession]:
        """Every statement commits by itself (Database.autocommit's rules:
        reads, and writes that are one statement with nothing to roll back)."""
        async with self._pool.acquire() as connection:
            yield PlainSession(connection, self._database_name)


class PlainUnitOfWork:
    """A transaction that rolls back unless committed. After `commit()`
    statements commit one by one (the use cases only read after it)."""

    def __init__(self, connection: PoolConnectionProxy[asyncpg.Record], database_name: str) -> None:
        self.session = PlainSession(connection, database_name)
        self._transaction: Transaction | None = connection.transaction()
        self.committed = False

    async def begin(self) -> None:
        assert self._transaction is not None
        await self._transaction.start()

    async def commit(self) -> None:
        assert self._transaction is not None, "committed once already"
        await self._transaction.commit()
        self._transaction = None
        self.committed = True

    async def end(self) -> None:
        if self._transaction is not None:
            await self._transaction.rollback()


class SessionUnitOfWork(Protocol):
    """What a use case holds inside `unit_of_work()`: PlainUnitOfWork, or
    services.common.db.UnitOfWork."""

    @property
    def session(self) -> SqlSession: ...
    async def commit(self) -> None: ...
