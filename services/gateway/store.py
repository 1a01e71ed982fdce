"""The gateway's own database: Idempotency-Key claims and stored responses.

The only SQL in the gateway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Database
from services.gateway.idempotency import MAX_KEY_LENGTH, Claim, PreviousUse, StoredResponse

metadata = MetaData()

http_idempotency_keys = Table(
    "http_idempotency_keys",
    metadata,
    # The token's subject: keys are scoped to the caller.
    Column("owner", String(200), primary_key=True),
    Column("key", String(MAX_KEY_LENGTH), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_http_idempotency_keys_created_at", "created_at"),
)


class PostgresIdempotencyStore:
    """A claim is an inserted row in an open transaction: a second INSERT of
    the same (owner, key) blocks on it until the first commits (with its
    response) or rolls back (key released: the second one runs)."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def claim(self, owner: str, key: str, fingerprint: str) -> AsyncIterator[Claim]:
        table = http_idempotency_keys
        async with self.database.engine.connect() as connection:
            transaction = await connection.begin()
            try:
                inserted = await connection.execute(
                    insert(table)
                    .values(
                        owner=owner,
                        key=key,
                        fingerprint=fingerprint,
                        status=0,
                        content_type="",
                        body=b"",
                    )
                    .on_conflict_do_nothing(index_elements=["owner", "key"])
                    .returning(table.c.key)
                )
                if inserted.first() is None:
                    row = (
                        await connection.execute(
                            select(
                                table.c.fingerprint,
                                table.c.status,
                                table.c.content_type,
                                table.c.body,
                            ).where(table.c.owner == owner, table.c.key == key)
                        )
                    ).one()
                    await transaction.commit()
                    previous = PreviousUse(
                        row.fingerprint, StoredResponse(row.status, row.content_type, row.body)
                    )
                    yield Claim(previous=previous)
                    return
                claim = Claim(previous=None)
                yield claim
                if claim.saved is None:
                    await transaction.rollback()
                    return
                await connection.execute(
                    table.update()
                    .where(table.c.owner == owner, table.c.key == key)
                    .values(
                        status=claim.saved.status,
                        content_type=claim.saved.content_type,
                        body=claim.saved.body,
                    )
                )
                await transaction.commit()
            except BaseException:
                if transaction.is_active:
                    await transaction.rollback()
                raise

    async def purge_older_than(self, hours: float) -> int:
        table = http_idempotency_keys
        async with self.database.transaction() as session:
            result = await session.execute(
                delete(table).where(table.c.created_at < func.now() - timedelta(hours=hours))
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
