"""Locations: stores and warehouses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import LocationKind
from services.inventory.domain import GeoPoint, Location
from services.inventory.store.tables import locations


def location_from_row(row: Any) -> Location:
    """A Location from any row carrying the locations columns by name."""
    return Location(
        location_id=row.location_id,
        name=row.name,
        kind=LocationKind(row.kind),
        point=GeoPoint(row.lat, row.lon),
        pickup_enabled=row.pickup_enabled,
        ship_from_enabled=row.ship_from_enabled,
        daily_order_capacity=row.daily_order_capacity,
        pickup_window_hours=row.pickup_window_hours,
        pick_sla_minutes=row.pick_sla_minutes,
        tax_region=row.tax_region,
        timezone=row.timezone,
        curbside_sla_minutes=row.curbside_sla_minutes,
    )


async def insert_location(session: AsyncSession, location: Location) -> Location | None:
    """The location as stored; None when its id is taken."""
    row = (
        await session.execute(
            insert(locations)
            .values(
                location_id=location.location_id,
                name=location.name,
                kind=location.kind,
                lat=location.point.lat,
                lon=location.point.lon,
                pickup_enabled=location.pickup_enabled,
                ship_from_enabled=location.ship_from_enabled,
                daily_order_capacity=location.daily_order_capacity,
                tax_region=location.tax_region,
                pickup_window_hours=location.pickup_window_hours,
                pick_sla_minutes=location.pick_sla_minutes,
                timezone=location.timezone,
                curbside_sla_minutes=location.curbside_sla_minutes,
            )
            .on_conflict_do_nothing(index_elements=["location_id"])
            .returning(*locations.c)
        )
    ).first()
    return location_from_row(row) if row is not None else None


async def lock_location(session: AsyncSession, location_id: str) -> Location | None:
    """The location, its row locked until the unit of work ends."""
    row = (
        await session.execute(
            select(locations).where(locations.c.location_id == location_id).with_for_update()
        )
    ).first()
    return location_from_row(row) if row is not None else None


async def save_location(session: AsyncSession, location: Location) -> None:
    await session.execute(
        update(locations)
        .where(locations.c.location_id == location.location_id)
        .values(
            name=location.name,
            kind=location.kind,
            lat=location.point.lat,
            lon=location.point.lon,
            pickup_enabled=location.pickup_enabled,
            ship_from_enabled=location.ship_from_enabled,
            daily_order_capacity=location.daily_order_capacity,
            tax_region=location.tax_region,
            pickup_window_hours=location.pickup_window_hours,
            pick_sla_minutes=location.pick_sla_minutes,
            timezone=location.timezone,
            curbside_sla_minutes=location.curbside_sla_minutes,
        )
    )


async def known_location_ids(session: AsyncSession, location_ids: Sequence[str]) -> set[str]:
    found = await session.scalars(
        select(locations.c.location_id).where(locations.c.location_id.in_(location_ids))
    )
    return set(found)


async def list_locations(session: AsyncSession, *, pickup_enabled_only: bool) -> list[Location]:
    query = select(locations)
    if pickup_enabled_only:
        query = query.where(locations.c.pickup_enabled)
    return [location_from_row(row) for row in await session.execute(query)]
