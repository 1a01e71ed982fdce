"""Customers, identities and order/return history.

Identities have their own table with a unique (kind, value), so two concurrent
creates with the same email end up as one customer. A merged duplicate keeps
its row with `merged_into` set: every lookup resolves it to the survivor.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Row, case, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import NotFound, Unavailable
from services.customers import domain
from services.customers.domain import Activity, Customer, Identity, PageCursor, Preferences
from services.customers.store.paging import newest_first
from services.customers.store.tables import customer_activities, customer_identities, customers

_CREATE_ATTEMPTS = 5


class _IdentityTaken(Exception):
    """A concurrent create took one of the identities first."""


async def _owners(session: AsyncSession, identities: list[Identity]) -> dict[Identity, str]:
    table = customer_identities
    rows = await session.execute(
        select(table.c.kind, table.c.value, table.c.customer_id).where(
            tuple_(table.c.kind, table.c.value).in_([(i.kind, i.value) for i in identities])
        )
    )
    return {Identity(row.kind, row.value): row.customer_id for row in rows}


async def _add_identities(
    session: AsyncSession, customer_id: str, identities: list[Identity]
) -> int:
    """Adds the identities nobody holds yet; returns how many were added."""
    if not identities:
        return 0
    added = await session.execute(
        insert(customer_identities)
        .values(
            [{"kind": i.kind, "value": i.value, "customer_id": customer_id} for i in identities]
        )
        .on_conflict_do_nothing(index_elements=["kind", "value"])
        .returning(customer_identities.c.value)
    )
    return len(added.all())


async def create_or_match(
    session: AsyncSession, identities: list[Identity], name: str
) -> tuple[Customer, bool]:
    """The customer holding one of `identities`, or a new one; True when created."""
    for _ in range(_CREATE_ATTEMPTS):
        owners = await _owners(session, identities)
        matched = domain.choose_match(identities, owners)
        if matched is not None:
            await _add_identities(session, matched, [i for i in identities if i not in owners])
            return await get_customer(session, matched), False
        customer_id = str(uuid.uuid4())
        try:
            # A savepoint: if a concurrent create wins an identity, undo ours and match theirs.
            async with session.begin_nested():
                await session.execute(customers.insert().values(customer_id=customer_id, name=name))
                if await _add_identities(session, customer_id, identities) != len(identities):
                    raise _IdentityTaken
        except _IdentityTaken:
            continue
        return await get_customer(session, customer_id), True
    raise Unavailable("the customer's identities kept changing; retry")


def _names(joined: str) -> tuple[str, ...]:
    return tuple(name for name in joined.split(",") if name)


async def get_customer(session: AsyncSession, customer_id: str, *, lock: bool = False) -> Customer:
    """The customer, or the survivor of a merge for a merged duplicate's id."""
    customer_id = await resolve(session, customer_id)
    query = select(customers).where(customers.c.customer_id == customer_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    identities = await session.execute(
        select(customer_identities.c.kind, customer_identities.c.value)
        .where(customer_identities.c.customer_id == customer_id)
        .order_by(customer_identities.c.created_at, customer_identities.c.kind)
    )
    return Customer(
        customer_id=row.customer_id,
        name=row.name,
        identities=[Identity(i.kind, i.value) for i in identities],
        loyalty_points=row.loyalty_points,
        created_at=row.created_at,
        loyalty_debt=row.loyalty_debt,
        erased=row.erased_at is not None,
        preferences=Preferences(_names(row.channels), _names(row.marketing_consent)),
    )


async def resolve(session: AsyncSession, customer_id: str) -> str:
    """The live customer id: the id itself, or the survivor it was merged into."""
    row = (
        await session.execute(
            select(customers.c.customer_id, customers.c.merged_into).where(
                customers.c.customer_id == customer_id
            )
        )
    ).first()
    if row is None:
        raise NotFound(f"customer {customer_id} not found")
    return str(row.merged_into or row.customer_id)


async def require_customer(session: AsyncSession, customer_id: str) -> str:
    """The live id of an existing customer (NotFound otherwise)."""
    return await resolve(session, customer_id)


async def update_preferences(
    session: AsyncSession, customer_id: str, preferences: Preferences
) -> None:
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == customer_id)
        .values(
            channels=",".join(preferences.channels),
            marketing_consent=",".join(preferences.marketing_consent),
        )
    )


def _activity(row: Row[Any]) -> Activity:
    return Activity(
        kind=row.kind,
        reference_id=row.reference_id,
        channel=row.channel,
        status=row.status,
        order_id=row.order_id,
        occurred_at=row.occurred_at,
    )


async def record_activity(session: AsyncSession, customer_id: str, activity: Activity) -> Activity:
    """Upserts by (customer, kind, reference): the status is replaced, the first time kept."""
    table = customer_activities
    statement = insert(table).values(
        customer_id=customer_id,
        kind=activity.kind,
        reference_id=activity.reference_id,
        channel=activity.channel,
        status=activity.status,
        order_id=activity.order_id,
        occurred_at=activity.occurred_at or func.now(),
    )
    excluded = statement.excluded

    def keep_or_fill(column: str) -> object:
        return case((table.c[column] == "", excluded[column]), else_=table.c[column])

    row = (
        await session.execute(
            statement.on_conflict_do_update(
                constraint="uq_customer_activities_reference",
                set_={
                    "status": case((excluded.status == "", table.c.status), else_=excluded.status),
                    "channel": keep_or_fill("channel"),
                    "order_id": keep_or_fill("order_id"),
                    "updated_at": func.now(),
                },
            ).returning(*table.c)
        )
    ).one()
    return _activity(row)


async def list_activities(
    session: AsyncSession, customer_id: str, limit: int, after: PageCursor | None
) -> tuple[list[Activity], PageCursor | None]:
    """Newest first; the cursor of the last row when more remain."""
    table = customer_activities
    page, cursor = await newest_first(
        session, table, customer_id, table.c.occurred_at, table.c.activity_id, limit, after
    )
    return [_activity(row) for row in page], cursor
