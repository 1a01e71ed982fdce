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


async def connections_in_use(database: Database) -> int:
    """Sessions of the store's pool in a transaction right now (this query's excluded)."""
    async with database.engine.connect() as connection:
        result = await connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        )
        return int(result.scalar_one())


async def claimed_ago(database: Database, owner: str, key: str, seconds: int) -> None:
    """Ages the key's claim: as if its gateway claimed it `seconds` ago."""
    async with database.transaction() as session:
        await session.execute(
            text(
                "UPDATE http_idempotency_keys"
                " SET created_at = now() - make_interval(secs => :ago)"
                " WHERE owner = :owner AND key = :key"
            ),
            {"owner": owner, "key": key, "ago": seconds},
        )


async def test_saved_response_is_returned_for_the_same_key(store: PostgresIdempotencyStore) -> None:
    owner, key = unique("user"), unique("key")
    assert await store.begin(owner, key, "f1", "C1") is None
    running = await store.begin(owner, key, "f1", "C1")
    assert running is not None and running.response is None
    await store.finish(owner, key, CREATED)
    again = await store.begin(owner, key, "f1", "C1")
    assert again is not None and again.response == CREATED and again.fingerprint == "f1"
    # Another caller's identical key is a different key.
    assert await store.begin(unique("user"), key, "f1", "") is None


async def test_a_released_claim_can_be_claimed_again(store: PostgresIdempotencyStore) -> None:
    owner, key = unique("user"), unique("key")
    assert await store.begin(owner, key, "f1", "") is None
    await store.release(owner, key)  # not a final answer: a 503
    assert await store.begin(owner, key, "f1", "") is None


async def test_a_claim_left_by_a_dead_gateway_is_taken_over(
    store: PostgresIdempotencyStore, database: Database
) -> None:
    owner, key = unique("user"), unique("key")
    assert await store.begin(owner, key, "f1", "") is None
    await claimed_ago(database, owner, key, 3600)
    assert await store.begin(owner, key, "f1", "") is None


async def test_a_claim_younger_than_the_lease_is_not_taken_over(database: Database) -> None:
    store = PostgresIdempotencyStore(database, lease_seconds=45)
    owner, key = unique("user"), unique("key")
    assert await store.begin(owner, key, "f1", "") is None
    await claimed_ago(database, owner, key, 30)
    running = await store.begin(owner, key, "f1", "")
    assert running is not None and running.response is None  # still its first request's
    await claimed_ago(database, owner, key, 50)
    assert await store.begin(owner, key, "f1", "") is None  # its gateway died: taken over


async def test_of_twenty_requests_racing_with_one_key_one_claims_it(
    database: Database,
) -> None:
    # Each statement commits by itself: the key's unique row is what decides.
    store = PostgresIdempotencyStore(database)
    owner, key = unique("user"), unique("key")
    seen = await asyncio.gather(*(store.begin(owner, key, "f1", "") for _ in range(20)))
    assert seen.count(None) == 1
    assert all(s.fingerprint == "f1" and s.response is None for s in seen if s is not None)


async def test_of_ten_retries_racing_for_a_dead_gateways_claim_one_takes_it_over(
    database: Database,
) -> None:
    store = PostgresIdempotencyStore(database, lease_seconds=45)
    owner, key = unique("user"), unique("key")
    assert await store.begin(owner, key, "f0", "") is None
    await claimed_ago(database, owner, key, 3600)
    seen = await asyncio.gather(*(store.begin(owner, key, "f1", "") for _ in range(10)))
    assert seen.count(None) == 1
    # The others see the claim as it was taken over: running, the retry's fingerprint.
    assert all(s.fingerprint == "f1" and s.response is None for s in seen if s is not None)
    assert await connections_in_use(database) == 0


async def test_headers_survive_and_erase_forgets_the_customers_answers(
    store: PostgresIdempotencyStore,
) -> None:
    customer = unique("C")
    mine, agents, other = unique("user"), unique("agent"), unique("key")
    answer = StoredResponse(
        201, "application/json", b'{"customer_id": "%s"}' % customer.encode(), [("etag", '"3"')]
    )
    for owner, key, cid in ((mine, "k1", customer), (agents, other, "")):
        assert await store.begin(owner, key, "f", cid) is None
        await store.finish(owner, key, answer)
    kept = await store.begin(mine, "k1", "f", customer)
    assert kept is not None and kept.response is not None
    assert kept.response.headers == [("etag", '"3"')]
    assert await store.erase_customer(customer) == 2
    assert await store.begin(mine, "k1", "f", customer) is None
    assert await store.begin(agents, other, "f", "") is None


async def test_purge_removes_only_old_keys(
    store: PostgresIdempotencyStore, database: Database
) -> None:
    owner, old, fresh = unique("user"), unique("old"), unique("fresh")
    for key in (old, fresh):
        assert await store.begin(owner, key, "f", "") is None
        await store.finish(owner, key, CREATED)
    async with database.transaction() as session:
        await session.execute(
            text(
                "UPDATE http_idempotency_keys SET created_at = now() - interval '49 hours' "
                "WHERE owner = :owner AND key = :key"
            ),
            {"owner": owner, "key": old},
        )
    assert await store.purge_older_than(48) >= 1
    assert await store.begin(owner, old, "f", "") is None
    assert await store.begin(owner, fresh, "f", "") is not None


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
        # Issue 12: the running request holds no connection or transaction.
        assert await connections_in_use(store.database) == 0
        second = asyncio.create_task(client.post("/v1/orders", json=ORDER_BODY, headers=headers))
        # The duplicate polls the key store; it never reaches the orders service.
        release.set()
        responses = await asyncio.gather(first, second)
        other_body = {**ORDER_BODY, "lines": [{"sku": "SKU-CAP", "quantity": 1}]}
        conflict = await client.post("/v1/orders", json=other_body, headers=headers)
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert conflict.status_code == 409
    assert len(orders.called("PlaceOrder")) == 1
