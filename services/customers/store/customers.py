"""Customers and their identities.

Identities have their own table with a unique (kind, value), so two concurrent
creates with the same email end up as one customer. A merged duplicate keeps
its row with `merged_into` set: every lookup resolves it to the survivor.
"""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from omni.words import ContactChannel, IdentityKind
from services.common.errors import NotFound
from services.common.plain_session import SqlSession
from services.customers.domain import Customer, Identity, Preferences
from services.customers.store.tables import carts, customer_identities, customers, notifications


def _missing(customer_id: str) -> NotFound:
    return NotFound(
        f"customer {customer_id} not found", resource_type="customer", ids=[customer_id]
    )


# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_RESOLVE = select(customers.c.customer_id, customers.c.merged_into).where(
    customers.c.customer_id == bindparam("the_customer")
)
_CUSTOMER = select(customers).where(customers.c.customer_id == bindparam("the_customer"))
_LOCK_CUSTOMER = _CUSTOMER.with_for_update()
_IDENTITIES = (
    select(customer_identities.c.kind, customer_identities.c.value)
    .where(customer_identities.c.customer_id == bindparam("the_customer"))
    .order_by(customer_identities.c.created_at, customer_identities.c.kind)
)


async def resolve(session: SqlSession, customer_id: str) -> str:
    """The live customer id: the id itself, or the survivor it was merged into."""
    row = (await session.execute(_RESOLVE, {"the_customer": customer_id})).first()
    if row is None:
        raise _missing(customer_id)
    return str(row.merged_into or row.customer_id)


def _channels(joined: str) -> tuple[ContactChannel, ...]:
    return tuple(ContactChannel(name) for name in joined.split(",") if name)


async def get_customer(session: SqlSession, customer_id: str, *, lock: bool = False) -> Customer:
    """The customer, or the survivor of a merge for a merged duplicate's id."""
    customer_id = await resolve(session, customer_id)
    by_id = {"the_customer": customer_id}
    row = (await session.execute(_LOCK_CUSTOMER if lock else _CUSTOMER, by_id)).first()
    if row is None:
        raise _missing(customer_id)
    identities = await session.execute(_IDENTITIES, by_id)
    return Customer(
        customer_id=row.customer_id,
        name=row.name,
        identities=[Identity(IdentityKind(i.kind), i.value) for i in identities],
        loyalty_points=row.loyalty_points,
        created_at=row.created_at,
        loyalty_debt=row.loyalty_debt,
        erased=row.erased_at is not None,
        preferences=Preferences(_channels(row.channels), _channels(row.marketing_consent)),
    )


async def identity_owners(session: SqlSession, identities: list[Identity]) -> dict[Identity, str]:
    """Who already holds each of `identities` (those nobody holds are left out)."""
    table = customer_identities
    rows = await session.execute(
        select(table.c.kind, table.c.value, table.c.customer_id).where(
            tuple_(table.c.kind, table.c.value).in_([(i.kind, i.value) for i in identities])
        )
    )
    return {Identity(IdentityKind(row.kind), row.value): row.customer_id for row in rows}


async def add_identities(session: SqlSession, customer_id: str, identities: list[Identity]) -> int:
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


async def insert_customer(
    session: SqlSession, customer_id: str, name: str, identities: list[Identity]
) -> bool:
    """A new customer holding `identities`; False (and nothing written) when a
    concurrent create took one of them first."""
    savepoint = await session.begin_nested()
    await session.execute(customers.insert().values(customer_id=customer_id, name=name))
    if await add_identities(session, customer_id, identities) != len(identities):
        await savepoint.rollback()
        return False
    await savepoint.commit()
    return True


async def update_preferences(
    session: SqlSession, customer_id: str, preferences: Preferences
) -> None:
    await session.execute(
        customers.update()
        .where(customers.c.customer_id == customer_id)
        .values(
            channels=",".join(preferences.channels),
            marketing_consent=",".join(preferences.marketing_consent),
        )
    )


async def erase_customer(session: SqlSession, customer_id: str) -> None:
    """Removes name, identities, preferences, cart and messages; keeps the
    pseudonymous id with its orders, returns and points."""
    await session.execute(
        select(customers.c.customer_id)
        .where(customers.c.customer_id == customer_id)
        .with_for_update()
    )
    for table in (customer_identities, notifications, carts):
        await session.execute(table.delete().where(table.c.customer_id == customer_id))
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


async def aliases_of(session: SqlSession, customer_id: str) -> list[str]:
    """Earlier ids merged into this customer."""
    rows = await session.execute(
        select(customers.c.customer_id)
        .where(customers.c.merged_into == customer_id)
        .order_by(customers.c.customer_id)
    )
    return [str(row.customer_id) for row in rows]
