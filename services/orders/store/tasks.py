"""A store's open work: fulfillments to pick or hand over and in-store returns
to receive, one list in one order (one query over both aggregates)."""

from __future__ import annotations

from sqlalchemy import (
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement

from omni.words import FulfillmentStatus, ReturnMethod, ReturnStatus, TaskType
from services.common.plain_session import SqlSession
from services.orders.domain.records import HIDDEN_ORDER_STATUSES, StoreTaskRecord, TaskCursor
from services.orders.store.fulfillments import lines_of
from services.orders.store.tables import fulfillments, orders, returns

# A fulfillment the store has to pick (a shipment it picked stays PICKING until it ships).
PICK_STATUSES = (FulfillmentStatus.PENDING, FulfillmentStatus.PICKING)
# An in-store return waiting for the store to take the goods.
OPEN_RETURN_STATUSES = (ReturnStatus.REQUESTED, ReturnStatus.AWAITING_RECEIPT)


async def list_store_tasks(
    session: SqlSession,
    store_id: str,
    task_types: frozenset[TaskType],
    after: TaskCursor | None,
    limit: int,
) -> list[StoreTaskRecord]:
    """Open work at a location: pickups whose customer is outside first (in
    order of arrival), then the rest oldest first; at most `limit` after the cursor."""
    parts = []
    f = fulfillments
    wanted: list[ColumnElement[bool]] = []
    if TaskType.PICK in task_types:
        wanted.append(f.c.status.in_(PICK_STATUSES))
    if TaskType.PICKUP in task_types:
        wanted.append(f.c.status == FulfillmentStatus.READY_FOR_PICKUP)
    if wanted:
        ready = f.c.status == FulfillmentStatus.READY_FOR_PICKUP
        parts.append(
            select(
                case((ready, TaskType.PICKUP.value), else_=TaskType.PICK.value).label("type"),
                f.c.fulfillment_id.label("task_id"),
                f.c.order_id.label("order_id"),
                f.c.status.label("status"),
                f.c.lines.label("lines"),
                f.c.updated_at.label("since"),
                f.c.arrived_at.label("arrived_at"),
                f.c.arrival_note.label("arrival_note"),
                f.c.overdue.label("overdue"),
                case((and_(ready, f.c.arrived_at.is_not(None)), 0), else_=1).label("rank"),
            )
            .join(orders, orders.c.order_id == f.c.order_id)
            .where(
                f.c.location_id == store_id,
                orders.c.status.not_in(sorted(HIDDEN_ORDER_STATUSES)),
                or_(*wanted),
            )
        )
    if TaskType.RETURN in task_types:
        parts.append(
            select(
                literal(TaskType.RETURN.value).label("type"),
                returns.c.return_id.label("task_id"),
                returns.c.order_id.label("order_id"),
                returns.c.status.label("status"),
                returns.c.lines.label("lines"),
                returns.c.created_at.label("since"),
                literal(None, DateTime(timezone=True)).label("arrived_at"),
                literal("").label("arrival_note"),
                literal(False).label("overdue"),
                literal(1).label("rank"),
            ).where(
                # A mail return has no store until it is received, and receiving settles it.
                returns.c.method == ReturnMethod.IN_STORE,
                returns.c.location_id == store_id,
                returns.c.status.in_(OPEN_RETURN_STATUSES),
            )
        )
    if not parts:
        return []
    tasks = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    query = select(tasks).order_by(tasks.c.rank, tasks.c.since, tasks.c.task_id).limit(limit)
    if after is not None:
        query = query.where(
            tuple_(tasks.c.rank, tasks.c.since, tasks.c.task_id)
            > tuple_(
                bindparam("after_rank", after.rank, type_=Integer),
                bindparam("after_since", after.since, type_=DateTime(timezone=True)),
                bindparam("after_id", after.task_id, type_=String),
            )
        )
    rows = await session.execute(query)
    return [
        StoreTaskRecord(
            type=TaskType(row.type),
            task_id=row.task_id,
            order_id=row.order_id,
            status=(
                ReturnStatus(row.status)
                if row.type == TaskType.RETURN
                else FulfillmentStatus(row.status)
            ),
            lines=lines_of(row.lines),
            since=row.since,
            arrived_at=row.arrived_at,
            arrival_note=row.arrival_note,
            overdue=bool(row.overdue),
        )
        for row in rows
    ]
