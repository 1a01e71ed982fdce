"""Orders' tables and queries: the only place with SQL in this service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    func,
    literal,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Conflict
from services.orders.domain import (
    HIDDEN_ORDER_STATUSES,
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderLineRecord,
    OrderRecord,
    OrderRequest,
    PageCursor,
    PricedOrder,
    RefundRecord,
    RequestedAddress,
    ReturnLineRecord,
    ReturnRecord,
    StoreTaskRecord,
)

metadata = MetaData()


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


# An idempotency key of PlaceOrder/CreateReturn -> the resource it created.
request_keys = Table(
    "request_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("resource_id", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("fulfillment_type", String(16), nullable=False),
    Column("location_id", String(128), nullable=False, server_default=""),
    Column("address", JSONB, nullable=True),
    Column("associate_id", String(128), nullable=False, server_default=""),
    Column("store_id", String(128), nullable=False, server_default=""),
    Column("referral_associate_id", String(128), nullable=False, server_default=""),
    Column("workflow_id", String(128), nullable=False),
    Column("rejection_reason", String(64), nullable=False, server_default=""),
    Column("rejection_message", Text, nullable=False, server_default=""),
    Column("rejection_details", JSONB, nullable=False, server_default="{}"),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    *_timestamps(),
    Index("ix_orders_customer_id", "customer_id"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("sku", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("returnable_days", Integer, nullable=False),
    # Held by returns that are not rejected or expired.
    Column("returned_quantity", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("order_id", "sku"),
    CheckConstraint(
        "returned_quantity >= 0 AND returned_quantity <= quantity",
        name="ck_order_lines_returned_quantity",
    ),
)

fulfillments = Table(
    "fulfillments",
    metadata,
    Column("fulfillment_id", String(128), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("location_id", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("pickup_code", String(64), nullable=False, server_default=""),
    Column("carrier", String(128), nullable=False, server_default=""),
    Column("tracking_number", String(128), nullable=False, server_default=""),
    Column("arrived_at", DateTime(timezone=True), nullable=True),
    Column("arrival_note", Text, nullable=False, server_default=""),
    *_timestamps(),
    Index("ix_fulfillments_order_id", "order_id"),
    Index("ix_fulfillments_location_status", "location_id", "status"),
)


def _events_table(name: str, owner: Table, key: str) -> Table:
    """The append-only history of one kind of resource, keyed by the owner's `key`."""
    return Table(
        name,
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column(key, String(64), ForeignKey(owner.c[key]), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("type", String(64), nullable=False),
        Column("detail", Text, nullable=False, server_default=""),
        Index(f"ix_{name}_{key}", key),
    )


order_events = _events_table("order_events", orders, "order_id")

# Progress events already applied (orders and returns): a repeat is a no-op.
applied_events = Table(
    "applied_events",
    metadata,
    Column("event_id", String(300), primary_key=True),
    Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("method", String(16), nullable=False),
    Column("location_id", String(128), nullable=False, server_default=""),
    Column("currency", String(3), nullable=False),
    Column("refund_minor", BigInteger, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("refunds", JSONB, nullable=False, server_default="[]"),
    Column("workflow_id", String(128), nullable=False),
    # Set once a rejected/expired return has given its quantities back.
    Column("quantities_released", Boolean, nullable=False, server_default="false"),
    # "original" tenders or "store_credit".
    Column("refund_method", String(16), nullable=False, server_default="original"),
    *_timestamps(),
    Index("ix_returns_order_id", "order_id"),
    Index("ix_returns_location_status", "location_id", "status"),
)

return_events = _events_table("return_events", returns, "return_id")


# ---------------------------------------------------------------- keys and events


async def claim_key(
    session: AsyncSession, key: str, kind: str, new_resource_id: str, fingerprint: str
) -> tuple[str, bool]:
    """Binds `key` to `new_resource_id`, or returns what it was bound to before.

    A concurrent duplicate blocks on the primary key until the first commits.
    Returns (resource_id, created_now).
    """
    inserted = await session.execute(
        insert(request_keys)
        .values(key=key, kind=kind, resource_id=new_resource_id, request_hash=fingerprint)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(request_keys.c.resource_id)
    )
    if inserted.first() is not None:
        return new_resource_id, True
    row = (
        await session.execute(
            select(
                request_keys.c.kind, request_keys.c.resource_id, request_keys.c.request_hash
            ).where(request_keys.c.key == key)
        )
    ).one()
    if row.kind != kind or row.request_hash != fingerprint:
        raise Conflict(
            "IDEMPOTENCY_KEY_REUSED",
            "idempotency key was already used with different parameters",
        )
    return str(row.resource_id), False


async def mark_event_applied(session: AsyncSession, event_id: str) -> bool:
    """True the first time `event_id` is seen; False for a repeat."""
    inserted = await session.execute(
        insert(applied_events)
        .values(event_id=event_id)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(applied_events.c.event_id)
    )
    return inserted.first() is not None


# ---------------------------------------------------------------- orders


def _address_json(address: RequestedAddress | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "line1": address.line1,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
        "lat": address.lat,
        "lon": address.lon,
    }


async def insert_pending_order(
    session: AsyncSession,
    order_id: str,
    workflow_id: str,
    request: OrderRequest,
    priced: PricedOrder,
) -> None:
    await session.execute(
        insert(orders)
        .values(
            order_id=order_id,
            customer_id=request.customer_id,
            channel=request.channel,
            status="pending",
            currency=priced.currency,
            total_minor=priced.total_minor,
            fulfillment_type=request.fulfillment_type,
            location_id=request.location_id if request.fulfillment_type == "pickup" else "",
            address=_address_json(request.address) if request.fulfillment_type == "ship" else None,
            associate_id=request.associate_id,
            store_id=request.store_id,
            referral_associate_id=request.referral_associate_id,
            workflow_id=workflow_id,
        )
        .on_conflict_do_nothing(index_elements=["order_id"])
    )
    await session.execute(
        insert(order_lines)
        .values(
            [
                {
                    "order_id": order_id,
                    "sku": line.sku,
                    "position": position,
                    "quantity": line.quantity,
                    "unit_price_minor": line.unit_price_minor,
                    "returnable_days": line.returnable_days,
                }
                for position, line in enumerate(priced.lines)
            ]
        )
        .on_conflict_do_nothing(index_elements=["order_id", "sku"])
    )


async def mark_rejected(
    session: AsyncSession, order_id: str, reason: str, message: str, details: dict[str, str]
) -> None:
    """Keeps a refusal so a retry of the same key answers the same way."""
    await session.execute(
        orders.update()
        .where(orders.c.order_id == order_id, orders.c.status.in_(HIDDEN_ORDER_STATUSES))
        .values(
            status="rejected",
            rejection_reason=reason,
            rejection_message=message,
            rejection_details=details,
            updated_at=func.now(),
        )
    )


async def erase_addresses(session: AsyncSession, customer_ids: list[str]) -> int:
    """Blanks the street, city, postal code and coordinates of these customers'
    shipping addresses, keeping the country (tax and accounting need no more).
    Returns how many orders changed: a repeat changes none."""
    blanked = func.jsonb_build_object(
        "line1",
        "",
        "city",
        "",
        "postal_code",
        "",
        "country",
        func.coalesce(orders.c.address["country"].astext, ""),
        "lat",
        0.0,
        "lon",
        0.0,
    )
    result = await session.execute(
        orders.update()
        .where(
            orders.c.customer_id.in_(customer_ids),
            orders.c.address.is_not(None),
            orders.c.address.is_distinct_from(blanked),
        )
        .values(address=blanked, updated_at=func.now())
        .returning(orders.c.order_id)
    )
    return len(result.all())


async def set_order_status(session: AsyncSession, order_id: str, status: str) -> None:
    values: dict[str, Any] = {"status": status, "updated_at": func.now()}
    if status == "completed":
        values["completed_at"] = func.coalesce(orders.c.completed_at, func.now())
    await session.execute(orders.update().where(orders.c.order_id == order_id).values(**values))


def _unless_empty(new: Any, old: Any) -> Any:
    """The new text, or the old where the new one is empty."""
    return func.coalesce(func.nullif(new, ""), old)


async def upsert_fulfillment(session: AsyncSession, fulfillment: FulfillmentRecord) -> None:
    """Creates or replaces by id; an empty code, tracking or line list keeps the old."""
    lines = _fulfillment_lines_json(fulfillment.lines)
    statement = insert(fulfillments).values(
        fulfillment_id=fulfillment.fulfillment_id,
        order_id=fulfillment.order_id,
        type=fulfillment.type,
        location_id=fulfillment.location_id,
        status=fulfillment.status,
        lines=lines,
        pickup_code=fulfillment.pickup_code,
        carrier=fulfillment.carrier,
        tracking_number=fulfillment.tracking_number,
    )
    new = statement.excluded
    await session.execute(
        statement.on_conflict_do_update(
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
                "tracking_number": _unless_empty(
                    new.tracking_number, fulfillments.c.tracking_number
                ),
                "updated_at": func.now(),
            },
            where=fulfillments.c.order_id == new.order_id,
        )
    )


async def _append_event(
    session: AsyncSession, table: Table, key: str, owner_id: str, event: Event
) -> None:
    await session.execute(
        table.insert().values(
            {key: owner_id, "at": event.at, "type": event.type, "detail": event.detail}
        )
    )


async def _events(session: AsyncSession, table: Table, key: str, owner_id: str) -> list[Event]:
    """The owner's history, oldest first."""
    rows = await session.execute(
        select(table.c.at, table.c.type, table.c.detail)
        .where(table.c[key] == owner_id)
        .order_by(table.c.at, table.c.id)
    )
    return [Event(at=e.at, type=e.type, detail=e.detail) for e in rows]


async def append_order_event(session: AsyncSession, order_id: str, event: Event) -> None:
    await _append_event(session, order_events, "order_id", order_id, event)


def _fulfillment_lines_json(lines: list[FulfillmentLineRecord]) -> list[dict[str, Any]]:
    return [
        {"sku": line.sku, "quantity": line.quantity, "quantity_picked": line.quantity_picked}
        for line in lines
    ]


def _fulfillment_lines(data: list[dict[str, Any]]) -> list[FulfillmentLineRecord]:
    return [
        FulfillmentLineRecord(
            sku=str(item["sku"]),
            quantity=int(item.get("quantity", 0)),
            quantity_picked=int(item.get("quantity_picked", 0)),
        )
        for item in data
    ]


def _fulfillment(row: Row[Any]) -> FulfillmentRecord:
    return FulfillmentRecord(
        fulfillment_id=row.fulfillment_id,
        order_id=row.order_id,
        type=row.type,
        location_id=row.location_id,
        status=row.status,
        lines=_fulfillment_lines(row.lines),
        pickup_code=row.pickup_code,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        updated_at=row.updated_at,
        arrived_at=row.arrived_at,
        arrival_note=row.arrival_note,
    )


async def load_order(
    session: AsyncSession, order_id: str, *, for_update: bool = False
) -> OrderRecord | None:
    """The whole order (lines, fulfillments, events oldest first), whatever its status."""
    query = select(orders).where(orders.c.order_id == order_id)
    if for_update:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        return None
    address = None
    if row.address:
        address = RequestedAddress(**row.address)
    order = OrderRecord(
        order_id=row.order_id,
        customer_id=row.customer_id,
        channel=row.channel,
        status=row.status,
        currency=row.currency,
        total_minor=row.total_minor,
        fulfillment_type=row.fulfillment_type,
        location_id=row.location_id,
        address=address,
        associate_id=row.associate_id,
        store_id=row.store_id,
        referral_associate_id=row.referral_associate_id,
        workflow_id=row.workflow_id,
        created_at=row.created_at,
        completed_at=row.completed_at,
        rejection_reason=row.rejection_reason,
        rejection_message=row.rejection_message,
        rejection_details=dict(row.rejection_details or {}),
    )
    line_rows = await session.execute(
        select(order_lines)
        .where(order_lines.c.order_id == order_id)
        .order_by(order_lines.c.position)
    )
    order.lines = [
        OrderLineRecord(
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=line.unit_price_minor,
            returnable_days=line.returnable_days,
            returned_quantity=line.returned_quantity,
        )
        for line in line_rows
    ]
    fulfillment_rows = await session.execute(
        select(fulfillments)
        .where(fulfillments.c.order_id == order_id)
        .order_by(fulfillments.c.created_at, fulfillments.c.fulfillment_id)
    )
    order.fulfillments = [_fulfillment(f) for f in fulfillment_rows]
    order.events = await _events(session, order_events, "order_id", order_id)
    return order


async def load_fulfillment(session: AsyncSession, fulfillment_id: str) -> FulfillmentRecord | None:
    row = (
        await session.execute(
            select(fulfillments)
            .join(orders, orders.c.order_id == fulfillments.c.order_id)
            .where(
                fulfillments.c.fulfillment_id == fulfillment_id,
                orders.c.status.not_in(HIDDEN_ORDER_STATUSES),
            )
        )
    ).first()
    return None if row is None else _fulfillment(row)


async def mark_customer_arrived(
    session: AsyncSession, fulfillment_id: str, note: str, at: datetime
) -> bool:
    """Records a waiting pickup's curbside arrival once; False when it was
    recorded before or the pickup is no longer waiting."""
    f = fulfillments
    updated = await session.execute(
        f.update()
        .where(
            f.c.fulfillment_id == fulfillment_id,
            f.c.type == "pickup",
            f.c.status == "ready_for_pickup",
            f.c.arrived_at.is_(None),
        )
        .values(arrived_at=at, arrival_note=note, updated_at=at)
        .returning(f.c.fulfillment_id)
    )
    return updated.first() is not None


async def list_store_tasks(
    session: AsyncSession,
    store_id: str,
    task_types: tuple[str, ...],
    after: PageCursor | None,
    limit: int,
) -> list[StoreTaskRecord]:
    """Open work at a location: pickups whose customer is outside first (in
    order of arrival), then the rest oldest first; at most `limit` after the cursor."""
    parts = []
    f = fulfillments
    pick_work = or_(
        f.c.status.in_(("pending", "picking")), and_(f.c.type == "ship", f.c.status == "picked")
    )
    wanted = []
    if "pick" in task_types:
        wanted.append(pick_work)
    if "pickup" in task_types:
        wanted.append(f.c.status == "ready_for_pickup")
    if wanted:
        parts.append(
            select(
                case((f.c.status == "ready_for_pickup", "pickup"), else_="pick").label("type"),
                f.c.fulfillment_id.label("task_id"),
                f.c.order_id.label("order_id"),
                f.c.status.label("status"),
                f.c.lines.label("lines"),
                f.c.updated_at.label("since"),
                f.c.arrived_at.label("arrived_at"),
                f.c.arrival_note.label("arrival_note"),
                case(
                    (and_(f.c.status == "ready_for_pickup", f.c.arrived_at.is_not(None)), 0),
                    else_=1,
                ).label("rank"),
            )
            .join(orders, orders.c.order_id == f.c.order_id)
            .where(
                f.c.location_id == store_id,
                orders.c.status.not_in(HIDDEN_ORDER_STATUSES),
                or_(*wanted),
            )
        )
    if "return" in task_types:
        parts.append(
            select(
                literal("return").label("type"),
                returns.c.return_id.label("task_id"),
                returns.c.order_id.label("order_id"),
                returns.c.status.label("status"),
                returns.c.lines.label("lines"),
                returns.c.created_at.label("since"),
                literal(None, DateTime(timezone=True)).label("arrived_at"),
                literal("").label("arrival_note"),
                literal(1).label("rank"),
            ).where(
                # A mail return has no store until it is received, and receiving settles it.
                returns.c.method == "in_store",
                returns.c.location_id == store_id,
                returns.c.status.in_(("requested", "awaiting_receipt")),
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
            type=row.type,
            task_id=row.task_id,
            order_id=row.order_id,
            status=row.status,
            lines=_fulfillment_lines(row.lines),
            since=row.since,
            arrived_at=row.arrived_at,
            arrival_note=row.arrival_note,
        )
        for row in rows
    ]


# ---------------------------------------------------------------- returns


async def reserve_returned_quantity(
    session: AsyncSession, order_id: str, sku: str, quantity: int
) -> bool:
    """Holds `quantity` of a line for a return; False when not that many are left."""
    updated = await session.execute(
        order_lines.update()
        .where(
            order_lines.c.order_id == order_id,
            order_lines.c.sku == sku,
            order_lines.c.quantity - order_lines.c.returned_quantity >= quantity,
        )
        .values(returned_quantity=order_lines.c.returned_quantity + quantity)
        .returning(order_lines.c.sku)
    )
    return updated.first() is not None


async def release_returned_quantities(session: AsyncSession, return_id: str) -> None:
    """Gives a rejected or expired return's quantities back, once."""
    released = (
        await session.execute(
            returns.update()
            .where(returns.c.return_id == return_id, returns.c.quantities_released.is_(False))
            .values(quantities_released=True)
            .returning(returns.c.order_id, returns.c.lines)
        )
    ).first()
    if released is None:
        return
    for line in released.lines:
        await session.execute(
            order_lines.update()
            .where(order_lines.c.order_id == released.order_id, order_lines.c.sku == line["sku"])
            .values(
                returned_quantity=func.greatest(
                    order_lines.c.returned_quantity - int(line["quantity"]), 0
                )
            )
        )


def _return_lines_json(lines: list[ReturnLineRecord]) -> list[dict[str, Any]]:
    return [
        {
            "sku": line.sku,
            "quantity": line.quantity,
            "condition": line.condition,
            "unit_price_minor": line.unit_price_minor,
        }
        for line in lines
    ]


def _refunds_json(refunds: list[RefundRecord]) -> list[dict[str, Any]]:
    return [
        {
            "payment_id": r.payment_id,
            "tender_type": r.tender_type,
            "amount_minor": r.amount_minor,
            "currency": r.currency,
            "status": r.status,
        }
        for r in refunds
    ]


async def insert_return(session: AsyncSession, record: ReturnRecord) -> None:
    await session.execute(
        returns.insert().values(
            return_id=record.return_id,
            order_id=record.order_id,
            customer_id=record.customer_id,
            channel=record.channel,
            status=record.status,
            method=record.method,
            location_id=record.location_id,
            currency=record.currency,
            refund_minor=record.refund_minor,
            lines=_return_lines_json(record.lines),
            refunds=[],
            workflow_id=record.workflow_id,
            refund_method=record.refund_method,
        )
    )


async def load_return(session: AsyncSession, return_id: str) -> ReturnRecord | None:
    row = (await session.execute(select(returns).where(returns.c.return_id == return_id))).first()
    if row is None:
        return None
    events = await _events(session, return_events, "return_id", return_id)
    return ReturnRecord(
        return_id=row.return_id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        channel=row.channel,
        status=row.status,
        method=row.method,
        location_id=row.location_id,
        currency=row.currency,
        refund_minor=row.refund_minor,
        lines=[
            ReturnLineRecord(
                sku=str(item["sku"]),
                quantity=int(item["quantity"]),
                condition=str(item["condition"]),
                unit_price_minor=int(item.get("unit_price_minor", 0)),
            )
            for item in row.lines
        ],
        refunds=[
            RefundRecord(
                payment_id=str(item.get("payment_id", "")),
                tender_type=str(item.get("tender_type", "")),
                amount_minor=int(item.get("amount_minor", 0)),
                currency=str(item.get("currency", row.currency)),
                status=str(item.get("status", "")),
            )
            for item in row.refunds
        ],
        workflow_id=row.workflow_id,
        created_at=row.created_at,
        events=events,
        refund_method=row.refund_method,
    )


async def claim_receiving_location(
    session: AsyncSession, return_id: str, location_id: str, receivable: tuple[str, ...]
) -> bool:
    """A mail return's parcel is taken in at one location: the first to claim
    it (or the same location again, on a retry). False when another location
    did, or the return is no longer waiting for its parcel."""
    updated = await session.execute(
        returns.update()
        .where(
            returns.c.return_id == return_id,
            returns.c.method == "mail",
            returns.c.status.in_(receivable),
            returns.c.location_id.in_(("", location_id)),
        )
        .values(location_id=location_id, updated_at=func.now())
        .returning(returns.c.return_id)
    )
    return updated.first() is not None


async def _update_return(session: AsyncSession, return_id: str, **values: Any) -> None:
    await session.execute(
        returns.update()
        .where(returns.c.return_id == return_id)
        .values(**values, updated_at=func.now())
    )


async def set_return_status(session: AsyncSession, return_id: str, status: str) -> None:
    await _update_return(session, return_id, status=status)


async def replace_refunds(
    session: AsyncSession, return_id: str, refunds: list[RefundRecord]
) -> None:
    await _update_return(session, return_id, refunds=_refunds_json(refunds))


async def append_return_event(session: AsyncSession, return_id: str, event: Event) -> None:
    await _append_event(session, return_events, "return_id", return_id, event)
