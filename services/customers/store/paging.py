"""Keyset paging over a customer's history tables, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, Row, Table, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.customers.domain import PageCursor


async def newest_first(
    session: AsyncSession,
    table: Table,
    customer_id: str,
    at: Column[Any],
    tiebreak: Column[Any],
    limit: int,
    after: PageCursor | None,
) -> tuple[Sequence[Row[Any]], PageCursor | None]:
    """Up to `limit` of the customer's rows older than `after`, by (at, tiebreak)
    descending; the cursor of the last row when more remain."""
    query = select(table).where(table.c.customer_id == customer_id)
    if after is not None:
        query = query.where(tuple_(at, tiebreak) < tuple_(after.occurred_at, after.activity_id))
    rows = (
        await session.execute(query.order_by(at.desc(), tiebreak.desc()).limit(limit + 1))
    ).all()
    page = rows[:limit]
    if len(rows) <= limit:
        return page, None
    last = page[-1]._mapping
    return page, PageCursor(last[at], last[tiebreak])
