"""Inventory's idempotency keys: services.common.idempotency.run_once on its table."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import Database
from services.common.idempotency import ResponseT, run_once
from services.inventory.store.tables import idempotency_keys


class IdempotencyKeys:
    def __init__(self, database: Database) -> None:
        self._database = database

    async def __call__(
        self,
        key: str,
        request: Message,
        response_type: type[ResponseT],
        work: Callable[[AsyncSession], Awaitable[ResponseT]],
    ) -> ResponseT:
        return await run_once(self._database, idempotency_keys, key, request, response_type, work)
