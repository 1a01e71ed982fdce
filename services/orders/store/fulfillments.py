"""An order's fulfillments: written by the journeys' progress, read by the store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row

from omni.words import FulfillmentStatus, FulfillmentType
from services.common.plain_session import SqlSession
from services.orders.domain.records import (
    HIDDEN_ORDER_STATUSES,
    FulfillmentLineRecord,
    FulfillmentRecord,
)
from services.orders.store.tables import fulfillments, orders


def lines_json(lines: list[FulfillmentLineRecord]) -> list[dict[str, Any]]:
    return [
        {"sku": line.sku, "quantity": line.quantity, "quantity_picked": line.quantity_picked}
        for line in lines
    ]


def lines_of(data: list[dict[str, Any]]) -> list[FulfillmentLineRecord]:
    return [
        FulfillmentLineRecord(
            sku=str(item["sku"]),
            quantity=int(item.get("quantity", 0)),
            quantity_picked=int(item.get("quantity_picked", 0)),
        )
        for item in data
    ]


def fulfillment_of(row: Row[Any]) -> FulfillmentRecord:
    return FulfillmentRecord(
        fulfillment_id=row.fulfillment_id,
        order_id=row.order_id,
        type=FulfillmentType(row.type),
        location_id=row.location_id,
        status=FulfillmentStatus(row.status),
        lines=lines_of(row.lines),
        pickup_code=row.pickup_code,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        updated_at=row.updated_at,
        arrived_at=row.arrived_at,
        arrival_note=row.arrival_note,
        overdue=row.overdue,
    )


# Built once with bound parameters: a statement built per call is walked again
# for its cache key, which cost as much as executing it (services/common/db.py).
_OF_ORDER = (
    select(fulfillments)
    .where(fulfillments.c.order_id == bindparam("the_order"))
    .order_by(fulfillments.c.created_at, fulfillments.c.fulfillment_id)
)


async def of_order(session: SqlSession, order_id: str) -> list[FulfillmentRecord]:
    rows = await session.execute(_OF_ORDER, {"the_order": order_id})
    return [fulfillment_of(row) for row in rows]


def _unless_empty(new: Any, old: Any) -> Any:
    """The new text, or the old where the new one is empty."""
    return func.coalesce(func.nullif(new, ""), old)


def _upsert() -> Any:
    """Creates or replaces by id; an empty code, tracking or line list keeps the old."""
    new = insert(fulfillments).excluded
    return insert(fulfillments).on_conflict_do_update(
        index_elements=["fulfillment_id"],
        set_={
            "status": new.status,
            "location_id": _unless_empty(new.location_id, fulfillments.c.location_id),
            "lines": case(
                (func.jsonb_array_length(new.lines) > 0, new.lines),
                else_=fulfillments.c.lines,
            ),
            "pickup_code": _unless_empty(new.pickup_code, fulfillments.c.pickup_code),
            "carrier": _unless_empty(new.carrier, fulfillments.c.carrier),
            "tracking_number": _unless_empty(new.tracking_number, fulfillments.c.tracking_number),
            "overdue": new.overdue,
            "updated_at": func.now(),
        },
        where=fulfillments.c.order_id == new.order_id,
    )


_UPSERT = _upsert()


async def upsert_fulfillment(session: SqlSession, fulfillment: FulfillmentRecord) -> None:
    """Creates or replaces by id; an empty code, tracking or line list keeps the old."""
    await session.execute(
        _UPSERT,
        {
            "fulfillment_id": fulfillment.fulfillment_id,
            "order_id": fulfillment.order_id,
            "type": fulfillment.type,
            "location_id": fulfillment.location_id,
            "status": fulfillment.status,
            "lines": lines_json(fulfillment.lines),
            "pickup_code": fulfillment.pickup_code,
            "carrier": fulfillment.carrier,
            "tracking_number": fulfillment.tracking_number,
            "overdue": fulfillment.overdue,
        },
    )


# Read by every store action and progress record of a journey: built once.
_VISIBLE_FULFILLMENT = (
    select(fulfillments)
    .join(orders, orders.c.order_id == fulfillments.c.order_id)
    .where(
        fulfillments.c.fulfillment_id == bindparam("the_fulfillment"),
        orders.c.status.not_in(sorted(HIDDEN_ORDER_STATUSES)),
    )
)


async def load_fulfillment(session: SqlSession, fulfillment_id: str) -> FulfillmentRecord | None:
    """A fulfillment of a visible order."""
    row = (await session.execute(_VISIBLE_FULFILLMENT, {"the_fulfillment": fulfillment_id})).first()
    return None if row is None else fulfillment_of(row)


async def mark_customer_arrived(
    session: SqlSession, fulfillment_id: str, note: str, at: datetime
) -> bool:
    """Records a waiting pickup's curbside arrival once; False when it was
    recorded before or the pickup is no longer waiting."""
    f = fulfillments
    updated = await session.execute(
        f.update()
        .where(
            f.c.fulfillment_id == fulfillment_id,
            f.c.type == FulfillmentType.PICKUP,
            f.c.status == FulfillmentStatus.READY_FOR_PICKUP,
            f.c.arrived_at.is_(None),
        )
        .values(arrived_at=at, arrival_note=note, updated_at=at)
        .returning(f.c.fulfillment_id)
    )
    return updated.first() is not None
