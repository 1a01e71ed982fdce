"""Plain asyncpg beside SQLAlchemy, for the few statements hot enough to skip it.

A statement through an `AsyncSession` costs ~270 us of the process's CPU
against ~60 us for the same statement on the asyncpg connection (measured
on this machine, one cached SELECT by key); a unit of work around it (BEGIN,
ROLLBACK) another ~450 us. The pools here hold no session state, and the
statements get the same client spans `telemetry.trace_sql` gives
SQLAlchemy's, by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from opentelemetry.trace import SpanKind
from sqlalchemy import types as sqltypes
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect

from services.common.telemetry import SQL_TRACER, sql_span_details

_ASYNCPG_DIALECT = asyncpg_dialect.dialect()


def plain_postgres_url(url: str) -> str:
    """asyncpg wants postgresql://, the services are configured with a SQLAlchemy URL."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool release hook: nothing to reset (see `create_hot_pool`)."""


async def create_hot_pool(
    database_url: str,
    size: int,
    *,
    init: Callable[[asyncpg.Connection], Coroutine[Any, Any, None]] | None = None,
) -> asyncpg.Pool:
    """A plain asyncpg pool for single autocommitted statements and short
    explicit transactions.

    Neither leaves session state behind (no cursor, LISTEN, advisory lock or
    SET), so the pool skips asyncpg's reset query on release, which cost as
    much as a quarter of a reservation's CPU. asyncpg still rolls back a
    transaction left open, should one ever be. `init` runs once on each new
    connection (type codecs)."""
    return await asyncpg.create_pool(
        plain_postgres_url(database_url),
        min_size=1,
        max_size=size,
        reset=_keep_session,
        init=init,
    )


def sql_span(statement: str, database_name: str) -> Any:
    """The client span SQLAlchemy's statements get (telemetry.trace_sql), for plain asyncpg."""
    name, attributes = sql_span_details(statement, database_name)
    return SQL_TRACER.start_as_current_span(name, kind=SpanKind.CLIENT, attributes=attributes)


class RowAttributes:
    """An asyncpg record read by attribute, like a SQLAlchemy row, so one
    row-to-domain function serves both."""

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record[name]

    def __getitem__(self, index: int) -> Any:
        return self._record[index]


@dataclass(frozen=True)
class PlainStatement:
    """A SQLAlchemy Core statement compiled once for the bare asyncpg
    connection: one definition of the statement whichever way it is sent.
    Values the statement itself carries (literals SQLAlchemy binds, such as
    a status in a WHERE) are filled in; the caller names the rest."""

    sql: str
    names: tuple[str, ...]
    fixed: dict[str, Any]
    # JSON parameters -> whether None is SQL NULL (else JSON null), as the
    # column's type says; their values go as JSON text, as SQLAlchemy sends them.
    json_none_as_null: dict[str, bool] = field(default_factory=dict)

    def args(self, **values: Any) -> list[Any]:
        given = [values[name] if name in values else self.fixed[name] for name in self.names]
        if not self.json_none_as_null:
            return given
        return [
            _json_text(value, self.json_none_as_null[name])
            if name in self.json_none_as_null
            else value
            for name, value in zip(self.names, given, strict=True)
        ]


# What a caller's parameter holds while a literal IN list is expanded.
_STAND_IN = object()


def _json_text(value: Any, none_as_null: bool) -> str | None:
    return None if value is None and none_as_null else json.dumps(value)


def plain_statement(statement: Any, column_keys: Sequence[str] | None = None) -> PlainStatement:
    """`column_keys`: the columns an INSERT or UPDATE without values() sets
    (the keys of the values it is executed with), as SQLAlchemy compiles it."""
    keys = None if column_keys is None else list(column_keys)
    compiled = statement.compile(dialect=_ASYNCPG_DIALECT, column_keys=keys)
    sql, names, values = compiled.string, tuple(compiled.positiontup or ()), compiled.params
    asked: set[str] = set()
    if "POSTCOMPILE" in sql:
        # An IN over a literal list (status IN (...)) is expanded now, one
        # parameter per value: the bare connection knows no POSTCOMPILE. The
        # expansion wants a value for every parameter, so the ones the caller
        # gives get a stand-in (they stay parameters, asked for by name).
        asked = {name for name, bind in compiled.binds.items() if bind.required}
        expanded = compiled.construct_expanded_state(dict.fromkeys(asked, _STAND_IN))
        sql, names = expanded.statement, tuple(expanded.positiontup or ())
        values = expanded.parameters
    fixed = {
        name: value for name, value in values.items() if value is not None and name not in asked
    }
    # A literal None (SET expires_at = NULL) is bound too: fixed, not asked for.
    literal_nones = {
        name
        for name, bind in compiled.binds.items()
        if bind.value is None and not bind.required and name in names
    }
    json_none_as_null = {
        name: bool(bind.type.none_as_null)
        for name, bind in compiled.binds.items()
        if isinstance(bind.type, sqltypes.JSON) and name in names
    }
    return PlainStatement(sql, names, fixed | dict.fromkeys(literal_nones), json_none_as_null)
