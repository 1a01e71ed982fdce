"""Reservations and their lines: holds, how they end, and the expiry sweep."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import ReservationStatus
from services.inventory.domain import HeldReservation, ReservedLine
from services.inventory.store.stock import change_held
from services.inventory.store.tables import locations, reservation_lines, reservations

# Raised by the reservations_daily_capacity trigger (migration 0007).
STORE_AT_CAPACITY_SQLSTATE = "OM002"
# A placement hold (workflows.contracts.journeys.placement_hold_id): the order's
# fulfillment while still a soft hold, so it counts against capacity (0008).
FULFILLMENT_HOLD_PATTERN = "order-%/hold%"

# Expired holds released per sweep; the next call picks up any rest.
SWEEP_BATCH = 500


# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_RESERVATION = select(
    reservations,
    func.coalesce(reservations.c.expires_at <= func.now(), False).label("expired"),
).where(reservations.c.reservation_id == bindparam("the_reservation"))
LOCK_RESERVATION = _RESERVATION.with_for_update(of=reservations)
RESERVATION_LINES = (
    select(reservation_lines)
    .where(reservation_lines.c.reservation_id == bindparam("the_reservation"))
    .order_by(reservation_lines.c.sku)
)
CONFIRM_HOLD = (
    update(reservations)
    .where(
        reservations.c.reservation_id == bindparam("the_reservation"),
        reservations.c.status == ReservationStatus.ACTIVE,
    )
    .values(expires_at=None, ttl_seconds=0, updated_at=func.now())
)


async def load_reservation(
    session: AsyncSession, reservation_id: str, *, lock: bool
) -> HeldReservation | None:
    """The reservation with its lines (locked for the transaction when `lock`)."""
    by_id = {"the_reservation": reservation_id}
    row = (await session.execute(LOCK_RESERVATION if lock else _RESERVATION, by_id)).first()
    if row is None:
        return None
    return held_from(row, await session.execute(RESERVATION_LINES, by_id))


def held_from(row: Any, line_rows: Iterable[Any]) -> HeldReservation:
    """A reservation row and its line rows, read by attribute (SQLAlchemy rows,
    or asyncpg records through plain_sql.RowAttributes)."""
    return HeldReservation(
        reservation_id=row.reservation_id,
        order_id=row.order_id,
        location_id=row.location_id,
        status=ReservationStatus(row.status),
        fingerprint=row.fingerprint,
        lines=tuple(
            ReservedLine(r.sku, int(r.quantity), int(r.committed_quantity)) for r in line_rows
        ),
        expires_at=row.expires_at,
        expired=bool(row.expired),
    )


async def release_lines(
    session: AsyncSession, held: HeldReservation, releasing: dict[str, int]
) -> bool:
    """Gives back `releasing` (sku -> quantity, sku order) of the locked
    reservation: each line's held quantity goes down in one conditional
    statement (a line released to nothing is deleted), then the location's
    reserved; the last line gone releases the reservation. False when a line
    no longer holds that much (the caller rolls the whole release back)."""
    lines = reservation_lines.c
    for sku, quantity in releasing.items():
        mine = (lines.reservation_id == held.reservation_id) & (lines.sku == sku)
        left = (
            await session.execute(
                update(reservation_lines)
                .where(mine, lines.quantity > quantity, lines.committed_quantity == 0)
                .values(quantity=lines.quantity - quantity)
                .returning(lines.quantity)
            )
        ).first()
        if left is None:
            gone = (
                await session.execute(
                    delete(reservation_lines)
                    .where(mine, lines.quantity == quantity, lines.committed_quantity == 0)
                    .returning(lines.sku)
                )
            ).first()
            if gone is None:
                return False
        await change_held(session, held.location_id, sku, sold=0, unheld=quantity)
    remaining = await session.scalar(
        select(func.count())
        .select_from(reservation_lines)
        .where(lines.reservation_id == held.reservation_id)
    )
    values: dict[str, object] = {"updated_at": func.now()}
    if not remaining:
        values["status"] = ReservationStatus.RELEASED
    await session.execute(
        update(reservations)
        .where(
            reservations.c.reservation_id == held.reservation_id,
            reservations.c.status == ReservationStatus.ACTIVE,
        )
        .values(**values)
    )
    return True


async def has_expired_holds(session: AsyncSession) -> bool:
    """Cheap check (partial index) so most calls skip the sweep's write transaction."""
    found = await session.scalar(
        select(literal(True))
        .where(
            reservations.c.status == ReservationStatus.ACTIVE,
            reservations.c.expires_at <= func.now(),
        )
        .limit(1)
    )
    return bool(found)


async def expire_due_holds(session: AsyncSession) -> int:
    """Expires active soft holds whose time is up and gives their stock back.

    Holds another transaction is finishing right now are skipped, not waited for.
    """
    due = (
        select(reservations.c.reservation_id)
        .where(
            reservations.c.status == ReservationStatus.ACTIVE,
            reservations.c.expires_at <= func.now(),
        )
        .order_by(reservations.c.expires_at)
        .limit(SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    ids = list(await session.scalars(due))
    if not ids:
        return 0
    await session.execute(
        update(reservations)
        .where(reservations.c.reservation_id.in_(ids))
        .values(status=ReservationStatus.EXPIRED, updated_at=func.now())
    )
    freed = await session.execute(
        select(
            reservations.c.location_id,
            reservation_lines.c.sku,
            func.sum(reservation_lines.c.quantity).label("quantity"),
        )
        .select_from(reservation_lines.join(reservations))
        .where(reservations.c.reservation_id.in_(ids))
        .group_by(reservations.c.location_id, reservation_lines.c.sku)
        .order_by(reservations.c.location_id, reservation_lines.c.sku)
    )
    for row in freed:
        await change_held(session, row.location_id, row.sku, sold=0, unheld=int(row.quantity))
    return len(ids)


async def fulfillments_assigned_today(
    session: AsyncSession, location_ids: Sequence[str]
) -> dict[str, int]:
    """Per location: order fulfillments (reservations without a TTL, and
    placement holds; not cart holds) made since midnight in the location's own
    time zone and not given back — what the reservations_daily_capacity
    trigger counts (migrations 0007, 0008)."""
    if not location_ids:
        return {}
    zone = locations.c.timezone
    store_midnight = func.timezone(zone, func.date_trunc("day", func.timezone(zone, func.now())))
    rows = await session.execute(
        select(reservations.c.location_id, func.count().label("assigned"))
        .join(locations, locations.c.location_id == reservations.c.location_id)
        .where(
            reservations.c.location_id.in_(location_ids),
            or_(
                reservations.c.ttl_seconds == 0,
                reservations.c.reservation_id.like(FULFILLMENT_HOLD_PATTERN),
            ),
            reservations.c.created_at >= store_midnight,
            reservations.c.status.in_([ReservationStatus.ACTIVE, ReservationStatus.COMMITTED]),
        )
        .group_by(reservations.c.location_id)
    )
    return {row.location_id: int(row.assigned) for row in rows}
