"""A reservation locked, then settled (committed, released, expired) or
confirmed, in one short transaction on plain asyncpg.

CommitReservation is on every till sale and every handover, ConfirmReservation
on every placement: through the ORM a one-line commit was a unit of work of
six statements (~2.8 ms of this process's CPU a call). Here it is BEGIN, the
row lock, its lines, one settle_reservation() (migration 0009) and COMMIT.
How the reservation ends is still decided in Python (domain.settle_commit,
settle_release); the function only writes it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from omni.words import ReservationStatus
from services.common.plain_sql import RowAttributes, plain_statement, sql_span
from services.inventory.domain import HeldReservation, Settlement
from services.inventory.store.reservations import (
    CONFIRM_HOLD,
    LOCK_RESERVATION,
    RESERVATION_LINES,
    STORE_AT_CAPACITY_SQLSTATE,
    held_from,
)

# The ORM's statements, compiled once for the bare connection (one definition).
_LOCK = plain_statement(LOCK_RESERVATION)
# Read after the lock, as a statement of its own: in one statement the lines
# would come from the snapshot taken before it waited for the lock, and miss
# what the transaction it waited for changed.
_LINES = plain_statement(RESERVATION_LINES)
_CONFIRM = plain_statement(CONFIRM_HOLD)
_SETTLE = "SELECT settle_reservation($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
# Raised by settle_reservation() when a stock row no longer covers its holds.
STOCK_SHORT_OF_HOLDS_SQLSTATE = "OM003"


@dataclass(frozen=True)
class LockedReservation:
    """The reservation as it is under its row lock, until the transaction ends."""

    held: HeldReservation
    connection: PoolConnectionProxy[asyncpg.Record]
    database_name: str

    async def settle(self, settlement: Settlement) -> None:
        """Gives back and sells what the settlement says (in sku order: the
        lock order), records the sales in the ledger and moves the
        reservation on."""
        held = self.held
        skus = list(settlement.sold)
        movements = settlement.movements(held)
        try:
            with sql_span(_SETTLE, self.database_name):
                await self.connection.execute(
                    _SETTLE,
                    held.reservation_id,
                    held.location_id,
                    settlement.status,
                    settlement.status is ReservationStatus.COMMITTED,
                    skus,
                    [settlement.sold[sku] for sku in skus],
                    [settlement.sold[sku] + settlement.released[sku] for sku in skus],
                    [m.sku for m in movements],
                    [m.delta for m in movements],
                    [m.reason for m in movements],
                    [m.actor for m in movements],
                )
        except asyncpg.PostgresError as error:
            if error.sqlstate != STOCK_SHORT_OF_HOLDS_SQLSTATE:
                raise
            # The invariants say this cannot happen; refused rather than corrupted.
            raise RuntimeError(
                f"stock of {getattr(error, 'detail', '')} at {held.location_id}"
                " does not cover its holds"
            ) from error

    async def confirm_hold(self) -> int:
        """The soft hold no longer expires: held until released or committed.
        0, or the location's daily capacity when it is used up (the hold
        stays a soft hold; the caller must end the transaction with an error)."""
        try:
            with sql_span(_CONFIRM.sql, self.database_name):
                await self.connection.execute(
                    _CONFIRM.sql, *_CONFIRM.args(the_reservation=self.held.reservation_id)
                )
        except asyncpg.PostgresError as error:
            if error.sqlstate != STORE_AT_CAPACITY_SQLSTATE:
                raise
            return int(getattr(error, "detail", "") or 1)
        return 0


@asynccontextmanager
async def locked_reservation(
    pool: asyncpg.Pool, database_name: str, reservation_id: str
) -> AsyncIterator[LockedReservation | None]:
    """The reservation locked for one transaction (None: no such id); the
    transaction commits when the block ends and rolls back on an error."""
    async with pool.acquire() as connection, connection.transaction():
        by_id = {"the_reservation": reservation_id}
        with sql_span(_LOCK.sql, database_name):
            row = await connection.fetchrow(_LOCK.sql, *_LOCK.args(**by_id))
        if row is None:
            yield None
            return
        with sql_span(_LINES.sql, database_name):
            lines = await connection.fetch(_LINES.sql, *_LINES.args(**by_id))
        held = held_from(RowAttributes(row), map(RowAttributes, lines))
        yield LockedReservation(held, connection, database_name)
