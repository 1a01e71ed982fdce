"""Merging two customers into one, erasing a customer, and what an export reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import BusinessRuleViolation
from services.customers import domain
from services.customers.domain import Cart, MergeRecord
from services.customers.store.carts import delete_cart, get_cart, put_cart
from services.customers.store.customers import resolve
from services.customers.store.tables import (
    customer_activities,
    customer_identities,
    customer_merges,
    customers,
    loyalty_ledger,
    notifications,
    timeline_events,
)


@dataclass(frozen=True)
class MergeOutcome:
    merge: MergeRecord
    # The survivor's cart when the merge changed it (the reminder must hear of it).
    cart: Cart | None


def _refuse(reason: str, message: str, **metadata: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(reason, message, metadata)


async def _merge_record(session: AsyncSession, duplicate_id: str) -> MergeRecord | None:
    row = (
        await session.execute(
            select(customer_merges).where(customer_merges.c.duplicate_id == duplicate_id)
        )
    ).first()
    if row is None:
        return None
    return MergeRecord(row.merge_id, row.survivor_id, row.duplicate_id, row.actor, row.created_at)


async def merge(
    session: AsyncSession, survivor_ref: str, duplicate_id: str, actor: str
) -> MergeOutcome:
    """Moves everything of `duplicate_id` to the survivor. Asking again for the
    same pair returns the first merge's record and changes nothing."""
    survivor_id = await resolve(session, survivor_ref)
    await resolve(session, duplicate_id)  # NotFound for an unknown duplicate
    done = await _merge_record(session, duplicate_id)
    if done is not None:
        if done.survivor_id == survivor_id:
            return MergeOutcome(done, None)
        raise _refuse(
            domain.ALREADY_MERGED,
            f"customer {duplicate_id} was already merged into another customer",
            duplicate_customer_id=duplicate_id,
        )
    if survivor_id == duplicate_id:
        raise _refuse(
            domain.MERGE_INTO_ITSELF,
            "a customer cannot be merged into itself",
            customer_id=survivor_id,
        )
    # Both rows locked in id order, so two crossing merges cannot deadlock.
    rows = {
        row.customer_id: row
        for row in await session.execute(
            select(customers)
            .where(customers.c.customer_id.in_([survivor_id, duplicate_id]))
            .order_by(customers.c.customer_id)
            .with_for_update()
        )
    }
    survivor, duplicate = rows[survivor_id], rows[duplicate_id]
    for row in (survivor, duplicate):
        if row.erased_at is not None:
            raise _refuse(
                domain.CUSTOMER_ERASED,
                f"customer {row.customer_id} was erased",
                customer_id=row.customer_id,
            )
    merge_id = str(uuid.uuid4())
    await _move_history(session, survivor_id, duplicate_id)
    await _move_points(session, merge_id, survivor, duplicate)
    cart = await _move_cart(session, survivor_id, duplicate_id)
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == survivor_id)
        .values(name=func.coalesce(func.nullif(customers.c.name, ""), duplicate.name))
    )
    # The duplicate keeps no personal data of its own: it is only an alias now.
    await session.execute(
        customers.update()
        .where(
            (customers.c.customer_id == duplicate_id) | (customers.c.merged_into == duplicate_id)
        )
        .values(merged_into=survivor_id, name="", loyalty_points=0, loyalty_debt=0)
    )
    await session.execute(
        customer_merges.insert().values(
            merge_id=merge_id, survivor_id=survivor_id, duplicate_id=duplicate_id, actor=actor
        )
    )
    record = await _merge_record(session, duplicate_id)
    assert record is not None
    return MergeOutcome(record, cart)


async def _move_history(session: AsyncSession, survivor_id: str, duplicate_id: str) -> None:
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


async def _move_points(
    session: AsyncSession, merge_id: str, survivor: Row[Any], duplicate: Row[Any]
) -> None:
    moved = duplicate.loyalty_points - duplicate.loyalty_debt
    if duplicate.loyalty_points == 0 and duplicate.loyalty_debt == 0:
        return
    balance, debt = domain.apply_points(
        *domain.apply_points(
            survivor.loyalty_points, survivor.loyalty_debt, duplicate.loyalty_points
        ),
        -duplicate.loyalty_debt,
    )
    await session.execute(
        loyalty_ledger.insert().values(
            entry_id=f"merge/{merge_id}",
            customer_id=survivor.customer_id,
            reason=domain.MERGE,
            reference_id=duplicate.customer_id,
            points=moved,
            balance_after=balance,
            debt_after=debt,
        )
    )
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == survivor.customer_id)
        .values(loyalty_points=balance, loyalty_debt=debt)
    )


async def _move_cart(session: AsyncSession, survivor_id: str, duplicate_id: str) -> Cart | None:
    theirs = await get_cart(session, duplicate_id, lock=True)
    if not theirs.lines:
        await delete_cart(session, duplicate_id)
        return None
    ours = await get_cart(session, survivor_id, lock=True)
    lines = domain.merge_cart_lines(ours.lines, theirs.lines)
    await delete_cart(session, duplicate_id)
    return await put_cart(session, survivor_id, lines, ours.channel or theirs.channel, None)


async def erase(session: AsyncSession, customer_ref: str) -> str:
    """Removes name, identities, preferences, cart and messages; keeps the
    pseudonymous id with its orders, returns and points. Returns the id erased."""
    customer_id = await resolve(session, customer_ref)
    await session.execute(
        select(customers.c.customer_id)
        .where(customers.c.customer_id == customer_id)
        .with_for_update()
    )
    await session.execute(
        customer_identities.delete().where(customer_identities.c.customer_id == customer_id)
    )
    await session.execute(notifications.delete().where(notifications.c.customer_id == customer_id))
    await delete_cart(session, customer_id)
    await session.execute(
        customers.update()
        .where((customers.c.customer_id == customer_id) | (customers.c.merged_into == customer_id))
        .values(
            name="",
            channels="",
            marketing_consent="",
            erased_at=func.coalesce(customers.c.erased_at, func.now()),
        )
    )
    return customer_id


async def merges_into(session: AsyncSession, survivor_id: str) -> list[MergeRecord]:
    rows = await session.execute(
        select(customer_merges)
        .where(customer_merges.c.survivor_id == survivor_id)
        .order_by(customer_merges.c.created_at)
    )
    return [
        MergeRecord(r.merge_id, r.survivor_id, r.duplicate_id, r.actor, r.created_at) for r in rows
    ]


async def aliases_of(session: AsyncSession, customer_id: str) -> list[str]:
    rows = await session.execute(
        select(customers.c.customer_id)
        .where(customers.c.merged_into == customer_id)
        .order_by(customers.c.customer_id)
    )
    return [str(row.customer_id) for row in rows]
