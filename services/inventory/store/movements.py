"""The stock ledger: one append-only entry per change of on hand."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.domain import StockMovement
from services.inventory.store.tables import stock_movements


async def record_movement(session: AsyncSession, movement: StockMovement) -> None:
    await session.execute(
        stock_movements.insert().values(
            location_id=movement.location_id,
            sku=movement.sku,
            reason=movement.reason,
            delta=movement.delta,
            actor=movement.actor,
            reference=movement.reference,
        )
    )
