"""The gateway's Idempotency-Key store on real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from omni.orders.v1 import orders_pb2
from services.common.db import Database
from services.gateway.idempotency import StoredResponse
from services.gateway.store import PostgresIdempotencyStore
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    sample_order,
)

CREATED = StoredResponse(201, "application/json", b'{"order_id": "O1"}')


@pytest.fixture(scope="module")
def gateway_url(migrated_database: Callable[[str], str]) -> str:
    # Migrations run asyncio.run themselves: outside the test loop.
    return migrated_database("gateway")


@pytest.fixture(scope="module")
async def database(gateway_url: str) -> AsyncIterator[Database]:
    db = Database(gateway_url)
    yield db
    await db.dispose()


@pytest.fixture
def store(database: Database) -> PostgresIdempotencyStore:
    return PostgresIdempotencyStore(database)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def waiting_on_locks(database: Database) -> int:
    async with database.engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return int(result.scalar_one())


async def until_someone_waits(database: Database) -> None:
    """Polls PostgreSQL until a session is blocked on a lock (or fails):
    the state is in the server, so there is no event to await."""
    async with asyncio.timeout(10):
        while await waiting_on_locks(database) == 0:  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_saved_response_is_returned_for_the_same_key(store: PostgresIdempotencyStore) -> None:
    owner, key = unique("user"), unique("key")
    async with store.claim(owner, key, "f1") as claim:
        assert claim.previous is None
        claim.save(CREATED)
    async with store.claim(owner, key, "f1") as again:
        assert again.previous is not None
        assert again.previous.response == CREATED
        assert again.previous.fingerprint == "f1"
    # Another caller's identical key is a different key.
    async with store.claim(unique("user"), key, "f1") as other:
        assert other.previous is None


async def test_unsaved_claim_releases_the_key(store: PostgresIdempotencyStore) -> None:
    owner, key = unique("user"), unique("key")
    async with store.claim(owner, key, "f1") as claim:
        assert claim.previous is None  # not saved: a 5xx
    async with store.claim(owner, key, "f1") as retry:
        assert retry.previous is None


async def test_failure_inside_a_claim_releases_the_key(store: PostgresIdempotencyStore) -> None:
    owner, key = unique("user"), unique("key")
    with pytest.raises(RuntimeError):
        async with store.claim(owner, key, "f1"):
            raise RuntimeError("downstream blew up")
    async with store.claim(owner, key, "f1") as retry:
        assert retry.previous is None


async def test_concurrent_claim_waits_for_the_first_and_sees_its_response(
    store: PostgresIdempotencyStore, database: Database
) -> None:
    owner, key = unique("user"), unique("key")
    claimed = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with store.claim(owner, key, "f1") as claim:
            assert claim.previous is None
            claimed.set()
            await release.wait()
            claim.save(CREATED)

    async def second() -> Any:
        async with store.claim(owner, key, "f1") as claim:
            return claim.previous

    first_task = asyncio.create_task(first())
    await claimed.wait()
    second_task = asyncio.create_task(second())
    await until_someone_waits(database)
    assert not second_task.done()
    release.set()
    await first_task
    previous = await second_task
    assert previous is not None and previous.response == CREATED


async def test_purge_removes_only_old_keys(
    store: PostgresIdempotencyStore, database: Database
) -> None:
    owner, old, fresh = unique("user"), unique("old"), unique("fresh")
    for key in (old, fresh):
        async with store.claim(owner, key, "f") as claim:
            claim.save(CREATED)
    async with database.transaction() as session:
        await session.execute(
            text(
                "UPDATE http_idempotency_keys SET created_at = now() - interval '49 hours' "
                "WHERE owner = :owner AND key = :key"
            ),
            {"owner": owner, "key": old},
        )
    assert await store.purge_older_than(48) >= 1
    async with store.claim(owner, old, "f") as claim:
        assert claim.previous is None
    async with store.claim(owner, fresh, "f") as claim:
        assert claim.previous is not None


async def test_gateway_replays_and_serialises_orders_through_postgres(
    store: PostgresIdempotencyStore,
) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow_place(request: Any) -> Any:
        entered.set()
        await release.wait()
        return orders_pb2.PlaceOrderResponse(order=sample_order(customer_id=request.customer_id))

    orders = orders_stub(PlaceOrder=slow_place)
    app = make_app(fake_clients(orders=orders, payments=payments_stub()), store)
    headers = {**bearer("customer", sub=unique("user"), customer_id="C1"), "Idempotency-Key": "k1"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        first = asyncio.create_task(client.post("/v1/orders", json=ORDER_BODY, headers=headers))
        await entered.wait()
        second = asyncio.create_task(client.post("/v1/orders", json=ORDER_BODY, headers=headers))
        await until_someone_waits(store.database)
        release.set()
        responses = await asyncio.gather(first, second)
        other_body = {**ORDER_BODY, "lines": [{"sku": "SKU-CAP", "quantity": 1}]}
        conflict = await client.post("/v1/orders", json=other_body, headers=headers)
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert conflict.status_code == 409
    assert len(orders.called("PlaceOrder")) == 1
