"""ReserveStock and GetAvailability in one statement each, on plain asyncpg
(and the short transaction that settles or confirms a reservation: settling.py).

Why this module exists beside the SQLAlchemy ones: these are the platform's
hottest calls, and each pays for one autocommitted round trip only — the
statement commits in the round trip that locks the stock rows. Measured
(bench/README.md): the ORM path of GetAvailability took five round trips and
most of the service's CPU; its pool (services/common/plain_sql.py) skips
asyncpg's reset query, which cost as much as a quarter of ReserveStock's own
CPU. What a channel may sell is still the SQL function stock_available().
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import asyncpg

from omni.words import Channel, ReservationStatus
from services.common.money import Money
from services.common.plain_sql import RowAttributes, sql_span
from services.inventory.domain import (
    AvailabilitySnapshot,
    Line,
    Location,
    Product,
    ReservationRequest,
    ReserveOutcome,
    StockAtLocation,
    merge_lines,
)
from services.inventory.store.locations import location_from_row
from services.inventory.store.settling import LockedReservation, locked_reservation

# Raised by the reserve_stock() function (migrations 0003, 0004) when a line is short.
INSUFFICIENT_STOCK_SQLSTATE = "OM001"
# Raised by the reservations_daily_capacity trigger (migration 0007) when a
# fulfillment would exceed the store's daily_order_capacity.
STORE_AT_CAPACITY_SQLSTATE = "OM002"

_RESERVE_STOCK = (
    "SELECT out_created, out_expires_at FROM reserve_stock($1, $2, $3, $4, $5, $6, $7, $8)"
)
# Many reservations of the same location and skus (migration 0006).
_RESERVE_STOCK_BATCH = (
    "SELECT out_created, out_expires_at, out_short, out_unknown"
    " FROM reserve_stock_batch($1, $2, $3, $4, $5, $6, $7, $8, $9)"
)
# PostgreSQL could take far more; past this a batch only adds latency to its first members.
DEFAULT_BATCH_MAX = 64

# The asked skus that exist, whether any soft hold is past its TTL, and one
# row per location stocking any of them: the location once, with the skus it
# stocks and what the channel may sell of each as two parallel arrays (both
# in sku order, so they pair up by construction) - one snapshot, one round
# trip. (A row per stock row repeated every location's
# columns for each sku: 100 rows for 10 skus at 10 stores against 10 here,
# ~60 us less of this process's CPU and ~65 us less of PostgreSQL's.) With
# nothing stocked the one row has no location.
_AVAILABILITY = f"""
WITH asked AS (SELECT DISTINCT unnest($1::text[]) AS sku),
known AS (SELECT p.sku FROM products p JOIN asked USING (sku)),
stocked AS (
    SELECT s.location_id, array_agg(s.sku ORDER BY s.sku) AS skus,
           array_agg(stock_available(s.on_hand, s.reserved, ss.quantity) ORDER BY s.sku)
               AS availables
    FROM stock s
    JOIN known USING (sku)
    LEFT JOIN safety_stock ss
           ON ss.location_id = s.location_id AND ss.sku = s.sku AND ss.channel = $2
    GROUP BY s.location_id)
SELECT (SELECT coalesce(array_agg(sku), '{{}}') FROM known) AS known,
       EXISTS (SELECT 1 FROM reservations r
               WHERE r.status = '{ReservationStatus.ACTIVE}'
                 AND r.expires_at <= now()) AS holds_due,
       l.location_id, l.name, l.kind, l.lat, l.lon, l.pickup_enabled, l.ship_from_enabled,
       l.daily_order_capacity, l.pickup_window_hours, l.pick_sla_minutes, l.tax_region,
       l.timezone, l.curbside_sla_minutes, st.skus, st.availables
FROM (SELECT 1) AS one
LEFT JOIN stocked st ON true
LEFT JOIN locations l ON l.location_id = st.location_id
"""

# A refusal's details: what the channel may sell of the short skus at the
# location now (a sku it does not stock has no row), and whether any soft hold
# is past its TTL - one round trip (the ORM read took four).
_SHORTFALL = f"""
SELECT due.holds_due, s.sku, stock_available(s.on_hand, s.reserved, ss.quantity) AS available
FROM (SELECT EXISTS (SELECT 1 FROM reservations r
                     WHERE r.status = '{ReservationStatus.ACTIVE}'
                       AND r.expires_at <= now()) AS holds_due) AS due
LEFT JOIN stock s ON s.location_id = $1 AND s.sku = ANY($2::text[])
LEFT JOIN safety_stock ss
       ON ss.location_id = s.location_id AND ss.sku = s.sku AND ss.channel = $3
