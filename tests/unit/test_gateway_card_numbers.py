"""Card numbers stop at the edge: 422 naming the field, never echoed or logged."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from services.gateway.card_numbers import card_number_fields
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    with_key,
)

CARD = "4111 1111 1111 1111"
CARD_DIGITS = "4111111111111111"


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(fake_clients(orders=orders_stub(), payments=payments_stub())))


def test_card_number_as_tender_token_is_422_naming_the_field(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    order = {**ORDER_BODY, "payment": {"tenders": [{"type": "card", "token": CARD}]}}
    response = client.post(
        "/v1/orders",
        json=order,
        headers={**bearer("customer", customer_id="C1"), "Idempotency-Key": "k-card"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["payment.tenders[0].token"]
    assert CARD_DIGITS not in response.text.replace(" ", "") and CARD not in response.text
    assert CARD not in caplog.text and CARD_DIGITS not in caplog.text
    assert client.app.state.clients.orders.called("PlaceOrder") == []  # type: ignore[attr-defined]


def test_card_number_in_any_field_even_as_a_json_number(client: TestClient) -> None:
    body = {"email": "a@example.com", "name": "x", "phone": int(CARD_DIGITS)}
    response = client.post("/v1/customers", json=body, headers=bearer("guest"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "phone"


def test_card_number_in_query_string_is_refused(client: TestClient) -> None:
    response = client.get(f"/v1/availability?skus={CARD_DIGITS}", headers=bearer("guest"))
    assert response.status_code == 422
    assert CARD_DIGITS not in response.text


def test_paths_of_nested_values() -> None:
    body = {"a": [{"b": "x"}, {"b": "card 5555-5555-5555-4444 here"}], "c": "4111111111111112"}
    assert card_number_fields(body) == ["a[1].b"]


def test_digit_runs_failing_luhn_pass(client: TestClient) -> None:
    order = {**ORDER_BODY, "payment": {"tenders": [{"type": "card", "token": "4111111111111112"}]}}
    response = client.post(
        "/v1/orders", json=order, headers=with_key(bearer("customer", customer_id="C1"))
    )
    assert response.status_code == 201
