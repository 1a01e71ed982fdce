"""Idempotency keys for mutating RPCs: a repeat returns the first result.

The key row is inserted in the same transaction as the work. A concurrent
repeat blocks on the key's unique index until the first commits (then it reads
the stored response) or rolls back (then it does the work itself), so a retry
never reserves, charges or refunds twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Conflict, InvalidArgument

ResponseT = TypeVar("ResponseT", bound=Message)

MAX_KEY_LENGTH = 200


def idempotency_table(metadata: MetaData) -> Table:
    """The key table; each service adds it to its own metadata and migrations."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("response", LargeBinary, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def request_fingerprint(request: Message) -> str:
    """Hash of the request without its key: same parameters, same hash."""
    copy = type(request)()
    copy.CopyFrom(request)
    if "idempotency_key" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("idempotency_key")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def validate_key(key: str) -> None:
    if not key:
        raise InvalidArgument.field("idempotency_key", "is required")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument.field("idempotency_key", f"is longer than {MAX_KEY_LENGTH}")


async def run_once(
    session: AsyncSession,
    table: Table,
    key: str,
    request: Message,
    response_type: type[ResponseT],
    work: Callable[[], Awaitable[ResponseT]],
) -> ResponseT:
    """Runs `work` the first time `key` is seen; afterwards returns its response.

    Must run inside the same transaction as the work it guards.
    """
    validate_key(key)
    fingerprint = request_fingerprint(request)
    inserted = await session.execute(
        insert(table)
        .values(key=key, request_hash=fingerprint)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )
    if inserted.first() is None:
        row = (
            await session.execute(
                select(table.c.request_hash, table.c.response).where(table.c.key == key)
            )
        ).one()
        if row.request_hash != fingerprint:
            raise Conflict(
                "IDEMPOTENCY_KEY_REUSED",
                "idempotency key was already used with different parameters",
            )
        return response_type.FromString(row.response)
    response = await work()
    await session.execute(
        table.update().where(table.c.key == key).values(response=response.SerializeToString())
    )
    return response
