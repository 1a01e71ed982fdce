"""Merging a duplicate customer into a survivor: the audit records, moving the
duplicate's history over, and turning the duplicate into an alias."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, and_, exists, select

from services.common.plain_session import SqlSession
from services.customers.domain import MergeRecord
from services.customers.store.tables import (
    customer_activities,
    customer_identities,
    customer_merges,
    customers,
    loyalty_ledger,
    notifications,
    timeline_events,
)


def _merge(row: Row[Any]) -> MergeRecord:
    return MergeRecord(row.merge_id, row.survivor_id, row.duplicate_id, row.actor, row.created_at)


async def merge_record(session: SqlSession, duplicate_id: str) -> MergeRecord | None:
    """The merge that absorbed `duplicate_id`, if any."""
    row = (
        await session.execute(
            select(customer_merges).where(customer_merges.c.duplicate_id == duplicate_id)
        )
    ).first()
    return _merge(row) if row is not None else None


async def merges_into(session: SqlSession, survivor_id: str) -> list[MergeRecord]:
    rows = await session.execute(
        select(customer_merges)
        .where(customer_merges.c.survivor_id == survivor_id)
        .order_by(customer_merges.c.created_at)
    )
    return [_merge(row) for row in rows]


async def move_history(session: SqlSession, survivor_id: str, duplicate_id: str) -> None:
    """The duplicate's identities, timeline, messages, ledger and activities
    become the survivor's."""
    for table in (customer_identities, timeline_events, notifications, loyalty_ledger):
        await session.execute(
            table.update()
            .where(table.c.customer_id == duplicate_id)
            .values(customer_id=survivor_id)
        )
    # An order on both histories (it cannot be, but a retry may race) stays once.
    activities = customer_activities
    theirs = activities.alias("theirs")
    await session.execute(
        activities.update()
        .where(
            activities.c.customer_id == duplicate_id,
            ~exists().where(
                and_(
                    theirs.c.customer_id == survivor_id,
                    theirs.c.kind == activities.c.kind,
                    theirs.c.reference_id == activities.c.reference_id,
                )
            ),
        )
        .values(customer_id=survivor_id)
    )
    await session.execute(activities.delete().where(activities.c.customer_id == duplicate_id))


async def absorb(
    session: SqlSession, merge_id: str, survivor_id: str, duplicate_id: str, name: str, actor: str
) -> MergeRecord:
    """Gives the survivor `name`, makes the duplicate (and its own aliases) an
    alias of the survivor without personal data, and records the merge."""
    await session.execute(
        customers.update().where(customers.c.customer_id == survivor_id).values(name=name)
    )
    await session.execute(
        customers.update()
        .where(
            (customers.c.customer_id == duplicate_id) | (customers.c.merged_into == duplicate_id)
        )
        .values(merged_into=survivor_id, name="", loyalty_points=0, loyalty_debt=0)
    )
    row = (
        await session.execute(
            customer_merges.insert()
            .values(
                merge_id=merge_id, survivor_id=survivor_id, duplicate_id=duplicate_id, actor=actor
            )
            .returning(*customer_merges.c)
        )
    ).one()
    return _merge(row)
