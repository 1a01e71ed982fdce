"""Units of work on the payments database, and the idempotency key table
that makes a keyed write run once (services.common.idempotency.run_once).

Every mutating RPC is a keyed write: its transaction (the key claimed, the
payment locked, changed and answered: eight to ten statements) runs on
plain asyncpg (services/common/plain_session.py), the same store functions
and statements as through the ORM at a third of the CPU. Reads and the
expiry sweep keep the ORM's unit of work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from google.protobuf.message import Message

from services.common.db import Database, UnitOfWork
from services.common.idempotency import run_once
from services.common.plain_session import PlainDatabase, SqlSession
from services.payments.store.tables import idempotency_keys

ResponseT = TypeVar("ResponseT", bound=Message)


class DatabaseTransactions:
    def __init__(self, database: Database, keyed_writes: PlainDatabase) -> None:
        self._database = database
        self._keyed_writes = keyed_writes

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Rolls back unless committed: reads, and the expiry sweep."""
        return self._database.unit_of_work()

    async def run_once(
        self,
        key: str,
        request: Message,
        response_type: type[ResponseT],
        work: Callable[[SqlSession], Awaitable[ResponseT]],
    ) -> ResponseT:
        """`work` in one transaction the first time `key` is seen; afterwards
        its response, or its refusal raised again."""
        return await run_once(
            self._keyed_writes, idempotency_keys, key, request, response_type, work
        )
