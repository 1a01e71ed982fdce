"""Idempotency keeps only final answers, replays their headers, holds no
claim open while the request runs, and keys are required where a retry could
buy twice (issue 12)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import httpx
import pytest
from fastapi.testclient import TestClient

from omni.orders.v1 import orders_pb2
from services.common.errors import Conflict
from services.gateway.idempotency import StoredResponse
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    FakeStub,
    MemoryIdempotencyStore,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    plain_rpc_error,
    rpc_error,
    sample_order,
)

CUSTOMER = bearer("customer", sub="user-1", customer_id="C1")


def keyed(key: str) -> dict[str, str]:
    return {**CUSTOMER, "Idempotency-Key": key}


@pytest.mark.parametrize("path", ["/v1/orders", "/v1/returns"])
def test_the_key_is_required_where_a_retry_could_buy_twice(path: str) -> None:
    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    answer = client.post(path, json=ORDER_BODY, headers=CUSTOMER)
    assert answer.status_code == 400, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["Idempotency-Key"]
    assert orders.calls == []


def test_without_a_token_a_missing_key_is_still_401() -> None:
    client = TestClient(make_app(fake_clients(orders=orders_stub(), payments=payments_stub())))
    assert client.post("/v1/orders", json=ORDER_BODY).status_code == 401


@pytest.mark.parametrize(
    "failure",
    [
        plain_rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED, "busy"),
        plain_rpc_error(grpc.StatusCode.UNAVAILABLE, "down"),
    ],
    ids=["429", "503"],
)
def test_try_again_answers_are_not_kept(failure: Any) -> None:
    answers: list[Any] = [failure]

    def place(request: Any) -> Any:
        if answers:
            return answers.pop()
        return orders_pb2.PlaceOrderResponse(order=sample_order())

    orders = orders_stub(PlaceOrder=place)
    store = MemoryIdempotencyStore()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub()), store))
    first = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-retry"))
    assert first.status_code in (429, 503), first.text
    assert first.headers["retry-after"]
    assert store.rows == {}
    again = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-retry"))
    assert again.status_code == 201, again.text
    assert len(orders.called("PlaceOrder")) == 2


def test_a_transient_conflict_with_retry_after_is_not_kept() -> None:
    orders = orders_stub(
        CancelOrder=lambda r: rpc_error(Conflict("INVALID_STATE", "order is busy"))
    )
    store = MemoryIdempotencyStore()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub()), store))
    definitive = client.post("/v1/orders/O1/cancel", json={}, headers=keyed("k-cancel"))
    assert definitive.status_code == 409
    assert "retry-after" not in definitive.headers
    # A definitive 4xx is final: kept and replayed.
    assert len(store.rows) == 1


def test_a_replay_carries_the_first_responses_headers() -> None:
    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))
    first = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-headers"))
    assert first.status_code == 201
    replay = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-headers"))
    assert replay.headers["idempotent-replayed"] == "true"
    for name, value in first.headers.items():
        if name.lower() not in ("traceparent", "content-length", "date"):
            assert replay.headers.get(name) == value, name
    assert replay.content == first.content


class _Recording(MemoryIdempotencyStore):
    """Counts how many keys are claimed-but-unfinished at once."""

    def __init__(self) -> None:
        super().__init__()
        self.open_calls = 0
        self.max_open_calls = 0

    async def begin(self, owner: str, key: str, fingerprint: str, customer_id: str) -> Any:
        self.open_calls += 1
        self.max_open_calls = max(self.max_open_calls, self.open_calls)
        try:
            return await super().begin(owner, key, fingerprint, customer_id)
        finally:
            self.open_calls -= 1


async def test_no_store_call_is_open_while_the_request_runs_and_a_duplicate_waits() -> None:
    release = asyncio.Event()
    placed: list[str] = []

    async def place(request: Any) -> Any:
        placed.append(request.idempotency_key)
        await release.wait()
        return orders_pb2.PlaceOrderResponse(order=sample_order())

    store = _Recording()
    # 42 placements at once must all run: above admission control's default
    # cap of 32 (services/gateway/admission.py, tested on its own), which would
    # queue the rest and this test would wait for them forever.
    app = make_app(
        fake_clients(orders=orders_stub(PlaceOrder=place), payments=payments_stub()),
        store,
        admission_placement_in_flight=64,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        first = asyncio.create_task(
            client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-race"))
        )
        while not placed:  # noqa: ASYNC110 (the fake's own list: no event to await)
            await asyncio.sleep(0)
        # The first request is running: no store call is open, so no
        # connection could be held (the claim was one short call).
        assert store.open_calls == 0
        second = asyncio.create_task(
            client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-race"))
        )
        others = [
            asyncio.create_task(
                client.post("/v1/orders", json=ORDER_BODY, headers=keyed(f"k-other-{i}"))
            )
            for i in range(40)
        ]
        while len(placed) < 41:  # noqa: ASYNC110
            await asyncio.sleep(0)
        release.set()
        answers = await asyncio.gather(first, second, *others)
    assert [a.status_code for a in answers] == [201] * 42
    assert answers[1].headers["idempotent-replayed"] == "true"
    assert answers[1].content == answers[0].content
    # The duplicate never reached the orders service.
    assert len(placed) == 41
    assert store.max_open_calls <= 42


def test_a_broken_key_store_is_a_503_with_retry_after() -> None:
    class Broken(MemoryIdempotencyStore):
        async def begin(self, *args: Any) -> Any:
            raise ConnectionRefusedError

    orders = orders_stub()
    client = TestClient(make_app(fake_clients(orders=orders, payments=payments_stub()), Broken()))
    answer = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-broken"))
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert orders.calls == []


def test_a_store_that_fails_to_finish_still_answers_and_releases() -> None:
    class Unfinished(MemoryIdempotencyStore):
        async def finish(self, *args: Any) -> None:
            raise ConnectionRefusedError

    client = TestClient(
        make_app(fake_clients(orders=orders_stub(), payments=payments_stub()), Unfinished())
    )
    answer = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-unfinished"))
    assert answer.status_code == 201


async def test_erase_removes_the_customers_stored_responses() -> None:
    store = MemoryIdempotencyStore()
    response = StoredResponse(201, "application/json", b'{"customer_id": "C1"}', [])
    assert await store.begin("user-1", "k1", "fp", "C1") is None
    await store.finish("user-1", "k1", response)
    assert await store.begin("agent-1", "k2", "fp", "") is None
    await store.finish("agent-1", "k2", response)
    assert await store.begin("agent-1", "k3", "fp", "") is None
    await store.finish("agent-1", "k3", StoredResponse(201, "", b'{"customer_id": "C2"}', []))
    assert await store.erase_customer("C1") == 2
    assert list(store.rows) == [("agent-1", "k3")]


def test_the_erase_route_forgets_the_stored_responses() -> None:
    from omni.customers.v1 import customers_pb2

    store = MemoryIdempotencyStore()
    customers = FakeStub(
        EraseCustomer=lambda r: customers_pb2.EraseCustomerResponse(
            customer=customers_pb2.Customer(customer_id=r.customer_id)
        ),
        GetCustomer=lambda r: customers_pb2.GetCustomerResponse(
            customer=customers_pb2.Customer(customer_id=r.customer_id)
        ),
    )
    client = TestClient(
        make_app(
            fake_clients(
                customers=customers,
                orders=orders_stub(
                    ErasePersonalData=lambda r: orders_pb2.ErasePersonalDataResponse()
                ),
                payments=payments_stub(),
            ),
            store,
        )
    )
    placed = client.post("/v1/orders", json=ORDER_BODY, headers=keyed("k-erase"))
    assert placed.status_code == 201
    assert len(store.rows) == 1
    erased = client.post("/v1/customers/C1/erase", json={}, headers=bearer("admin"))
    assert erased.status_code == 200, erased.text
    assert store.rows == {}
