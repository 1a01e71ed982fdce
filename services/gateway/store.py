"""The gateway's own database: Idempotency-Key claims and stored responses.

The only SQL in the gateway.
"""

from __future__ import annotations

import json
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
    Text,
    bindparam,
    delete,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert

from services.common.db import Database
from services.gateway.idempotency import MAX_KEY_LENGTH, PreviousUse, StoredResponse

metadata = MetaData()

# status 0: claimed, the request is running (no answer yet).
RUNNING = 0
# A claim this old is taken over: the gateway that held it died mid-request
# (the default of GatewaySettings.idempotency_lease_seconds, which says why).
LEASE_SECONDS = 45.0

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
    # JSON [[name, value], ...]: the first answer's headers, for replays.
    Column("headers", Text, nullable=False, server_default="[]"),
    # The customer token's customer_id ("" for staff): erase forgets its answers.
    Column("customer_id", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_http_idempotency_keys_created_at", "created_at"),
    Index("ix_http_idempotency_keys_customer_id", "customer_id"),
)


# Every keyed request's two statements, built once with bound parameters:
# building one per call and walking it for its cache key cost as much as
# executing it.
_CLAIM = (
    insert(http_idempotency_keys)
    .on_conflict_do_nothing(index_elements=["owner", "key"])
    .returning(http_idempotency_keys.c.key)
)
_FINISH = (
    http_idempotency_keys.update()
    .where(
        http_idempotency_keys.c.owner == bindparam("the_owner"),
        http_idempotency_keys.c.key == bindparam("the_key"),
        http_idempotency_keys.c.status == RUNNING,
    )
    .values(
        status=bindparam("new_status"),
        content_type=bindparam("new_content_type"),
        body=bindparam("new_body"),
        headers=bindparam("new_headers"),
    )
)


class PostgresIdempotencyStore:
    """A claim is an inserted row with status 0, finished by an UPDATE with
    the answer or released by a DELETE; no connection is held while the
    request runs. Each statement stands alone (the key's row is the only
    state, and every statement is conditional on it), so each commits by
    itself: one round trip instead of BEGIN, statement, COMMIT, on every
    keyed request twice (services/common/db.py has the figures)."""

    def __init__(self, database: Database, lease_seconds: float = LEASE_SECONDS) -> None:
        self.database = database
        self.lease = timedelta(seconds=lease_seconds)

    async def begin(
        self, owner: str, key: str, fingerprint: str, customer_id: str
    ) -> PreviousUse | None:
        table = http_idempotency_keys
        async with self.database.autocommit() as connection:
            inserted = await connection.execute(
                _CLAIM,
                {
                    "owner": owner,
                    "key": key,
                    "fingerprint": fingerprint,
                    "status": RUNNING,
                    "content_type": "",
                    "body": b"",
                    "customer_id": customer_id,
                },
            )
            if inserted.first() is not None:
                return None
            # A claim left by a gateway that died is taken over.
            taken = await connection.execute(
                table.update()
                .where(
                    table.c.owner == owner,
                    table.c.key == key,
                    table.c.status == RUNNING,
                    table.c.created_at < func.now() - self.lease,
                )
                .values(fingerprint=fingerprint, created_at=func.now(), customer_id=customer_id)
                .returning(table.c.key)
            )
            if taken.first() is not None:
                return None
            row = (
                await connection.execute(
                    select(
                        table.c.fingerprint,
                        table.c.status,
                        table.c.content_type,
                        table.c.body,
                        table.c.headers,
                    ).where(table.c.owner == owner, table.c.key == key)
                )
            ).first()
        if row is None:  # released in between: claim it next time round
            return PreviousUse(fingerprint, None)
        if row.status == RUNNING:
            return PreviousUse(row.fingerprint, None)
        headers = [(str(n), str(v)) for n, v in json.loads(row.headers or "[]")]
        return PreviousUse(
            row.fingerprint, StoredResponse(row.status, row.content_type, row.body, headers)
        )

    async def finish(self, owner: str, key: str, response: StoredResponse) -> None:
        async with self.database.autocommit() as connection:
            await connection.execute(
                _FINISH,
                {
                    "the_owner": owner,
                    "the_key": key,
                    "new_status": response.status,
                    "new_content_type": response.content_type,
                    "new_body": response.body,
                    "new_headers": json.dumps(response.headers),
                },
            )

    async def release(self, owner: str, key: str) -> None:
        table = http_idempotency_keys
        async with self.database.autocommit() as connection:
            await connection.execute(
                delete(table).where(
                    table.c.owner == owner, table.c.key == key, table.c.status == RUNNING
                )
            )

    async def erase_customer(self, customer_id: str) -> int:
        """Every kept answer of the customer's own requests, and every answer
        naming their id (an agent's order for them)."""
        if not customer_id:
            return 0
        table = http_idempotency_keys
        async with self.database.engine.begin() as connection:
            result = await connection.execute(
                delete(table).where(
                    or_(
                        table.c.customer_id == customer_id,
                        text("position(:needle IN body) > 0").bindparams(
                            bindparam("needle", customer_id.encode(), type_=LargeBinary)
                        ),
                    )
                )
            )
        return int(result.rowcount or 0)

    async def purge_older_than(self, hours: float) -> int:
        table = http_idempotency_keys
        async with self.database.transaction() as session:
            result = await session.execute(
                delete(table).where(table.c.created_at < func.now() - timedelta(hours=hours))
            )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
