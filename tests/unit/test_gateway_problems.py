"""Every error is application/problem+json; gRPC statuses map to HTTP."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from fastapi.testclient import TestClient

from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from services.gateway.problems import problem_from_rpc_error
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    plain_rpc_error,
    rpc_error,
    with_key,
)

PROBLEM = "application/problem+json"


def client_with_order_error(error: Exception) -> TestClient:
    orders = orders_stub(GetOrder=lambda _r: error, PlaceOrder=lambda _r: error)
    return TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


@pytest.fixture
def client() -> TestClient:
    return TestClient(make_app(fake_clients(orders=orders_stub(), payments=payments_stub())))


def test_unknown_route_and_wrong_method(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here", headers=bearer("admin")), 404)
    assert_problem(client.delete("/v1/orders", headers=bearer("admin")), 405)


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/orders",
        content=b'{"lines": [',
        headers={
            **with_key(bearer("customer", customer_id="C1")),
            "Content-Type": "application/json",
        },
    )
    body = assert_problem(response, 400)
    assert "JSON" in body["detail"]


def test_body_validation_names_fields_without_echoing_values(client: TestClient) -> None:
    order = {**ORDER_BODY, "lines": [{"sku": "SKU-MUG", "quantity": "many-secret-value"}]}
    response = client.post(
        "/v1/orders", json=order, headers=with_key(bearer("customer", customer_id="C1"))
    )
    body = assert_problem(response, 400)
    assert "lines[0].quantity" in [e["field"] for e in body["errors"]]
    assert "many-secret-value" not in response.text


def test_missing_nested_field_path(client: TestClient) -> None:
    order = {**ORDER_BODY, "payment": {"tenders": [{"token": "tok_approve"}]}}
    response = client.post(
        "/v1/orders", json=order, headers=with_key(bearer("customer", customer_id="C1"))
    )
    body = assert_problem(response, 400)
    assert [e["field"] for e in body["errors"]] == ["payment.tenders[0].type"]


def test_limit_above_200_is_400(client: TestClient) -> None:
    response = client.get("/v1/stores/S1/tasks?limit=201", headers=bearer("admin"))
    body = assert_problem(response, 400)
    assert body["errors"][0]["field"] == "limit"


def test_bad_near_is_400_naming_near(client: TestClient) -> None:
    response = client.get("/v1/availability?skus=A&near=north", headers=bearer("guest"))
    assert assert_problem(response, 400)["errors"][0]["field"] == "near"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (rpc_error(NotFound("order O1 not found")), 404),
        (rpc_error(Conflict("ORDER_NOT_CANCELLABLE", "already shipped")), 409),
        (plain_rpc_error(grpc.StatusCode.ALREADY_EXISTS, "exists"), 409),
        (plain_rpc_error(grpc.StatusCode.RESOURCE_EXHAUSTED), 429),
    ],
)
def test_grpc_status_maps_to_http(error: Exception, status: int) -> None:
    client = client_with_order_error(error)
    assert_problem(client.get("/v1/orders/O1", headers=bearer("admin")), status)


def test_invalid_argument_carries_field_violations() -> None:
    error = InvalidArgument("bad", [FieldViolation("lines[0].sku", "unknown sku")])
    client = client_with_order_error(rpc_error(error))
    body = assert_problem(client.get("/v1/orders/O1", headers=bearer("admin")), 400)
    assert body["errors"] == [{"field": "lines[0].sku", "message": "unknown sku"}]


def test_business_rule_is_422_with_reason_in_type() -> None:
    error = BusinessRuleViolation("INSUFFICIENT_STOCK", "not enough SKU-MUG", {"sku": "SKU-MUG"})
    client = client_with_order_error(rpc_error(error))
    response = client.post(
        "/v1/orders", json=ORDER_BODY, headers=with_key(bearer("customer", customer_id="C1"))
    )
    body = assert_problem(response, 422)
    assert body["reason"] == "INSUFFICIENT_STOCK"
    assert body["type"].endswith("/insufficient-stock")
    assert body["detail"] == "not enough SKU-MUG"


@pytest.mark.parametrize("code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED])
def test_unavailable_dependency_is_503_with_retry_after(code: grpc.StatusCode) -> None:
    client = client_with_order_error(plain_rpc_error(code))
    response = client.get("/v1/orders/O1", headers=bearer("admin"))
    assert_problem(response, 503)
    assert response.headers["retry-after"] == "1"


def test_unexpected_downstream_failure_hides_internals() -> None:
    client = client_with_order_error(
        plain_rpc_error(grpc.StatusCode.INTERNAL, "psycopg: password=hunter2")
    )
    response = client.get("/v1/orders/O1", headers=bearer("admin"))
    assert_problem(response, 502)
    assert "hunter2" not in response.text


def test_bug_in_the_gateway_is_a_500_problem_without_trace() -> None:
    def explode(_request: Any) -> Any:
        raise RuntimeError("secret internals")

    orders = orders_stub(GetOrder=explode)
    app = make_app(fake_clients(orders=orders, payments=payments_stub()))
    client = TestClient(app, raise_server_exceptions=False)
    response = client.get("/v1/orders/O1", headers=bearer("admin"))
    assert_problem(response, 500)
    assert "secret internals" not in response.text
    assert "traceparent" in response.headers


def test_problem_from_unknown_code_is_502() -> None:
    problem = problem_from_rpc_error(plain_rpc_error(grpc.StatusCode.UNKNOWN))
    assert problem.status == 502


def test_healthz_reports_each_dependency() -> None:
    async def partly_down() -> dict[str, str]:
        return {"inventory": "ok", "orders": "ok", "temporal": "unavailable"}

    up = TestClient(make_app(fake_clients()))
    assert up.get("/healthz").json()["status"] == "ok"
    down = TestClient(make_app(fake_clients(health=partly_down)))
    response = down.get("/healthz")
    assert response.status_code == 503
    assert response.json()["dependencies"]["temporal"] == "unavailable"


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/orders" in spec["paths"]
    assert "OrderIn" in spec["components"]["schemas"]
    headers = [p["name"] for p in spec["paths"]["/v1/orders"]["post"]["parameters"]]
    assert "Idempotency-Key" in headers
    assert client.get("/docs").status_code == 200


def test_console_is_self_contained(client: TestClient) -> None:
    response = client.get("/console")
    assert response.status_code == 200
    assert "https://" not in response.text
    script = client.get("/console/console.js")
    assert script.status_code == 200
    assert "/v1/stores/" in script.text
    assert "https://" not in script.text and "http://" not in script.text
    assert "https://" not in client.get("/console/console.css").text


def test_unused_stub_is_not_called() -> None:
    stub = FakeStub()
    with pytest.raises(AttributeError):
        _ = stub.Nothing
