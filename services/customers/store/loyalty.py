"""The loyalty ledger and the balance it keeps: one entry per cause (a
timeline event, a merge), so a retry never moves points twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import LoyaltyReason
from services.customers.domain import LoyaltyEntry
from services.customers.store.tables import customers, loyalty_ledger


def _entry(row: Row[Any]) -> LoyaltyEntry:
    return LoyaltyEntry(
        entry_id=row.entry_id,
        reason=LoyaltyReason(row.reason),
        reference_id=row.reference_id,
        points=row.points,
        balance_after=row.balance_after,
        debt_after=row.debt_after,
        at=row.at,
    )


async def record_loyalty_entry(
    session: AsyncSession, customer_id: str, entry: LoyaltyEntry
) -> bool:
    """Adds the entry once per entry_id and sets the customer's balance and
    debt to the entry's; False (nothing changed) when it was already there."""
    added = (
        await session.execute(
            insert(loyalty_ledger)
            .values(
                entry_id=entry.entry_id,
                customer_id=customer_id,
                reason=entry.reason,
                reference_id=entry.reference_id,
                points=entry.points,
                balance_after=entry.balance_after,
                debt_after=entry.debt_after,
            )
            .on_conflict_do_nothing(index_elements=["entry_id"])
            .returning(loyalty_ledger.c.entry_id)
        )
    ).first()
    if added is None:
        return False
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == customer_id)
        .values(loyalty_points=entry.balance_after, loyalty_debt=entry.debt_after)
    )
    return True


async def loyalty_history(session: AsyncSession, customer_id: str) -> list[LoyaltyEntry]:
    rows = await session.execute(
        select(loyalty_ledger)
        .where(loyalty_ledger.c.customer_id == customer_id)
        .order_by(loyalty_ledger.c.at, loyalty_ledger.c.entry_id)
    )
    return [_entry(row) for row in rows]