"""


# Products by sku with their channel prices, one row each (the prices as
# parallel arrays, empty when it has none) - the pricing read of every quote,
# placement and till sale, which the ORM made two statements and a unit of work.
_PRODUCTS = """
SELECT p.sku, p.name, p.price_amount_minor, p.price_currency, p.returnable_days, p.active,
       coalesce(array_agg(cp.channel) FILTER (WHERE cp.sku IS NOT NULL), '{}') AS channels,
       coalesce(array_agg(cp.price_amount_minor) FILTER (WHERE cp.sku IS NOT NULL), '{}')
           AS channel_amounts,
       coalesce(array_agg(cp.price_currency) FILTER (WHERE cp.sku IS NOT NULL), '{}')
           AS channel_currencies
FROM products p
LEFT JOIN product_channel_prices cp ON cp.sku = p.sku
WHERE p.sku = ANY($1::text[])
GROUP BY p.sku
"""

_LOCATION = "SELECT * FROM locations WHERE location_id = $1"


def _product_of(row: asyncpg.Record) -> Product:
    prices = zip(row["channels"], row["channel_amounts"], row["channel_currencies"], strict=True)
    return Product(
        sku=row["sku"],
        name=row["name"],
        price=Money(row["price_amount_minor"], row["price_currency"]),
        returnable_days=row["returnable_days"],
        active=row["active"],
        channel_prices={Channel(c): Money(amount, currency) for c, amount, currency in prices},
    )


@dataclass
class _Member:
    request: ReservationRequest
    lines: list[Line]
    answer: asyncio.Future[ReserveOutcome]


@dataclass
class ReserveBatcher:
    """Groups concurrent reservations of the same location and skus into one
    reserve_stock_batch() statement: the hot row is locked and committed once
    per batch, not once per buyer.

    Per key, at most one statement is in flight; reservations that arrive
    while it runs wait for it (they would wait for its row lock anyway) and go
    together in the next one, after `window` seconds. A key's first
    reservation (no statement in flight, none within the window) goes at once,
    in the same event-loop tick as any that arrived with it: the window is paid
    only by a key that is already busy, so a quiet store's order never waits
    for it. A lone reservation goes alone through reserve_stock(), as before.
    When a batch fails as a whole (an unknown location or sku is a foreign
    key violation; a deadlock), each member is tried alone, so each gets its
    own answer."""

    pool: asyncpg.Pool
    database_name: str
    window: float = 0.0
    max_size: int = DEFAULT_BATCH_MAX
    _waiting: dict[tuple[str, tuple[str, ...]], list[_Member]] = field(default_factory=dict)
    _draining: set[asyncio.Task[None]] = field(default_factory=set)
    _keys_in_flight: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)
    # How many reservations each statement carried (bench and tests read it).
    sizes: list[int] = field(default_factory=list)

    async def reserve(self, request: ReservationRequest, lines: list[Line]) -> ReserveOutcome:
        key = (request.location_id, tuple(line.sku for line in lines))
        answer: asyncio.Future[ReserveOutcome] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(_Member(request, lines, answer))
        if key not in self._keys_in_flight:
            self._keys_in_flight.add(key)
            task = asyncio.create_task(self._drain(key))
            self._draining.add(task)
            task.add_done_callback(self._draining.discard)
        # Shielded: a caller that gives up does not cancel the others' statement.
        return await asyncio.shield(answer)

    async def _drain(self, key: tuple[str, tuple[str, ...]]) -> None:
        try:
            pause = 0.0  # a cold key: at once
            while True:
                await asyncio.sleep(pause)
                members = self._waiting.pop(key, [])
                if not members:
                    return
                if len(members) > self.max_size:
                    self._waiting[key] = members[self.max_size :]
                    members = members[: self.max_size]
                await self._send(members)
                pause = self.window  # a busy key: gather the next batch
        finally:
            self._keys_in_flight.discard(key)

    async def _send(self, members: list[_Member]) -> None:
        self.sizes.append(len(members))
        outcomes: list[ReserveOutcome | BaseException]
        try:
            if len(members) == 1:
                outcomes = [await self._alone(members[0])]
            else:
                outcomes = list(await self._reserve_together(members))
        except asyncpg.PostgresError:
            outcomes = list(
                await asyncio.gather(*(self._alone(m) for m in members), return_exceptions=True)
            )
        except BaseException as error:
            for member in members:
                if not member.answer.done():
                    member.answer.set_exception(error)
            if isinstance(error, asyncio.CancelledError):
                raise
            return
        for member, outcome in zip(members, outcomes, strict=True):
            if member.answer.done():
                continue
            if isinstance(outcome, BaseException):
                member.answer.set_exception(outcome)
            else:
                member.answer.set_result(outcome)

    async def _alone(self, member: _Member) -> ReserveOutcome:
        return await _reserve_alone(self.pool, self.database_name, member.request, member.lines)

    async def _reserve_together(self, members: list[_Member]) -> list[ReserveOutcome]:
        first_line = [1]
        for member in members:
            first_line.append(first_line[-1] + len(member.lines))
        with sql_span(_RESERVE_STOCK_BATCH, self.database_name) as span:
            span.set_attribute("omni.batch_size", len(members))
            rows = await self.pool.fetch(
                _RESERVE_STOCK_BATCH,
                members[0].request.location_id,
                [m.request.reservation_id for m in members],
                [m.request.order_id for m in members],
                [m.request.channel or "" for m in members],
                [m.request.ttl_seconds for m in members],
                [m.request.fingerprint() for m in members],
                first_line,
                [line.sku for m in members for line in m.lines],
                [line.quantity for m in members for line in m.lines],
            )
        assert len(rows) == len(members)
        return [
            ReserveOutcome(created=False, unknown_reference=True)
            if row["out_unknown"]
            else ReserveOutcome(
                created=row["out_created"],
                expires_at=row["out_expires_at"],
                short_skus=tuple(row["out_short"].split(",")) if row["out_short"] else (),
            )
            for row in rows
        ]


async def _reserve_alone(
    pool: asyncpg.Pool, database_name: str, request: ReservationRequest, lines: list[Line]
) -> ReserveOutcome:
    try:
        with sql_span(_RESERVE_STOCK, database_name):
            row = await pool.fetchrow(
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
        detail = getattr(error, "detail", "") or ""
        if error.sqlstate == STORE_AT_CAPACITY_SQLSTATE:
            return ReserveOutcome(created=False, full_at_capacity=int(detail or 1))
        if error.sqlstate != INSUFFICIENT_STOCK_SQLSTATE:
            raise
        return ReserveOutcome(created=False, short_skus=tuple(detail.split(",")))
    assert row is not None
    return ReserveOutcome(created=row["out_created"], expires_at=row["out_expires_at"])


class HotPath:
    """The two one-statement calls, on a pool of their own.

    `batch_max` > 1 groups concurrent reservations of the same rows
    (`ReserveBatcher`, waiting `batch_window` seconds); 1 sends each alone."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        database_name: str = "",
        *,
        batch_window: float = 0.0,
        batch_max: int = 1,
    ) -> None:
        self.pool = pool
        self.database_name = database_name
        self.batcher = (
            ReserveBatcher(pool, database_name, batch_window, batch_max) if batch_max > 1 else None
        )

    async def reserve(self, request: ReservationRequest) -> ReserveOutcome:
        """Every line held, or none, in one autocommitted statement."""
        lines = merge_lines(request.lines)  # sku order: the lock order
        if self.batcher is not None:
            return await self.batcher.reserve(request, lines)
        return await _reserve_alone(self.pool, self.database_name, request, lines)

    async def shortfall(
        self, location_id: str, skus: Sequence[str], channel: Channel | None
    ) -> tuple[dict[str, int], bool]:
        """What the channel may sell of `skus` at the location (0 for a sku
        it does not stock), and whether a soft hold is past its TTL."""
        with sql_span(_SHORTFALL, self.database_name):
            rows = await self.pool.fetch(_SHORTFALL, location_id, list(skus), channel or "")
        available = {sku: 0 for sku in skus}
        for row in rows:
            if row["sku"] is not None:
                available[row["sku"]] = row["available"]
        return available, bool(rows[0]["holds_due"])

    async def read_products(self, skus: Sequence[str]) -> dict[str, Product]:
        """The known ones among `skus`, by sku, with their channel prices."""
        with sql_span(_PRODUCTS, self.database_name):
            rows = await self.pool.fetch(_PRODUCTS, list(skus))
        return {row["sku"]: _product_of(row) for row in rows}

    def locked(self, reservation_id: str) -> AbstractAsyncContextManager[LockedReservation | None]:
        """The reservation under its row lock for one short transaction (store/settling.py)."""
        return locked_reservation(self.pool, self.database_name, reservation_id)

    async def read_location(self, location_id: str) -> Location | None:
        with sql_span(_LOCATION, self.database_name):
            row = await self.pool.fetchrow(_LOCATION, location_id)
        return None if row is None else location_from_row(RowAttributes(row))

    async def read_availability(
        self, skus: Sequence[str], channel: Channel | None
    ) -> AvailabilitySnapshot:
        """What GetAvailability needs, in one autocommitted statement."""
        with sql_span(_AVAILABILITY, self.database_name):
            rows = await self.pool.fetch(_AVAILABILITY, list(skus), channel or "")
        found = []
        for row in rows:
            if row["location_id"] is None:
                continue  # nothing asked is stocked anywhere
            location = location_from_row(RowAttributes(row))
            for sku, available in zip(row["skus"], row["availables"], strict=True):
                found.append(StockAtLocation(location, sku, available))
        # The statement always yields one row, which carries these two.
        return AvailabilitySnapshot(frozenset(rows[0]["known"]), found, bool(rows[0]["holds_due"]))
