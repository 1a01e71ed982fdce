"""The return aggregate: the return row (lines and refunds as JSON) and its timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from omni.words import (
    Channel,
    ItemCondition,
    RefundMethod,
    RefundStatus,
    ReturnMethod,
    ReturnStatus,
    TenderType,
)
from services.common.money import Money
from services.common.plain_session import SqlSession
from services.orders.domain.records import RefundRecord, ReturnLineRecord, ReturnRecord
from services.orders.store import events
from services.orders.store.tables import returns


def _lines_json(lines: list[ReturnLineRecord]) -> list[dict[str, Any]]:
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
            "tender_type": r.tender_type or "",
            "amount_minor": r.amount.amount_minor,
            "currency": r.amount.currency,
            "status": r.status or "",
        }
        for r in refunds
    ]


async def insert_return(session: SqlSession, record: ReturnRecord) -> None:
    await session.execute(
        returns.insert().values(
            return_id=record.return_id,
            order_id=record.order_id,
            customer_id=record.customer_id,
            channel=record.channel,
            status=record.status,
            method=record.method,
            location_id=record.location_id,
            currency=record.refund.currency,
            refund_minor=record.refund.amount_minor,
            lines=_lines_json(record.lines),
            refunds=[],
            workflow_id=record.workflow_id,
            refund_method=record.refund_method,
            replacement_order_id=record.replacement_order_id,
            replacement_location_id=record.replacement_location_id,
        )
    )


async def load_return(session: SqlSession, return_id: str) -> ReturnRecord | None:
    row = (await session.execute(select(returns).where(returns.c.return_id == return_id))).first()
    if row is None:
        return None
    return ReturnRecord(
        return_id=row.return_id,
        order_id=row.order_id,
        customer_id=row.customer_id,
        channel=Channel(row.channel),
        status=ReturnStatus(row.status),
        method=ReturnMethod(row.method),
        location_id=row.location_id,
        refund=Money(row.refund_minor, row.currency),
        lines=[
            ReturnLineRecord(
                sku=str(item["sku"]),
                quantity=int(item["quantity"]),
                condition=ItemCondition(item["condition"]),
                unit_price_minor=int(item.get("unit_price_minor", 0)),
            )
            for item in row.lines
        ],
        refunds=[
            RefundRecord(
                payment_id=str(item.get("payment_id", "")),
                tender_type=TenderType.parse(str(item.get("tender_type", ""))),
                amount=Money(
                    int(item.get("amount_minor", 0)), str(item.get("currency", row.currency))
                ),
                status=RefundStatus.parse(str(item.get("status", ""))),
            )
            for item in row.refunds
        ],
        workflow_id=row.workflow_id,
        created_at=row.created_at,
        events=await events.return_history(session, return_id),
        refund_method=RefundMethod(row.refund_method),
        replacement_order_id=row.replacement_order_id,
        replacement_location_id=row.replacement_location_id,
    )


async def claim_receiving_location(
    session: SqlSession,
    return_id: str,
    location_id: str,
    receivable: frozenset[ReturnStatus],
) -> bool:
    """A mail return's parcel is taken in at one location: the first to claim
    it (or the same location again, on a retry). False when another location
    did, or the return is no longer waiting for its parcel."""
    updated = await session.execute(
        returns.update()
        .where(
            returns.c.return_id == return_id,
            # An in-store return already names its store: only that one matches.
            returns.c.method.in_((ReturnMethod.MAIL, ReturnMethod.IN_STORE)),
            returns.c.status.in_(sorted(receivable)),
            returns.c.location_id.in_(("", location_id)),
        )
        .values(location_id=location_id, updated_at=func.now())
        .returning(returns.c.return_id)
    )
    return updated.first() is not None


async def _update(session: SqlSession, return_id: str, **values: Any) -> None:
    await session.execute(
        returns.update()
        .where(returns.c.return_id == return_id)
        .values(**values, updated_at=func.now())
    )


async def set_return_status(session: SqlSession, return_id: str, status: ReturnStatus) -> None:
    await _update(session, return_id, status=status)


async def replace_refunds(session: SqlSession, return_id: str, refunds: list[RefundRecord]) -> None:
    await _update(session, return_id, refunds=_refunds_json(refunds))
