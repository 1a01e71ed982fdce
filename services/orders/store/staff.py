"""The associates registry, staff-credit figures and order lookup (issue 14):
the only SQL for them. `PostgresStaffTables` runs each call in its own unit of work."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, exists, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import Channel, OrderStatus, ReturnStatus
from services.common.plain_session import PlainDatabase
from services.orders.domain.associates import Associate, CreditedOrder, CreditedRefund
from services.orders.domain.records import HIDDEN_ORDER_STATUSES, OrderRecord
from services.orders.store import orders as order_rows
from services.orders.store.tables import associates, fulfillments, orders, returns

# Who a sale is credited to, in SQL (domain.associates.credited_associate).
_CREDITED = func.coalesce(
    func.nullif(orders.c.associate_id, ""), func.nullif(orders.c.referral_associate_id, "")
)
_NOT_COUNTED = [str(s) for s in (*HIDDEN_ORDER_STATUSES, OrderStatus.CANCELLED)]


def _associate(row: Any) -> Associate:
    return Associate(
        associate_id=row.associate_id,
        name=row.name,
        store_id=row.store_id,
        active=row.active,
        created_at=row.created_at,
        deactivated_at=row.deactivated_at,
    )


def _period(column: Any, start: datetime | None, end: datetime) -> Any:
    return and_(column >= start, column < end) if start is not None else column < end


# Read by every till sale twice (the gateway's registry check, the orders
# access check): built once with a bound parameter (services/common/db.py).
_ASSOCIATE = select(associates).where(associates.c.associate_id == bindparam("the_associate"))


class PostgresStaffTables:
    def __init__(self, database: PlainDatabase) -> None:
        self._database = database

    async def register(self, associate: Associate) -> tuple[Associate, bool]:
        """(the record, True) when this call inserted it; (the one there, False) else."""
        async with self._database.unit_of_work() as uow:
            inserted = (
                await uow.session.execute(
                    insert(associates)
                    .values(
                        associate_id=associate.associate_id,
                        name=associate.name,
                        store_id=associate.store_id,
                    )
                    .on_conflict_do_nothing(index_elements=[associates.c.associate_id])
                    .returning(associates)
                )
            ).first()
            if inserted is not None:
                await uow.commit()
                return _associate(inserted), True
            row = (
                await uow.session.execute(
                    select(associates).where(associates.c.associate_id == associate.associate_id)
                )
            ).one()
            return _associate(row), False

    async def get(self, associate_id: str) -> Associate | None:
        # Twice in every till sale (the gateway's check, the placement's).
        async with self._database.autocommit() as connection:
            row = (await connection.execute(_ASSOCIATE, {"the_associate": associate_id})).first()
        return None if row is None else _associate(row)

    async def list_associates(
        self, store_id: str, after_id: str | None, limit: int
    ) -> list[Associate]:
        query = select(associates).order_by(associates.c.associate_id).limit(limit)
        if store_id:
            query = query.where(associates.c.store_id == store_id)
        if after_id is not None:
            query = query.where(associates.c.associate_id > after_id)
        async with self._database.unit_of_work() as uow:
            rows = (await uow.session.execute(query)).all()
        return [_associate(row) for row in rows]

    async def deactivate(self, associate_id: str, at: datetime) -> Associate | None:
        """Inactive from `at` (a repeat keeps the first time); None when unknown."""
        async with self._database.unit_of_work() as uow:
            row = (
                await uow.session.execute(
                    associates.update()
                    .where(associates.c.associate_id == associate_id)
                    .values(
                        active=False,
                        deactivated_at=func.coalesce(associates.c.deactivated_at, at),
                        updated_at=func.now(),
                    )
                    .returning(associates)
                )
            ).first()
            await uow.commit()
        return None if row is None else _associate(row)

    async def credited_orders(
        self, associate_ids: list[str], start: datetime | None, end: datetime
    ) -> list[CreditedOrder]:
        if not associate_ids:
            return []
        query = select(
            _CREDITED.label("credited"), orders.c.channel, orders.c.total_minor, orders.c.currency
        ).where(
            _CREDITED.in_(associate_ids),
            orders.c.status.not_in(_NOT_COUNTED),
            _period(orders.c.created_at, start, end),
        )
        async with self._database.unit_of_work() as uow:
            rows = (await uow.session.execute(query)).all()
        return [
            CreditedOrder(r.credited, Channel(r.channel), r.total_minor, r.currency) for r in rows
        ]

    async def credited_refunds(
        self, associate_ids: list[str], start: datetime | None, end: datetime
    ) -> list[CreditedRefund]:
        """Returns refunded in the period (their last change) of credited orders."""
        if not associate_ids:
            return []
        query = (
            select(
                _CREDITED.label("credited"),
                orders.c.channel,
                returns.c.refund_minor,
                returns.c.currency,
            )
            .select_from(returns.join(orders, orders.c.order_id == returns.c.order_id))
            .where(
                _CREDITED.in_(associate_ids),
                returns.c.status == str(ReturnStatus.REFUNDED),
                _period(returns.c.updated_at, start, end),
            )
        )
        async with self._database.unit_of_work() as uow:
            rows = (await uow.session.execute(query)).all()
        return [
            CreditedRefund(r.credited, Channel(r.channel), r.refund_minor, r.currency) for r in rows
        ]

    async def find_orders(
        self,
        customer_id: str,
        status: OrderStatus | None,
        location_id: str,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[OrderRecord]:
        """Visible orders, newest first; `location_id`: placed at or fulfilled from it."""
        query = (
            select(orders.c.order_id)
            .where(orders.c.status.not_in([str(s) for s in HIDDEN_ORDER_STATUSES]))
            .order_by(orders.c.created_at.desc(), orders.c.order_id.desc())
            .limit(limit)
        )
        if customer_id:
            query = query.where(orders.c.customer_id == customer_id)
        if status is not None:
            query = query.where(orders.c.status == str(status))
        if location_id:
            query = query.where(
                or_(
                    orders.c.store_id == location_id,
                    exists().where(
                        fulfillments.c.order_id == orders.c.order_id,
                        fulfillments.c.location_id == location_id,
                    ),
                )
            )
        if after is not None:
            at, order_id = after
            query = query.where(
                or_(
                    orders.c.created_at < at,
                    and_(orders.c.created_at == at, orders.c.order_id < order_id),
                )
            )
        async with self._database.unit_of_work() as uow:
            ids = list((await uow.session.execute(query)).scalars())
            found = [await order_rows.load_order(uow.session, order_id) for order_id in ids]
        return [order for order in found if order is not None]
