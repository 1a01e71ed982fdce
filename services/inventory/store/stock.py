"""Stock per (location, sku), its safety stock per channel, and the audit.

Stock changes are single conditional statements, so concurrent callers can
never take a row below what the rules allow. Stock rows are always locked in
(location_id, sku) order — reservations touch one location, in sku order —
so concurrent transactions cannot deadlock on them. What a channel may sell
is the SQL function stock_available() (migration 0004), never Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import Executable, and_, bindparam, func, null, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import Channel, ReservationStatus
from services.inventory.domain import (
    Adjustment,
    Location,
    SafetyStock,
    StockAtLocation,
    StockAudit,
    StockLevel,
)
from services.inventory.store.locations import location_from_row
from services.inventory.store.movements import record_movement
from services.inventory.store.tables import (
    locations,
    reservation_lines,
    reservations,
    safety_stock,
    stock,
    stock_movements,
)


def stock_available(on_hand: Any, reserved: Any, safety_quantity: Any) -> Any:
    """The SQL expression of what may be sold; `safety_quantity` NULL means none."""
    return func.stock_available(on_hand, reserved, safety_quantity)


async def get_stock(session: AsyncSession, location_id: str, sku: str) -> StockLevel:
    """The record, zeros when the location and product exist but never met."""
    row = (
        await session.execute(
            select(
                stock.c.on_hand,
                stock.c.reserved,
                stock_available(stock.c.on_hand, stock.c.reserved, null()).label("available"),
            ).where(stock.c.location_id == location_id, stock.c.sku == sku)
        )
    ).first()
    safety_rows = await session.execute(
        select(safety_stock.c.channel, safety_stock.c.quantity).where(
            safety_stock.c.location_id == location_id, safety_stock.c.sku == sku
        )
    )
    safety = {
        channel: int(r.quantity)
        for r in safety_rows
        if (channel := Channel.parse(r.channel)) is not None
    }
    if row is None:
        return StockLevel(location_id, sku, 0, 0, 0, safety)
    return StockLevel(
        location_id, sku, int(row.on_hand), int(row.reserved), int(row.available), safety
    )


async def apply_adjustment(session: AsyncSession, adjustment: Adjustment) -> bool:
    """Adds the delta to on hand and records the movement; False (nothing
    changed) when on hand would fall below zero or below what is reserved."""
    location_id, sku, delta = adjustment.location_id, adjustment.sku, adjustment.delta
    statement: Executable
    if adjustment.received_damaged():
        # Returned units that arrived damaged: in and written off at once, so
        # on hand never holds them (no one can reserve them in between).
        await session.execute(
            insert(stock)
            .values(location_id=location_id, sku=sku, on_hand=0, reserved=0)
            .on_conflict_do_nothing(index_elements=["location_id", "sku"])
        )
        arrival = adjustment.movement()
        await record_movement(session, arrival)
        await record_movement(session, replace(arrival, delta=-delta))
        return True
    if delta > 0:
        # First receipt creates the row; later ones add to it.
        statement = (
            insert(stock)
            .values(location_id=location_id, sku=sku, on_hand=delta, reserved=0)
            .on_conflict_do_update(
                index_elements=["location_id", "sku"],
                set_={"on_hand": stock.c.on_hand + delta, "updated_at": func.now()},
            )
            .returning(stock.c.on_hand)
        )
    else:
        statement = (
            update(stock)
            .where(
                stock.c.location_id == location_id,
                stock.c.sku == sku,
                stock.c.on_hand + delta >= stock.c.reserved,
            )
            .values(on_hand=stock.c.on_hand + delta, updated_at=func.now())
            .returning(stock.c.on_hand)
        )
    if (await session.execute(statement)).first() is None:
        return False
    await record_movement(session, adjustment.movement())
    return True


async def set_safety_stock(session: AsyncSession, safety: SafetyStock) -> None:
    await session.execute(
        insert(safety_stock)
        .values(
            location_id=safety.location_id,
            sku=safety.sku,
            channel=safety.channel,
            quantity=safety.quantity,
        )
        .on_conflict_do_update(
            index_elements=["location_id", "sku", "channel"], set_={"quantity": safety.quantity}
        )
    )


# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_CHANGE_HELD = (
    update(stock)
    .where(
        stock.c.location_id == bindparam("the_location"),
        stock.c.sku == bindparam("the_sku"),
        stock.c.reserved >= bindparam("unheld"),
        stock.c.on_hand >= bindparam("sold"),
    )
    .values(
        on_hand=stock.c.on_hand - bindparam("sold"),
        reserved=stock.c.reserved - bindparam("unheld"),
        updated_at=func.now(),
    )
    .returning(stock.c.reserved)
)


async def change_held(
    session: AsyncSession, location_id: str, sku: str, *, sold: int, unheld: int
) -> None:
    """Takes `sold` off on hand and `unheld` off reserved, in one statement."""
    changed = (
        await session.execute(
            _CHANGE_HELD,
            {"the_location": location_id, "the_sku": sku, "sold": sold, "unheld": unheld},
        )
    ).first()
    if changed is None:
        # The invariants say this cannot happen; refuse rather than corrupt.
        raise RuntimeError(f"stock of {sku} at {location_id} does not cover its holds")


async def stock_with_locations(
    session: AsyncSession,
    skus: Sequence[str],
    channel: Channel | None,
    location_ids: Sequence[str] = (),
) -> list[StockAtLocation]:
    """Every stock row of these skus (at these locations; all when none), with
    its location and what the channel may sell of it."""
    safety = safety_stock.alias("safety")
    query = (
        select(
            locations,
            stock.c.sku,
            stock_available(stock.c.on_hand, stock.c.reserved, safety.c.quantity).label(
                "available"
            ),
        )
        .select_from(
            stock.join(locations, locations.c.location_id == stock.c.location_id).outerjoin(
                safety,
                and_(
                    safety.c.location_id == stock.c.location_id,
                    safety.c.sku == stock.c.sku,
                    safety.c.channel == (channel or ""),
                ),
            )
        )
        .where(stock.c.sku.in_(skus))
    )
    if location_ids:
        query = query.where(stock.c.location_id.in_(location_ids))
    # One Location per store, however many of the skus it stocks.
    seen: dict[str, Location] = {}
    found = []
    for row in await session.execute(query):
        location = seen.get(row.location_id)
        if location is None:
            location = seen[row.location_id] = location_from_row(row)
        found.append(StockAtLocation(location, row.sku, int(row.available)))
    return found


async def audit_stock(session: AsyncSession, skus: Sequence[str]) -> list[StockAudit]:
    """Every stock row (of these skus; all when none) beside its ledger sum and
    the sum of its active holds, read in one statement (one snapshot)."""
    ledger = (
        select(
            stock_movements.c.location_id,
            stock_movements.c.sku,
            func.sum(stock_movements.c.delta).label("total"),
        )
        .group_by(stock_movements.c.location_id, stock_movements.c.sku)
        .subquery("ledger")
    )
    holds = (
        select(
            reservations.c.location_id,
            reservation_lines.c.sku,
            func.sum(reservation_lines.c.quantity).label("total"),
        )
        .select_from(reservation_lines.join(reservations))
        .where(reservations.c.status == ReservationStatus.ACTIVE)
        .group_by(reservations.c.location_id, reservation_lines.c.sku)
        .subquery("holds")
    )
    query = (
        select(
            stock.c.location_id,
            stock.c.sku,
            stock.c.on_hand,
            stock.c.reserved,
            func.coalesce(ledger.c.total, 0).label("ledger_sum"),
            func.coalesce(holds.c.total, 0).label("active_holds"),
        )
        .select_from(
            stock.outerjoin(
                ledger,
                and_(ledger.c.location_id == stock.c.location_id, ledger.c.sku == stock.c.sku),
            ).outerjoin(
                holds,
                and_(holds.c.location_id == stock.c.location_id, holds.c.sku == stock.c.sku),
            )
        )
        .order_by(stock.c.location_id, stock.c.sku)
    )
    if skus:
        query = query.where(stock.c.sku.in_(skus))
    return [
        StockAudit(
            location_id=row.location_id,
            sku=row.sku,
            on_hand=int(row.on_hand),
            reserved=int(row.reserved),
            ledger_sum=int(row.ledger_sum),
            active_holds=int(row.active_holds),
        )
        for row in await session.execute(query)
    ]
