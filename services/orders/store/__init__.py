"""The orders database: tables.py and one module per aggregate (orders,
fulfillments, returns, events, tasks), the only SQL of the service.

`PostgresStorage` binds those module functions to a unit of work, as the
`Storage` the use cases ask for."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from google.protobuf.wrappers_pb2 import StringValue

from omni.words import OrderStatus, ReturnStatus, TaskType
from services.common.errors import BusinessRuleViolation
from services.common.idempotency import run_once, validate_key
from services.common.plain_session import PlainDatabase, SqlSession
from services.orders.domain.placing import OrderRequest, PricedOrder
from services.orders.domain.records import (
    Address,
    Event,
    FulfillmentRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    StoreTaskRecord,
    TaskCursor,
)
from services.orders.domain.returns import RECEIVABLE_RETURN_STATUSES
from services.orders.store import events, fulfillments, orders, placements, returns, tasks
from services.orders.store.tables import idempotency_keys
from services.orders.use_cases import Keyed, Records


class PostgresRecords:
    """The store modules' functions, bound to one session."""

    def __init__(self, session: SqlSession) -> None:
        self.session = session

    async def load_order(self, order_id: str, *, for_update: bool = False) -> OrderRecord | None:
        return await orders.load_order(self.session, order_id, for_update=for_update)

    async def insert_pending_order(
        self, order_id: str, workflow_id: str, request: OrderRequest, priced: PricedOrder
    ) -> OrderRecord:
        return await orders.insert_pending_order(
            self.session, order_id, workflow_id, request, priced
        )

    async def mark_rejected(self, order_id: str, refusal: BusinessRuleViolation) -> None:
        await orders.mark_rejected(self.session, order_id, refusal)

    async def set_order_status(self, order_id: str, status: OrderStatus) -> None:
        await orders.set_order_status(self.session, order_id, status)

    async def renew_placement(self, order_id: str) -> bool:
        return await placements.renew(self.session, order_id)

    async def claim_stale_placements(self, older_than: timedelta, limit: int) -> list[str]:
        return await placements.claim_stale(self.session, older_than, limit)

    async def mark_placed(
        self, order_id: str, fulfillment: FulfillmentRecord, event: Event
    ) -> bool:
        return await placements.mark_placed(self.session, order_id, fulfillment, event)

    async def record_placed(
        self,
        order_id: str,
        placed: list[FulfillmentRecord],
        event: Event,
        *,
        completed: Event | None = None,
    ) -> list[FulfillmentRecord] | None:
        return await placements.record_placed(
            self.session, order_id, placed, event, completed=completed
        )

    async def upsert_fulfillment(self, fulfillment: FulfillmentRecord) -> None:
        await fulfillments.upsert_fulfillment(self.session, fulfillment)

    async def append_order_event(self, order_id: str, event: Event) -> None:
        await events.append_order_event(self.session, order_id, event)

    async def change_address(self, order_id: str, address: Address) -> None:
        await orders.change_address(self.session, order_id, address)

    async def erase_addresses(self, customer_ids: list[str]) -> int:
        return await orders.erase_addresses(self.session, customer_ids)

    async def load_fulfillment(self, fulfillment_id: str) -> FulfillmentRecord | None:
        return await fulfillments.load_fulfillment(self.session, fulfillment_id)

    async def mark_customer_arrived(self, fulfillment_id: str, note: str, at: datetime) -> bool:
        return await fulfillments.mark_customer_arrived(self.session, fulfillment_id, note, at)

    async def list_store_tasks(
        self, store_id: str, types: frozenset[TaskType], after: TaskCursor | None, limit: int
    ) -> list[StoreTaskRecord]:
        return await tasks.list_store_tasks(self.session, store_id, types, after, limit)

    async def insert_return(self, record: ReturnRecord) -> None:
        await returns.insert_return(self.session, record)

    async def load_return(self, return_id: str) -> ReturnRecord | None:
        return await returns.load_return(self.session, return_id)

    async def reserve_returned_quantity(self, order_id: str, sku: str, quantity: int) -> bool:
        return await orders.reserve_returned_quantity(self.session, order_id, sku, quantity)

    async def release_returned_quantities(self, return_id: str) -> None:
        await orders.release_returned_quantities(self.session, return_id)

    async def add_cancelled_quantities(self, order_id: str, lines: list[tuple[str, int]]) -> None:
        await orders.add_cancelled_quantities(self.session, order_id, lines)

    async def claim_receiving_location(self, return_id: str, location_id: str) -> bool:
        return await returns.claim_receiving_location(
            self.session, return_id, location_id, RECEIVABLE_RETURN_STATUSES
        )

    async def set_return_status(self, return_id: str, status: ReturnStatus) -> None:
        await returns.set_return_status(self.session, return_id, status)

    async def replace_refunds(self, return_id: str, refunds: list[RefundRecord]) -> None:
        await returns.replace_refunds(self.session, return_id, refunds)

    async def append_return_event(self, return_id: str, event: Event) -> None:
        await events.append_return_event(self.session, return_id, event)


class PostgresUnitOfWork:
    def __init__(self, records: PostgresRecords, commit: Callable[[], Awaitable[None]]) -> None:
        self._records = records
        self._commit = commit

    @property
    def records(self) -> Records:
        return self._records

    async def commit(self) -> None:
        await self._commit()


class PostgresStorage:
    def __init__(self, database: PlainDatabase) -> None:
        self._database = database

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[PostgresUnitOfWork]:
        async with self._database.unit_of_work() as uow:
            yield PostgresUnitOfWork(PostgresRecords(uow.session), uow.commit)

    async def run_once(self, keyed: Keyed, work: Callable[[Records], Awaitable[str]]) -> str:
        async def claimed(session: SqlSession) -> StringValue:
            return StringValue(value=await work(PostgresRecords(session)))

        answer = await run_once(
            self._database, idempotency_keys, keyed.key, keyed.request, StringValue, claimed
        )
        return answer.value

    async def claim_once(
        self, keyed: Keyed, answer: str, work: Callable[[Records], Awaitable[None]]
    ) -> str:
        # The key (with its answer) and the work in one transaction, no savepoint.
        validate_key(keyed.key)
        async with self._database.transaction() as session:
            if await placements.claim_key(session, keyed.key, keyed.request, answer):
                await work(PostgresRecords(session))
                return answer

        async def again(records: Records) -> str:
            # Only if the key vanished since (it never does): the same work.
            await work(records)
            return answer

        # Seen before: the one helper answers what it was (or refuses a reuse).
        return await self.run_once(keyed, again)
