"""Units of work on the payments database, and the idempotency key table
that makes a keyed write run once (services.common.idempotency.run_once)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import Database, UnitOfWork
from services.common.idempotency import run_once
from services.payments.store.tables import idempotency_keys

ResponseT = TypeVar("ResponseT", bound=Message)


class DatabaseTransactions:
    def __init__(self, database: Database) -> None:
        self._database = database

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Rolls back unless committed: reads, and the expiry sweep."""
        return self._database.unit_of_work()

    async def run_once(
        self,
        key: str,
        request: Message,
        response_type: type[ResponseT],
        work: Callable[[AsyncSession], Awaitable[ResponseT]],
    ) -> ResponseT:
        """`work` in one transaction the first time `key` is seen; afterwards
        its response, or its refusal raised again."""
        return await run_once(self._database, idempotency_keys, key, request, response_type, work)
