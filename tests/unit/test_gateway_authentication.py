"""A request's token is verified once, whoever needs the caller (rate
limiter, idempotency keys, the route)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.gateway.auth import Principal, TokenVerifier
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
)


class CountingVerifier:
    def __init__(self, inner: TokenVerifier) -> None:
        self.inner = inner
        self.calls = 0

    async def authenticate(self, token: str) -> Principal:
        self.calls += 1
        return await self.inner.authenticate(token)


def _client() -> tuple[TestClient, CountingVerifier]:
    app = make_app(fake_clients(orders=orders_stub(), payments=payments_stub()))
    counting = CountingVerifier(app.state.verifier)
    app.state.verifier = counting
    return TestClient(app), counting


def test_a_keyed_post_verifies_its_token_once() -> None:
    client, verifier = _client()
    headers = {**bearer("customer", customer_id="C1"), "Idempotency-Key": "k-1"}
    assert client.post("/v1/orders", json=ORDER_BODY, headers=headers).status_code == 201
    assert verifier.calls == 1
    # The replay is answered by the idempotency middleware: still one check.
    replay = client.post("/v1/orders", json=ORDER_BODY, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert verifier.calls == 2


def test_a_read_verifies_once_and_a_bad_token_is_still_401() -> None:
    client, verifier = _client()
    assert client.get("/v1/orders/O1", headers=bearer("admin")).status_code == 200
    assert verifier.calls == 1
    bad = client.get("/v1/orders/O1", headers={"Authorization": "Bearer not-a-jwt"})
    assert bad.status_code == 401
    assert bad.json()["detail"] == "token invalid"
    assert verifier.calls == 2
    missing = client.get("/v1/orders/O1")
    assert missing.status_code == 401
    assert verifier.calls == 2
