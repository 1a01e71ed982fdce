"""Keyset reads of a customer's history tables (activities, timeline,
notifications), newest first, cut into pages with services.common.paging."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, Row, Table, select, tuple_

from services.common.paging import Page, cut_page
from services.common.plain_session import SqlSession
from services.customers.domain import HistoryKey


def _key(row: Row[Any], at: Column[Any], seq: Column[Any]) -> tuple[str, int]:
    # By the column's name: a SQLAlchemy row and a plain one both answer it.
    return HistoryKey(getattr(row, at.key), getattr(row, seq.key)).cursor_key()


async def newest_first(
    session: SqlSession,
    table: Table,
    customer_id: str,
    at: Column[Any],
    seq: Column[Any],
    limit: int,
    after: HistoryKey | None,
) -> Page[Row[Any]]:
    """Up to `limit` of the customer's rows older than `after`, by (at, seq)
    descending, and the cursor of the last one when more remain."""
    query = select(table).where(table.c.customer_id == customer_id)
    if after is not None:
        query = query.where(tuple_(at, seq) < tuple_(after.at, after.seq))
    rows = (await session.execute(query.order_by(at.desc(), seq.desc()).limit(limit + 1))).all()
    return cut_page(rows, limit, lambda row: _key(row, at, seq))
