"""The stock ledger: one append-only entry per change of on hand."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.domain import StockMovement
from services.inventory.store.tables import stock_movements

# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_INSERT = stock_movements.insert()


async def record_movement(session: AsyncSession, movement: StockMovement) -> None:
    await session.execute(
        _INSERT,
        {
            "location_id": movement.location_id,
            "sku": movement.sku,
            "reason": movement.reason,
            "delta": movement.delta,
            "actor": movement.actor,
            "reference": movement.reference,
        },
    )
