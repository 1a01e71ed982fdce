"""Idempotency-Key behaviour of mutating POSTs (in-memory key store)."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import httpx
from fastapi.testclient import TestClient

from omni.orders.v1 import orders_pb2
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    MemoryIdempotencyStore,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    plain_rpc_error,
    sample_order,
)

CUSTOMER = bearer("customer", sub="user-1", customer_id="C1")


def new_client(**order_handlers: Any) -> TestClient:
    orders = orders_stub(**order_handlers)
    return TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))


def placed(client: TestClient) -> list[Any]:
    return client.app.state.clients.orders.called("PlaceOrder")  # type: ignore[attr-defined]


def test_same_key_same_body_returns_the_first_response() -> None:
    client = new_client()
    headers = {**CUSTOMER, "Idempotency-Key": "key-1"}
    first = client.post("/v1/orders", json=ORDER_BODY, headers=headers)
    # Same JSON, other key order and spacing.
    again = client.post(
        "/v1/orders",
        content=b'{"payment": {"tenders": [{"token": "tok_approve", "type": "card"}]},'
        b' "lines": [{"quantity": 2, "sku": "SKU-MUG"}], "customer_id": "C1",'
        b' "fulfillment": {"location_id": "S1", "type": "pickup"}}',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert first.status_code == again.status_code == 201
    assert first.content == again.content
    assert again.headers["idempotent-replayed"] == "true"
    assert len(placed(client)) == 1


def test_same_key_different_body_is_409() -> None:
    client = new_client()
    headers = {**CUSTOMER, "Idempotency-Key": "key-2"}
    assert client.post("/v1/orders", json=ORDER_BODY, headers=headers).status_code == 201
    other = {**ORDER_BODY, "lines": [{"sku": "SKU-MUG", "quantity": 3}]}
    response = client.post("/v1/orders", json=other, headers=headers)
    assert response.status_code == 409
    assert response.json()["reason"] == "IDEMPOTENCY_KEY_REUSED"
    assert len(placed(client)) == 1


def test_keys_are_scoped_to_the_token_subject() -> None:
    client = new_client()
    other_user = bearer("customer", sub="user-2", customer_id="C1")
    for headers in (CUSTOMER, other_user):
        response = client.post(
            "/v1/orders", json=ORDER_BODY, headers={**headers, "Idempotency-Key": "k"}
        )
        assert response.status_code == 201
    keys = [r.idempotency_key for r in placed(client)]
    assert len(keys) == 2 and keys[0] != keys[1]


def test_downstream_key_is_derived_from_subject_and_key() -> None:
    first, second = new_client(), new_client()
    headers = {**CUSTOMER, "Idempotency-Key": "key-3"}
    first.post("/v1/orders", json=ORDER_BODY, headers=headers)
    second.post("/v1/orders", json=ORDER_BODY, headers=headers)
    assert placed(first)[0].idempotency_key == placed(second)[0].idempotency_key
    # Different keys, different downstream keys (a key is required: issue 12).
    first.post("/v1/orders", json=ORDER_BODY, headers={**CUSTOMER, "Idempotency-Key": "key-4"})
    first.post("/v1/orders", json=ORDER_BODY, headers={**CUSTOMER, "Idempotency-Key": "key-5"})
    fresh = [r.idempotency_key for r in placed(first)[1:]]
    assert fresh[0] and fresh[1] and fresh[0] != fresh[1]


def test_server_errors_are_not_kept_so_a_retry_runs_again() -> None:
    answers: list[Any] = [plain_rpc_error(grpc.StatusCode.UNAVAILABLE)]

    def place(request: Any) -> Any:
        if answers:
            return answers.pop()
        return orders_pb2.PlaceOrderResponse(order=sample_order(customer_id=request.customer_id))

    client = new_client(PlaceOrder=place)
    headers = {**CUSTOMER, "Idempotency-Key": "key-4"}
    assert client.post("/v1/orders", json=ORDER_BODY, headers=headers).status_code == 503
    assert client.post("/v1/orders", json=ORDER_BODY, headers=headers).status_code == 201
    assert len(placed(client)) == 2


def test_business_failures_are_kept() -> None:
    from services.common.errors import BusinessRuleViolation
    from tests.unit.gateway_fakes import rpc_error

    client = new_client(
        PlaceOrder=lambda _r: rpc_error(BusinessRuleViolation("PAYMENT_DECLINED", "declined"))
    )
    headers = {**CUSTOMER, "Idempotency-Key": "key-5"}
    first = client.post("/v1/orders", json=ORDER_BODY, headers=headers)
    again = client.post("/v1/orders", json=ORDER_BODY, headers=headers)
    assert first.status_code == again.status_code == 422
    assert first.json() == again.json()
    assert len(placed(client)) == 1


def test_overlong_key_is_400() -> None:
    client = new_client()
    response = client.post(
        "/v1/orders", json=ORDER_BODY, headers={**CUSTOMER, "Idempotency-Key": "k" * 201}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"
    assert placed(client) == []


async def test_concurrent_request_waits_for_the_first_and_gets_its_response() -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def slow_place(request: Any) -> Any:
        entered.set()
        await release.wait()
        return orders_pb2.PlaceOrderResponse(order=sample_order(customer_id=request.customer_id))

    orders = orders_stub(PlaceOrder=slow_place)
    app = make_app(fake_clients(orders=orders, payments=payments_stub()), MemoryIdempotencyStore())
    headers = {**CUSTOMER, "Idempotency-Key": "key-6"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        first = asyncio.create_task(client.post("/v1/orders", json=ORDER_BODY, headers=headers))
        await entered.wait()
        second = asyncio.create_task(client.post("/v1/orders", json=ORDER_BODY, headers=headers))
        release.set()
        responses = await asyncio.gather(first, second)
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert len(orders.called("PlaceOrder")) == 1
