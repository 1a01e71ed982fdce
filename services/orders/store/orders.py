"""The order aggregate: the order row, its lines (with returned quantities),
and, when loaded, its fulfillments and timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row

from omni.words import Channel, FulfillmentType, OrderStatus
from services.common.errors import BusinessRuleViolation
from services.common.money import Money
from services.common.plain_session import SqlSession
from services.orders.domain.placing import OrderRequest, PricedOrder
from services.orders.domain.records import (
    HIDDEN_ORDER_STATUSES,
    Address,
    AppliedPromotionRecord,
    OrderLineRecord,
    OrderRecord,
)
from services.orders.store import events, fulfillments
from services.orders.store.tables import order_lines, orders, returns


def _address_json(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "line1": address.line1,
        "city": address.city,
        "postal_code": address.postal_code,
        "country": address.country,
        "lat": address.lat,
        "lon": address.lon,
        "region": address.region,
    }


# Built once (bound parameters): building a statement per call and walking it
# for its cache key cost as much as executing it. The lines go as executemany
# parameters: a multi-row VALUES has no cached compiled form at all.
_PENDING_ORDER = (
    insert(orders).on_conflict_do_nothing(index_elements=["order_id"]).returning(orders)
)
_ORDER_LINES = (
    insert(order_lines)
    .on_conflict_do_nothing(index_elements=["order_id", "sku"])
    .returning(order_lines)
)


async def insert_pending_order(
    session: SqlSession,
    order_id: str,
    workflow_id: str,
    request: OrderRequest,
    priced: PricedOrder,
) -> OrderRecord:
    """The pending order with its lines, as written (RETURNING: no read back)."""
    # At a store: a pickup, or a till sale (carry_out, issue 14).
    pickup = request.fulfillment_type in (FulfillmentType.PICKUP, FulfillmentType.CARRY_OUT)
    basket = priced.basket
    totals: dict[str, Any] = {"subtotal_minor": priced.total.amount_minor}
    if basket is not None:
        totals = {
            "subtotal_minor": basket.totals.subtotal_minor,
            "discount_minor": basket.totals.discount_minor,
            "shipping_minor": basket.totals.shipping_minor,
            "shipping_tax_minor": basket.totals.shipping_tax_minor,
            "tax_minor": basket.totals.tax_minor,
            "tax_rule": basket.tax_rule,
            "shipping_method": basket.shipping_method,
            "coupon_codes": list(request.coupon_codes),
            "promotions_applied": [
                {
                    "promotion_id": p.promotion_id,
                    "name": p.name,
                    "code": p.code,
                    "discount_minor": p.discount_minor,
                }
                for p in basket.promotions_applied
            ],
        }
    inserted = await session.execute(
        _PENDING_ORDER,
        {
            "order_id": order_id,
            "customer_id": request.customer_id,
            "channel": request.channel,
            "status": OrderStatus.PENDING,
            "currency": priced.total.currency,
            "total_minor": priced.total.amount_minor,
            "fulfillment_type": request.fulfillment_type,
            "location_id": request.location_id if pickup else "",
            "address": None if pickup else _address_json(request.address),
            "associate_id": request.associate_id,
            "store_id": request.store_id,
            "referral_associate_id": request.referral_associate_id,
            "workflow_id": workflow_id,
            "exchange_for": request.exchange_for,
            **totals,
        },
    )
    row = inserted.first()
    if row is None:
        # Someone wrote this id first (never, with fresh ids): theirs stands.
        found = await load_order(session, order_id)
        assert found is not None
        return found
    order = order_of(row)
    written = await session.execute(
        _ORDER_LINES,
        [
            {
                "order_id": order_id,
                "sku": line.sku,
                "position": position,
                "quantity": line.quantity,
                "unit_price_minor": line.unit_price_minor,
                "returnable_days": line.returnable_days,
                "discount_minor": basket.lines[position].discount_minor if basket else 0,
                "tax_minor": basket.lines[position].tax_minor if basket else 0,
            }
            for position, line in enumerate(priced.lines)
        ],
    )
    order.lines = [line_of(line) for line in sorted(written, key=lambda line: line.position)]
    return order


async def mark_rejected(session: SqlSession, order_id: str, refusal: BusinessRuleViolation) -> None:
    """Keeps a refusal so a retry of the same key answers the same way."""
    await session.execute(
        orders.update()
        .where(orders.c.order_id == order_id, orders.c.status.in_(sorted(HIDDEN_ORDER_STATUSES)))
        .values(
            status=OrderStatus.REJECTED,
            rejection_reason=refusal.reason,
            rejection_message=refusal.message,
            rejection_details=refusal.metadata,
            updated_at=func.now(),
        )
    )


_BY_ORDER_ID = orders.c.order_id == bindparam("the_order")
_SET_STATUS = (
    orders.update()
    .where(_BY_ORDER_ID)
    .values(status=bindparam("new_status"), updated_at=func.now())
)
_SET_COMPLETED = (
    orders.update()
    .where(_BY_ORDER_ID)
    .values(
        status=OrderStatus.COMPLETED,
        updated_at=func.now(),
        completed_at=func.coalesce(orders.c.completed_at, func.now()),
    )
)


async def set_order_status(session: SqlSession, order_id: str, status: OrderStatus) -> None:
    if status == OrderStatus.COMPLETED:
        await session.execute(_SET_COMPLETED, {"the_order": order_id})
    else:
        await session.execute(_SET_STATUS, {"the_order": order_id, "new_status": status})


async def change_address(session: SqlSession, order_id: str, address: Address) -> None:
    """A shipment's new address (the journey accepted it)."""
    await session.execute(
        orders.update()
        .where(orders.c.order_id == order_id)
        .values(address=_address_json(address), updated_at=func.now())
    )


