"""Placements in progress: a pending order is one (use_cases.place_order).

Its `updated_at` is the lease of whoever is placing it (the first request, or a
retry of its key, renews it); recovery takes over the pending orders whose
lease ran out (`abandoned_at`), and starts their journeys with `abandoned`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue
from sqlalchemy import Update, bindparam, case, func, select
from sqlalchemy.dialects.postgresql import insert

from omni.words import OrderStatus
from services.common.idempotency import request_fingerprint
from services.common.plain_session import SqlSession
from services.orders.domain.records import Event, FulfillmentRecord
from services.orders.store import events, fulfillments
from services.orders.store.tables import fulfillments as fulfillment_rows
from services.orders.store.tables import idempotency_keys, orders

INTERRUPTED_REASON = "PLACEMENT_INTERRUPTED"
INTERRUPTED_MESSAGE = "the order could not be placed; try again"


async def renew(session: SqlSession, order_id: str) -> bool:
    """Takes the lease of a pending placement again; False once recovery took it."""
    renewed = await session.execute(
        orders.update()
        .where(
            orders.c.order_id == order_id,
            orders.c.status == OrderStatus.PENDING,
            orders.c.abandoned_at.is_(None),
        )
        .values(updated_at=func.now())
        .returning(orders.c.order_id)
    )
    return renewed.first() is not None


async def claim_stale(session: SqlSession, older_than: timedelta, limit: int) -> list[str]:
    """The pending orders nobody moved for `older_than`: marked abandoned (a
    retry of their key is then told to try again with a new one) and their
    lease taken, so each comes back once per `older_than` until its journey
    records how it ended. Concurrent recoveries take disjoint rows."""
    stale = (
        select(orders.c.order_id)
        .where(
            orders.c.status == OrderStatus.PENDING,
            orders.c.updated_at < func.now() - older_than,
            # An exchange's replacement waits for its return's goods: the
            # return journey places it or gives it back (issue 11).
            orders.c.exchange_for == "",
        )
        .order_by(orders.c.updated_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    claimed = await session.execute(
        orders.update()
        .where(orders.c.order_id.in_(stale))
        .values(
            abandoned_at=func.coalesce(orders.c.abandoned_at, func.now()),
            rejection_reason=INTERRUPTED_REASON,
            rejection_message=INTERRUPTED_MESSAGE,
            updated_at=func.now(),
        )
        .returning(orders.c.order_id)
    )
    return [row.order_id for row in claimed]


# Every placement's statements, built once with bound parameters: building one
# per call and walking it for its cache key cost as much as executing it.
def _from_pending(**values: Any) -> Update:
    """The order row moved on, only from pending, returning its id."""
    return (
        orders.update()
        .where(orders.c.order_id == bindparam("the_order"), orders.c.status == OrderStatus.PENDING)
        .values(rejection_reason="", rejection_message="", updated_at=func.now(), **values)
        .returning(orders.c.order_id)
    )


_PENDING_TO_PLACED = _from_pending(status=OrderStatus.PLACED)
# A till sale: pending straight to completed (no journey between them).
_PENDING_TO_COMPLETED = _from_pending(
    status=OrderStatus.COMPLETED,
    completed_at=func.coalesce(orders.c.completed_at, func.now()),
)
_CLAIM_KEY = (
    insert(idempotency_keys)
    .on_conflict_do_nothing(index_elements=["key"])
    .returning(idempotency_keys.c.key)
)
_new = insert(fulfillment_rows).excluded
# As fulfillments.upsert_fulfillment: one its journey wrote already keeps its
# lines where this has none (it always has: only the status moves). The rows
# go as executemany parameters: a multi-row VALUES has no cached compiled
# form, so it was compiled on every placement.
_UPSERT_PLACED = (
    insert(fulfillment_rows)
    .on_conflict_do_update(
        index_elements=["fulfillment_id"],
        set_={
            "status": _new.status,
            "location_id": _new.location_id,
            "lines": case(
                (func.jsonb_array_length(_new.lines) > 0, _new.lines),
                else_=fulfillment_rows.c.lines,
            ),
            "updated_at": func.now(),
        },
        where=fulfillment_rows.c.order_id == _new.order_id,
    )
    .returning(fulfillment_rows)
)


async def _pending_to_placed(session: SqlSession, order_id: str) -> bool:
    """The order row moves to placed, only from pending (False: it had moved)."""
    moved = await session.execute(_PENDING_TO_PLACED, {"the_order": order_id})
    return moved.first() is not None


async def mark_placed(
    session: SqlSession, order_id: str, fulfillment: FulfillmentRecord, event: Event
) -> bool:
    """The journey started with the placement: the order is placed with its
    first fulfillment. Only from pending: a journey that already recorded a
    later status (a hold that ran out, say) is not overwritten."""
    if not await _pending_to_placed(session, order_id):
        return False
    await fulfillments.upsert_fulfillment(session, fulfillment)
    await events.append_order_event(session, order_id, event)
    return True


async def claim_key(session: SqlSession, key: str, request: Message, answer: str) -> bool:
    """Claims `key` with its answer (the new order's id) stored at once: the
    placement's claim cannot be refused, so it needs neither the savepoint nor
    the second statement on the key of services.common.idempotency.run_once.
    False when the key was seen before (a concurrent twin waits on the key's
    unique index until the first commits, then finds it): run_once answers."""
    claimed = await session.execute(
        _CLAIM_KEY,
        {
            "key": key,
            "request_hash": request_fingerprint(request),
            "response": StringValue(value=answer).SerializeToString(),
        },
    )
    return claimed.first() is not None


async def record_placed(
    session: SqlSession,
    order_id: str,
    placed: list[FulfillmentRecord],
    event: Event,
    *,
    completed: Event | None = None,
) -> list[FulfillmentRecord] | None:
    """`mark_placed` for a placement's fulfillments (one per hold), in three
    statements and no read back: the order row (only from pending), every
    fulfillment in one upsert (RETURNING them as written), the event. None
    when the order was no longer pending (nothing written). `completed`: a
    till sale, completed at once: the row goes straight to completed and
    both events are written, still three statements."""
    moving = _PENDING_TO_PLACED if completed is None else _PENDING_TO_COMPLETED
    moved = await session.execute(moving, {"the_order": order_id})
    if moved.first() is None:
        return None
    written = await session.execute(
        _UPSERT_PLACED,
        [
            {
                "fulfillment_id": f.fulfillment_id,
                "order_id": f.order_id,
                "type": f.type,
                "location_id": f.location_id,
                "status": f.status,
                "lines": fulfillments.lines_json(f.lines),
                "pickup_code": f.pickup_code,
                "carrier": f.carrier,
                "tracking_number": f.tracking_number,
                "overdue": f.overdue,
            }
            for f in placed
        ],
    )
    by_id = {row.fulfillment_id: fulfillments.fulfillment_of(row) for row in written}
    if completed is None:
        await events.append_order_event(session, order_id, event)
    else:
        await events.append_two_order_events(session, order_id, event, completed)
    return [by_id[f.fulfillment_id] for f in placed if f.fulfillment_id in by_id]
