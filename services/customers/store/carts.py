"""One cart per customer. Every write bumps `version`; a conditional write is a
single `UPDATE ... WHERE version = :seen`, so of two writers that saw the same
version exactly one wins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, func, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import Channel
from services.common.plain_session import SqlSession
from services.customers.domain import Cart, CartLine, version_mismatch
from services.customers.store.tables import cart_checkouts, carts


def _cart(row: Row[Any]) -> Cart:
    return Cart(
        customer_id=row.customer_id,
        lines=[CartLine(line["sku"], int(line["quantity"])) for line in row.lines],
        channel=Channel.parse(row.channel),
        version=row.version,
        updated_at=row.updated_at,
    )


def _lines(lines: list[CartLine]) -> list[dict[str, Any]]:
    return [{"sku": line.sku, "quantity": line.quantity} for line in lines]


_CART = select(carts).where(carts.c.customer_id == bindparam("the_customer"))
_LOCKED_CART = _CART.with_for_update()
_CHECKOUT = (
    insert(cart_checkouts)
    .values(order_id=bindparam("the_order"), customer_id=bindparam("the_customer"))
    .on_conflict_do_nothing(index_elements=["order_id"])
    .returning(cart_checkouts.c.order_id)
)


async def get_cart(session: SqlSession, customer_id: str, *, lock: bool = False) -> Cart:
    """The cart, or an empty one at version 0 before the first write."""
    by_customer = {"the_customer": customer_id}
    row = (await session.execute(_LOCKED_CART if lock else _CART, by_customer)).first()
    return _cart(row) if row is not None else Cart(customer_id=customer_id)


async def put_cart(
    session: SqlSession,
    customer_id: str,
    lines: list[CartLine],
    channel: Channel | None,
    expected_version: int | None,
) -> Cart:
    """Replaces the lines; with `expected_version`, only if nobody wrote since."""
    values = {"lines": _lines(lines), "channel": channel or "", "updated_at": func.now()}
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
        raise version_mismatch(expected_version, current)
    return _cart(found)


async def delete_cart(session: SqlSession, customer_id: str) -> None:
    await session.execute(carts.delete().where(carts.c.customer_id == customer_id))


async def record_checkout(session: SqlSession, customer_id: str, order_id: str) -> bool:
    """Notes that the order's lines leave the cart; False when it was noted before."""
    first_time = (
        await session.execute(_CHECKOUT, {"the_order": order_id, "the_customer": customer_id})
    ).first()
    return first_time is not None
