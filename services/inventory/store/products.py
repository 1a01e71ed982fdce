"""Products: the catalog."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.money import Money
from services.inventory.domain import Product
from services.inventory.store.tables import products


def _product(row: Any) -> Product:
    return Product(
        sku=row.sku,
        name=row.name,
        price=Money(row.price_amount_minor, row.price_currency),
        returnable_days=row.returnable_days,
    )


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
            )
            .on_conflict_do_nothing(index_elements=["sku"])
            .returning(*products.c)
        )
    ).first()
    return _product(row) if row is not None else None


async def get_products(session: AsyncSession, skus: Sequence[str]) -> dict[str, Product]:
    """The known ones among `skus`, by sku."""
    rows = await session.execute(select(products).where(products.c.sku.in_(skus)))
    return {row.sku: _product(row) for row in rows}


async def known_skus(session: AsyncSession, skus: Sequence[str]) -> set[str]:
    found = await session.scalars(select(products.c.sku).where(products.c.sku.in_(skus)))
    return set(found)
