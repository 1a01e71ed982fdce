"""ReserveStock and GetAvailability in one statement each, on plain asyncpg.

Why this module exists beside the SQLAlchemy ones: these are the platform's
hottest calls, and each pays for one autocommitted round trip only — the
statement commits in the round trip that locks the stock rows. Measured
(bench/README.md): the ORM path of GetAvailability took five round trips and
most of the service's CPU; the pool below also skips asyncpg's reset query,
which cost as much as a quarter of ReserveStock's own CPU. Plain asyncpg has
no SQLAlchemy instrumentation, so the statements get the same client spans
by hand. What a channel may sell is still the SQL function stock_available().
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from omni.words import Channel, ReservationStatus
from services.inventory.domain import (
    AvailabilitySnapshot,
    Location,
    ReservationRequest,
    ReserveOutcome,
    StockAtLocation,
    merge_lines,
)
from services.inventory.store.locations import location_from_row

# Raised by the reserve_stock() function (migrations 0003, 0004) when a line is short.
INSUFFICIENT_STOCK_SQLSTATE = "OM001"

_RESERVE_STOCK = (
    "SELECT out_created, out_expires_at FROM reserve_stock($1, $2, $3, $4, $5, $6, $7, $8)"
)

# Every asked sku (known or not), each stock row of the known ones with its
# location and what the channel may sell, and whether any soft hold is past
# its TTL — one snapshot, one round trip.
_AVAILABILITY = f"""
SELECT asked.sku, p.sku IS NOT NULL AS known,
       l.location_id, l.name, l.kind, l.lat, l.lon, l.pickup_enabled, l.ship_from_enabled,
       l.daily_order_capacity, l.pickup_window_hours, l.pick_sla_minutes,
       stock_available(s.on_hand, s.reserved, ss.quantity) AS available,
       EXISTS (SELECT 1 FROM reservations r
               WHERE r.status = '{ReservationStatus.ACTIVE}' AND r.expires_at <= now()) AS holds_due
FROM unnest($1::text[]) AS asked(sku)
LEFT JOIN products p ON p.sku = asked.sku
LEFT JOIN stock s ON s.sku = p.sku
LEFT JOIN locations l ON l.location_id = s.location_id
LEFT JOIN safety_stock ss
       ON ss.location_id = s.location_id AND ss.sku = s.sku AND ss.channel = $2
"""


def plain_postgres_url(url: str) -> str:
    """asyncpg wants postgresql://, the services are configured with a SQLAlchemy URL."""
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool release hook: nothing to reset (see `create_hot_pool`)."""


async def create_hot_pool(database_url: str, size: int) -> asyncpg.Pool:
    """A plain asyncpg pool for single autocommitted statements.

    Such statements leave no session state behind (no transaction, cursor,
    LISTEN, advisory lock or SET), so the pool skips asyncpg's reset query on
    release. asyncpg still rolls back a transaction left open, should one ever be."""
    return await asyncpg.create_pool(
        plain_postgres_url(database_url), min_size=1, max_size=size, reset=_keep_session
    )


# The proxy resolves to the process's tracer provider once it is installed.
_sql_tracer = trace.get_tracer("omni.sql")


def _sql_span(statement: str, database_name: str) -> Any:
    """The client span SQLAlchemy's statements get (telemetry.trace_sql), for plain asyncpg."""
    return _sql_tracer.start_as_current_span(
        f"SELECT {database_name}",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": "postgresql",
            "db.name": database_name,
            "db.operation": "SELECT",
            "db.statement": statement,
        },
    )


class _RowAttributes:
    """An asyncpg record read by attribute, like the SQLAlchemy rows `location_from_row` takes."""

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record[name]


class HotPath:
    """The two one-statement calls, on a pool of their own."""

    def __init__(self, pool: asyncpg.Pool, database_name: str = "") -> None:
        self.pool = pool
        self.database_name = database_name

    async def reserve(self, request: ReservationRequest) -> ReserveOutcome:
        """Every line held, or none, in one autocommitted statement."""
        lines = merge_lines(request.lines)  # sku order: the lock order
        try:
            with _sql_span(_RESERVE_STOCK, self.database_name):
                row = await self.pool.fetchrow(
                    _RESERVE_STOCK,
                    request.reservation_id,
                    request.order_id,
                    request.location_id,
                    request.channel or "",
                    request.ttl_seconds,
                    request.fingerprint(),
                    [line.sku for line in lines],
                    [line.quantity for line in lines],
                )
        except asyncpg.ForeignKeyViolationError:
            return ReserveOutcome(created=False, unknown_reference=True)
        except asyncpg.PostgresError as error:
            if error.sqlstate != INSUFFICIENT_STOCK_SQLSTATE:
                raise
            detail = getattr(error, "detail", "") or ""
            return ReserveOutcome(created=False, short_skus=tuple(detail.split(",")))
        assert row is not None
        return ReserveOutcome(created=row["out_created"], expires_at=row["out_expires_at"])

    async def read_availability(
        self, skus: Sequence[str], channel: Channel | None
    ) -> AvailabilitySnapshot:
        """What GetAvailability needs, in one autocommitted statement."""
        with _sql_span(_AVAILABILITY, self.database_name):
            rows = await self.pool.fetch(_AVAILABILITY, list(skus), channel or "")
        known: set[str] = set()
        seen: dict[str, Location] = {}  # one Location per store
        found = []
        for row in rows:
            if not row["known"]:
                continue
            known.add(row["sku"])
            location_id = row["location_id"]
            if location_id is None:
                continue  # a product no store stocks
            location = seen.get(location_id)
            if location is None:
                location = seen[location_id] = location_from_row(_RowAttributes(row))
            found.append(StockAtLocation(location, row["sku"], row["available"]))
        holds_due = bool(rows) and bool(rows[0]["holds_due"])
        return AvailabilitySnapshot(frozenset(known), found, holds_due)