async def erase_addresses(session: SqlSession, customer_ids: list[str]) -> int:
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


def order_of(row: Row[Any]) -> OrderRecord:
    """An order row as the record (no lines, fulfillments or events yet)."""
    return OrderRecord(
        order_id=row.order_id,
        customer_id=row.customer_id,
        channel=Channel(row.channel),
        status=OrderStatus(row.status),
        total=Money(row.total_minor, row.currency),
        fulfillment_type=FulfillmentType(row.fulfillment_type),
        location_id=row.location_id,
        address=Address(**row.address) if row.address else None,
        associate_id=row.associate_id,
        store_id=row.store_id,
        referral_associate_id=row.referral_associate_id,
        workflow_id=row.workflow_id,
        created_at=row.created_at,
        completed_at=row.completed_at,
        rejection_reason=row.rejection_reason,
        rejection_message=row.rejection_message,
        rejection_details=dict(row.rejection_details or {}),
        subtotal_minor=row.subtotal_minor,
        discount_minor=row.discount_minor,
        shipping_minor=row.shipping_minor,
        shipping_tax_minor=row.shipping_tax_minor,
        tax_minor=row.tax_minor,
        tax_rule=row.tax_rule,
        shipping_method=row.shipping_method,
        coupon_codes=list(row.coupon_codes or []),
        promotions_applied=[AppliedPromotionRecord(**p) for p in row.promotions_applied or []],
        exchange_for=row.exchange_for,
    )


def line_of(line: Row[Any]) -> OrderLineRecord:
    return OrderLineRecord(
        sku=line.sku,
        quantity=line.quantity,
        unit_price_minor=line.unit_price_minor,
        returnable_days=line.returnable_days,
        returned_quantity=line.returned_quantity,
        discount_minor=line.discount_minor,
        tax_minor=line.tax_minor,
        quantity_cancelled=line.quantity_cancelled,
    )


_ORDER = select(orders).where(_BY_ORDER_ID)
_LOCK_ORDER = _ORDER.with_for_update()
_LINES = (
    select(order_lines)
    .where(order_lines.c.order_id == bindparam("the_order"))
    .order_by(order_lines.c.position)
)


async def load_order(
    session: SqlSession, order_id: str, *, for_update: bool = False
) -> OrderRecord | None:
    """The whole order (lines, fulfillments, events oldest first), whatever its status."""
    by_id = {"the_order": order_id}
    row = (await session.execute(_LOCK_ORDER if for_update else _ORDER, by_id)).first()
    if row is None:
        return None
    order = order_of(row)
    line_rows = await session.execute(_LINES, by_id)
    order.lines = [line_of(line) for line in line_rows]
    order.fulfillments = await fulfillments.of_order(session, order_id)
    order.events = await events.order_history(session, order_id)
    return order


async def reserve_returned_quantity(
    session: SqlSession, order_id: str, sku: str, quantity: int
) -> bool:
    """Holds `quantity` of a line for a return; False when not that many are
    left (cancelled units were never delivered: never returned)."""
    updated = await session.execute(
        order_lines.update()
        .where(
            order_lines.c.order_id == order_id,
            order_lines.c.sku == sku,
            order_lines.c.quantity
            - order_lines.c.quantity_cancelled
            - order_lines.c.returned_quantity
            >= quantity,
        )
        .values(returned_quantity=order_lines.c.returned_quantity + quantity)
        .returning(order_lines.c.sku)
    )
    return updated.first() is not None


async def release_returned_quantities(session: SqlSession, return_id: str) -> None:
    """Gives a rejected or expired return's quantities back to its order, once."""
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


async def add_cancelled_quantities(
    session: SqlSession, order_id: str, lines: list[tuple[str, int]]
) -> None:
    """Units the journey cancelled (a line cancel it accepted), per sku; never
    more than the line's quantity (the journey allows no more than is left)."""
    for sku, quantity in lines:
        await session.execute(
            order_lines.update()
            .where(order_lines.c.order_id == order_id, order_lines.c.sku == sku)
            .values(
                quantity_cancelled=func.least(
                    order_lines.c.quantity, order_lines.c.quantity_cancelled + quantity
                )
            )
        )
