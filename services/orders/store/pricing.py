"""The pricing tables: promotions, tax regions, shipping methods (the only SQL
for them). `PostgresPricingTables` runs each read or write in its own unit of
work; it is also the default TaxProvider (the table of rates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, and_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import Channel, PromotionKind
from services.common.plain_session import PlainDatabase
from services.orders.domain.pricing import Promotion, ShippingMethod, TaxRate
from services.orders.domain.records import TaxRegionRecord
from services.orders.store.tables import promotions, shipping_methods, tax_regions


def _promotion(row: Any) -> Promotion:
    return Promotion(
        promotion_id=row.promotion_id,
        name=row.name,
        kind=PromotionKind(row.kind),
        value=row.value,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        currency=row.currency,
        skus=frozenset(row.skus),
        channels=frozenset(Channel(c) for c in row.channels),
        code=row.code,
        min_subtotal_minor=row.min_subtotal_minor,
        min_subtotal_currency=row.min_subtotal_currency,
        ended_at=row.ended_at,
    )


def _shipping(row: Any) -> ShippingMethod:
    return ShippingMethod(
        method_id=row.method_id,
        name=row.name,
        price_minor=row.price_minor,
        currency=row.currency,
        countries=frozenset(row.countries),
        free_over_minor=row.free_over_minor,
    )


# The promotions read of every quote and placement, built once with bound
# parameters: a statement built per call is walked again for its cache key,
# which cost as much as executing it (services/common/db.py).
_NOW = bindparam("the_now", type_=DateTime(timezone=True))
_LIVE_WHERE = and_(
    promotions.c.code == "",
    promotions.c.starts_at <= bindparam("starting_by", type_=DateTime(timezone=True)),
    promotions.c.ends_at > _NOW,
    or_(promotions.c.ended_at.is_(None), promotions.c.ended_at > _NOW),
)
_LIVE = select(promotions).where(_LIVE_WHERE)
_LIVE_OR_CODED = select(promotions).where(
    or_(_LIVE_WHERE, promotions.c.code == bindparam("the_code"))
)


class PostgresPricingTables:
    def __init__(self, database: PlainDatabase) -> None:
        self._database = database

    async def insert_promotion(self, promotion: Promotion) -> Promotion:
        async with self._database.unit_of_work() as uow:
            row = (
                await uow.session.execute(
                    insert(promotions)
                    .values(
                        promotion_id=promotion.promotion_id,
                        name=promotion.name,
                        kind=promotion.kind,
                        value=promotion.value,
                        currency=promotion.currency,
                        skus=sorted(promotion.skus),
                        channels=sorted(promotion.channels),
                        code=promotion.code,
                        min_subtotal_minor=promotion.min_subtotal_minor,
                        min_subtotal_currency=promotion.min_subtotal_currency,
                        starts_at=promotion.starts_at,
                        ends_at=promotion.ends_at,
                    )
                    .on_conflict_do_nothing(index_elements=["promotion_id"])
                    .returning(*promotions.c)
                )
            ).first()
            if row is None:
                # The id was taken (a repeat, or the same key at once): the
                # stored promotion is the answer, not the one asked for.
                row = (
                    await uow.session.execute(
                        select(promotions).where(
                            promotions.c.promotion_id == promotion.promotion_id
                        )
                    )
                ).first()
            await uow.commit()
        return _promotion(row) if row is not None else promotion

    async def list_promotions(self, after_id: str | None, limit: int) -> list[Promotion]:
        query = select(promotions).order_by(promotions.c.promotion_id).limit(limit)
        if after_id is not None:
            query = query.where(promotions.c.promotion_id > after_id)
        async with self._database.unit_of_work() as uow:
            rows = (await uow.session.execute(query)).all()
        return [_promotion(row) for row in rows]

    async def end_promotion(self, promotion_id: str, at: datetime) -> Promotion | None:
        """Sets ended_at once (a repeat keeps the first); None when unknown."""
        async with self._database.unit_of_work() as uow:
            row = (
                await uow.session.execute(
                    promotions.update()
                    .where(promotions.c.promotion_id == promotion_id)
                    .values(
                        ended_at=func.coalesce(promotions.c.ended_at, at), updated_at=func.now()
                    )
                    .returning(*promotions.c)
                )
            ).first()
            await uow.commit()
        return _promotion(row) if row is not None else None

    async def promotions_for(
        self, now: datetime, code: str, starting_by: datetime | None = None
    ) -> list[Promotion]:
        """Automatic promotions live at `now` (with `starting_by`: also those
        starting by then, for a cache kept that long), and every promotion with
        `code` (live or not, so a refusal can say why)."""
        bound = {"the_now": now, "starting_by": starting_by or now}
        async with self._database.autocommit() as connection:
            if code:
                found = await connection.execute(_LIVE_OR_CODED, {**bound, "the_code": code})
            else:
                found = await connection.execute(_LIVE, bound)
            rows = found.all()
        return [_promotion(row) for row in rows]

    async def put_tax_region(self, region: TaxRegionRecord) -> TaxRegionRecord:
        statement = insert(tax_regions).values(
            region=region.region, name=region.name, rate_bps=region.rate_bps
        )
        async with self._database.unit_of_work() as uow:
            await uow.session.execute(
                statement.on_conflict_do_update(
                    index_elements=["region"],
                    set_={
                        "name": statement.excluded.name,
                        "rate_bps": statement.excluded.rate_bps,
                        "updated_at": func.now(),
                    },
                )
            )
            await uow.commit()
        return region

    async def rate_for(self, region: str) -> TaxRate:
        """The TaxProvider of the table: a region without a row is taxed 0."""
        if not region:
            return TaxRate("", 0, found=False)
        async with self._database.unit_of_work() as uow:
            rate = await uow.session.scalar(
                select(tax_regions.c.rate_bps).where(tax_regions.c.region == region)
            )
        return TaxRate(region, 0, found=False) if rate is None else TaxRate(region, rate)

    async def insert_shipping_method(self, method: ShippingMethod) -> bool:
        """False when the id is taken."""
        async with self._database.unit_of_work() as uow:
            row = (
                await uow.session.execute(
                    insert(shipping_methods)
                    .values(
                        method_id=method.method_id,
                        name=method.name,
                        price_minor=method.price_minor,
                        currency=method.currency,
                        free_over_minor=method.free_over_minor,
                        countries=sorted(method.countries),
                    )
                    .on_conflict_do_nothing(index_elements=["method_id"])
                    .returning(shipping_methods.c.method_id)
                )
            ).first()
            await uow.commit()
        return row is not None

    async def shipping_methods(self) -> list[ShippingMethod]:
        async with self._database.unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    select(shipping_methods).order_by(shipping_methods.c.method_id)
                )
            ).all()
        return [_shipping(row) for row in rows]
