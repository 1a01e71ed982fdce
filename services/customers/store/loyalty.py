"""The loyalty ledger and the balance it keeps: one entry per cause (a
timeline event, a merge), so a retry never moves points twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import LoyaltyReason
from services.common.plain_session import SqlSession
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


# On every placed order with a customer: built once with bound parameters.
_ADD_ENTRY = (
    insert(loyalty_ledger)
    .values(
        entry_id=bindparam("the_entry"),
        customer_id=bindparam("the_customer"),
        reason=bindparam("new_reason"),
        reference_id=bindparam("new_reference"),
        points=bindparam("new_points"),
        balance_after=bindparam("new_balance"),
        debt_after=bindparam("new_debt"),
    )
    .on_conflict_do_nothing(index_elements=["entry_id"])
    .returning(loyalty_ledger.c.entry_id)
)
_SET_BALANCE = (
    customers.update()
    .where(customers.c.customer_id == bindparam("the_customer"))
    .values(loyalty_points=bindparam("new_balance"), loyalty_debt=bindparam("new_debt"))
)


async def record_loyalty_entry(session: SqlSession, customer_id: str, entry: LoyaltyEntry) -> bool:
    """Adds the entry once per entry_id and sets the customer's balance and
    debt to the entry's; False (nothing changed) when it was already there."""
    balance = {
        "the_customer": customer_id,
        "new_balance": entry.balance_after,
        "new_debt": entry.debt_after,
    }
    entry_values = {
        **balance,
        "the_entry": entry.entry_id,
        "new_reason": entry.reason,
        "new_reference": entry.reference_id,
        "new_points": entry.points,
    }
    added = (await session.execute(_ADD_ENTRY, entry_values)).first()
    if added is None:
        return False
    await session.execute(_SET_BALANCE, balance)
    return True


async def loyalty_history(session: SqlSession, customer_id: str) -> list[LoyaltyEntry]:
    rows = await session.execute(
        select(loyalty_ledger)
        .where(loyalty_ledger.c.customer_id == customer_id)
        .order_by(loyalty_ledger.c.at, loyalty_ledger.c.entry_id)
    )
    return [_entry(row) for row in rows]
