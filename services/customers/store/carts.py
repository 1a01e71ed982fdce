"""One cart per customer. Every write bumps `version`; a conditional write is a
single `UPDATE ... WHERE version = :seen`, so of two writers that saw the same
version exactly one wins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Conflict
from services.customers import domain
from services.customers.domain import Cart, CartLine
from services.customers.store.tables import cart_checkouts, carts

CART_VERSION_MISMATCH = "CART_VERSION_MISMATCH"


def _cart(row: Row[Any]) -> Cart:
    return Cart(
        customer_id=row.customer_id,
        lines=[CartLine(line["sku"], int(line["quantity"])) for line in row.lines],
        channel=row.channel,
        version=row.version,
        updated_at=row.updated_at,
    )


def _lines(lines: list[CartLine]) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "quantity": line.quantity} for line in lines]


async def get_cart(session: AsyncSession, customer_id: str, *, lock: bool = False) -> Cart:
    """The cart, or an empty one at version 0 before the first write."""
    query = select(carts).where(carts.c.customer_id == customer_id)
    row = (await session.execute(query.with_for_update() if lock else query)).first()
    return _cart(row) if row is not None else Cart(customer_id=customer_id)


async def put_cart(
    session: AsyncSession,
    customer_id: str,
    lines: list[CartLine],
    channel: str,
    expected_version: int | None,
) -> Cart:
    """Replaces the lines; with `expected_version`, only if nobody wrote since."""
    values = {"lines": _lines(lines), "channel": channel, "updated_at": func.now()}
    if expected_version is None:
        statement = insert(carts).values(customer_id=customer_id, version=1, **values)
        row = (
            await session.execute(
                statement.on_conflict_do_update(
                    index_elements=["customer_id"],
                    set_={**values, "version": carts.c.version + 1},
                ).returning(*carts.c)
            )
        ).one()
        return _cart(row)
    if expected_version == 0:
        # Nobody has written yet: the first insert wins, a second is stale.
        found = (
            await session.execute(
                insert(carts)
                .values(customer_id=customer_id, version=1, **values)
                .on_conflict_do_nothing(index_elements=["customer_id"])
                .returning(*carts.c)
            )
        ).first()
    else:
        found = (
            await session.execute(
                carts.update()
                .where(carts.c.customer_id == customer_id, carts.c.version == expected_version)
                .values(version=carts.c.version + 1, **values)
                .returning(*carts.c)
            )
        ).first()
    if found is None:
        current = await get_cart(session, customer_id)
        raise Conflict(
            CART_VERSION_MISMATCH,
            f"the cart changed since version {expected_version}; it is at {current.version}",
            {"expected_version": str(expected_version), "current_version": str(current.version)},
        )
    return _cart(found)


async def delete_cart(session: AsyncSession, customer_id: str) -> None:
    await session.execute(carts.delete().where(carts.c.customer_id == customer_id))


async def checkout(
    session: AsyncSession, customer_id: str, order_id: str, ordered_skus: list[str]
) -> tuple[Cart, bool]:
    """Takes the order's skus out of the cart, once per order. (the cart,
    True when it changed); a repeat leaves a line put back since alone."""
    first_time = (
        await session.execute(
            insert(cart_checkouts)
            .values(order_id=order_id, customer_id=customer_id)
            .on_conflict_do_nothing(index_elements=["order_id"])
            .returning(cart_checkouts.c.order_id)
        )
    ).first()
    current = await get_cart(session, customer_id, lock=True)
    if first_time is None:
        return current, False
    lines = domain.without_ordered(current.lines, ordered_skus)
    if lines == current.lines:
        return current, False
    return await put_cart(session, customer_id, lines, current.channel, None), True
