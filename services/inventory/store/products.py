"""Products: the catalog, and channels' own prices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import Channel
from services.common.money import Money
from services.inventory.domain import Product
from services.inventory.store.tables import product_channel_prices, products


def _product(row: Any, prices: dict[Channel, Money] | None = None) -> Product:
    return Product(
        sku=row.sku,
        name=row.name,
        price=Money(row.price_amount_minor, row.price_currency),
        returnable_days=row.returnable_days,
        active=row.active,
        channel_prices=prices or {},
    )


async def _channel_prices(
    session: AsyncSession, skus: Sequence[str]
) -> dict[str, dict[Channel, Money]]:
    if not skus:
        return {}
    rows = await session.execute(
        select(product_channel_prices).where(product_channel_prices.c.sku.in_(skus))
    )
    found: dict[str, dict[Channel, Money]] = {}
    for row in rows:
        found.setdefault(row.sku, {})[Channel(row.channel)] = Money(
            row.price_amount_minor, row.price_currency
        )
    return found


async def insert_product(session: AsyncSession, product: Product) -> Product | None:
    """The product as stored; None when its sku is taken."""
    row = (
        await session.execute(
            insert(products)
            .values(
                sku=product.sku,
                name=product.name,
                price_amount_minor=product.price.amount_minor,
                price_currency=product.price.currency,
                returnable_days=product.returnable_days,
                active=True,
            )
            .on_conflict_do_nothing(index_elements=["sku"])
            .returning(*products.c)
        )
    ).first()
    return _product(row) if row is not None else None


async def lock_product(session: AsyncSession, sku: str) -> Product | None:
    """The product, its row locked until the unit of work ends."""
    row = (
        await session.execute(select(products).where(products.c.sku == sku).with_for_update())
    ).first()
    if row is None:
        return None
    prices = await _channel_prices(session, [sku])
    return _product(row, prices.get(sku))


async def save_product(session: AsyncSession, product: Product) -> None:
    await session.execute(
        update(products)
        .where(products.c.sku == product.sku)
        .values(
            name=product.name,
            price_amount_minor=product.price.amount_minor,
            price_currency=product.price.currency,
            returnable_days=product.returnable_days,
            active=product.active,
            updated_at=func.now(),
        )
    )


async def set_channel_price(
    session: AsyncSession, sku: str, channel: Channel, price: Money
) -> None:
    statement = insert(product_channel_prices).values(
        sku=sku,
        channel=channel,
        price_amount_minor=price.amount_minor,
        price_currency=price.currency,
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["sku", "channel"],
            set_={
                "price_amount_minor": statement.excluded.price_amount_minor,
                "price_currency": statement.excluded.price_currency,
            },
        )
    )


async def delete_channel_price(session: AsyncSession, sku: str, channel: Channel) -> None:
    await session.execute(
        delete(product_channel_prices).where(
            product_channel_prices.c.sku == sku, product_channel_prices.c.channel == channel
        )
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_products(
    session: AsyncSession, query: str, after_sku: str | None, limit: int
) -> list[Product]:
    """Products whose sku starts with `query` or whose name contains it
    (case-insensitive), by sku, after `after_sku`; at most `limit`."""
    statement = select(products).order_by(products.c.sku).limit(limit)
    if query:
        pattern = _escape_like(query)
        statement = statement.where(
            or_(
                products.c.sku.like(pattern + "%", escape="\\"),
                func.lower(products.c.name).like("%" + pattern.lower() + "%", escape="\\"),
            )
        )
    if after_sku is not None:
        statement = statement.where(products.c.sku > after_sku)
    rows = (await session.execute(statement)).all()
    prices = await _channel_prices(session, [row.sku for row in rows])
    return [_product(row, prices.get(row.sku)) for row in rows]


async def known_skus(session: AsyncSession, skus: Sequence[str]) -> set[str]:
    found = await session.scalars(select(products.c.sku).where(products.c.sku.in_(skus)))
    return set(found)
