"""Tokens, roles and what each caller may see (API.md, Auth)."""

from __future__ import annotations

import re
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient

from omni.customers.v1 import customers_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.words import Channel, TaskType
from services.common.errors import NotFound
from services.gateway.auth import mint_token
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    SECRET,
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    rpc_error,
    sample_order,
    with_key,
)

TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def availability_stub() -> FakeStub:
    return FakeStub(
        GetAvailability=lambda r: inventory_pb2.GetAvailabilityResponse(
            items=[inventory_pb2.SkuAvailability(sku=s, online_available=3) for s in r.skus]
        )
    )


# A merged duplicate's id answers as its survivor (customers.GetCustomer).
SURVIVOR_OF = {"C1": "C1", "C1-OLD": "C1", "C9": "C9"}


def customers_stub() -> FakeStub:
    def get_customer(request: Any) -> Any:
        if request.customer_id not in SURVIVOR_OF:
            return rpc_error(NotFound(f"customer {request.customer_id} not found"))
        survivor = SURVIVOR_OF[request.customer_id]
        return customers_pb2.GetCustomerResponse(
            customer=customers_pb2.Customer(customer_id=survivor)
        )

    return FakeStub(GetCustomer=get_customer)


@pytest.fixture
def client() -> TestClient:
    orders = orders_stub(
        GetFulfillment=lambda r: orders_pb2.GetFulfillmentResponse(
            fulfillment=sample_order().fulfillments[0]
        ),
        PickFulfillment=lambda r: orders_pb2.PickFulfillmentResponse(
            fulfillment=sample_order().fulfillments[0]
        ),
        ListStoreTasks=lambda r: orders_pb2.ListStoreTasksResponse(
            tasks=[
                orders_pb2.StoreTask(
                    type=TaskType.PICK.to_proto(), fulfillment_id="F1", order_id="O1"
                )
            ]
        ),
    )
    clients = fake_clients(
        orders=orders,
        payments=payments_stub(),
        inventory=availability_stub(),
        customers=customers_stub(),
    )
    return TestClient(make_app(clients))


def test_missing_token_is_401_problem_with_traceparent(client: TestClient) -> None:
    response = client.get("/v1/orders/O1")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401
    assert TRACEPARENT.match(response.headers["traceparent"])


def test_bad_signature_and_expired_tokens_are_401(client: TestClient) -> None:
    forged = mint_token("another-secret-0123456789abcdef0123", "x", "admin")
    expired = mint_token(SECRET, "x", "admin", ttl=-3600)
    for value in (forged, expired, "not-a-jwt"):
        response = client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {value}"})
        assert response.status_code == 401, value
    assert (
        "expired"
        in client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {expired}"}).json()[
            "detail"
        ]
    )


def test_token_with_unknown_role_is_401(client: TestClient) -> None:
    value = jwt.encode({"sub": "x", "role": "root", "exp": 2**31}, SECRET, algorithm="HS256")
    response = client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {value}"})
    assert response.status_code == 401


def _lifetime() -> dict[str, int]:
    import time

    now = int(time.time())
    return {"iat": now, "exp": now + 3600}


def test_issuer_and_audience_are_checked_when_configured() -> None:
    app = make_app(
        fake_clients(orders=orders_stub(), payments=payments_stub()),
        jwt_issuer="https://id.example",
        jwt_audience="omni",
    )
    client = TestClient(app)
    plain = bearer("admin")
    assert client.get("/v1/orders/O1", headers=plain).status_code == 401
    good = jwt.encode(
        # Issue 12: every token carries iat and lives at most 24 h.
        {"sub": "a", "role": "admin", **_lifetime(), "iss": "https://id.example", "aud": "omni"},
        SECRET,
        algorithm="HS256",
    )
    response = client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {good}"})
    assert response.status_code == 200


def test_guest_reads_availability_but_may_not_order_or_read_customers(client: TestClient) -> None:
    guest = bearer("guest")
    assert client.get("/v1/availability?skus=A,B", headers=guest).status_code == 200
    assert client.post("/v1/orders", json=ORDER_BODY, headers=with_key(guest)).status_code == 403
    assert client.get("/v1/customers/C1", headers=guest).status_code == 403


def test_customer_orders_only_for_themselves(client: TestClient) -> None:
    own = bearer("customer", customer_id="C1", channel="app")
    other = {**ORDER_BODY, "customer_id": "C2"}
    assert client.post("/v1/orders", json=other, headers=with_key(own)).status_code == 403

    response = client.post("/v1/orders", json=ORDER_BODY, headers=with_key(own))
    assert response.status_code == 201
    placed = client.app.state.clients.orders.called("PlaceOrder")[-1]  # type: ignore[attr-defined]
    assert (placed.customer_id, Channel.from_proto(placed.channel)) == ("C1", "app")
    assert placed.associate_id == ""


def test_customer_sees_only_own_order_as_404_otherwise(client: TestClient) -> None:
    assert (
        client.get("/v1/orders/O1", headers=bearer("customer", customer_id="C1")).status_code == 200
    )
    assert (
        client.get("/v1/orders/O1", headers=bearer("customer", customer_id="C9")).status_code == 404
    )


def test_a_token_carrying_a_merged_id_sees_the_survivors_order(client: TestClient) -> None:
    # O1 was placed under C1; the token still carries C1-OLD, merged into C1.
    merged = bearer("customer", customer_id="C1-OLD")
    assert client.get("/v1/orders/O1", headers=merged).status_code == 200
    unknown = bearer("customer", customer_id="C-NOBODY")
    assert client.get("/v1/orders/O1", headers=unknown).status_code == 404


def test_associate_order_records_staff_and_hides_pickup_code(client: TestClient) -> None:
    associate = bearer("associate", sub="emp-7", store_id="S1")
    response = client.post("/v1/orders", json=ORDER_BODY, headers=with_key(associate))
    assert response.status_code == 201
    placed = client.app.state.clients.orders.called("PlaceOrder")[-1]  # type: ignore[attr-defined]
    assert (placed.associate_id, placed.store_id, Channel.from_proto(placed.channel)) == (
        "emp-7",
        "S1",
        "pos",
    )
    assert all("pickup_code" not in f for f in response.json()["fulfillments"])

    order = client.get("/v1/orders/O1", headers=associate).json()
    assert order["fulfillments"][0]["location_id"] == "S1"
    assert "pickup_code" not in order["fulfillments"][0]
    customer = client.get("/v1/orders/O1", headers=bearer("customer", customer_id="C1")).json()
    assert customer["fulfillments"][0]["pickup_code"] == "123456"
    assert customer["payments"][0]["authorized"] == {"amount_minor": 2500, "currency": "USD"}
    assert customer["workflow_id"] == "order-O1"


def test_associate_works_only_in_own_store(client: TestClient) -> None:
    mine = bearer("associate", store_id="S1")
    theirs = bearer("associate", store_id="S2")
    assert client.get("/v1/stores/S1/tasks", headers=mine).status_code == 200
    assert client.get("/v1/stores/S1/tasks", headers=theirs).status_code == 404
    body = {"lines": [{"sku": "SKU-MUG", "quantity_picked": 2}]}
    assert client.post("/v1/fulfillments/F1/pick", json=body, headers=theirs).status_code == 404
    orders = client.app.state.clients.orders  # type: ignore[attr-defined]
    assert orders.called("PickFulfillment") == []
    assert client.post("/v1/fulfillments/F1/pick", json=body, headers=mine).status_code == 200
    assert (
        client.post("/v1/fulfillments/F1/pick", json=body, headers=bearer("admin")).status_code
        == 200
    )
    assert (
        client.post("/v1/fulfillments/F1/pick", json=body, headers=bearer("agent")).status_code
        == 403
    )
    assert orders.called("PickFulfillment")[0].lines[0].quantity == 2


def test_only_admin_manages_catalog(client: TestClient) -> None:
    product = {"sku": "X", "name": "X", "price": {"amount_minor": 100, "currency": "USD"}}
    for role in ("guest", "customer", "associate", "agent"):
        assert client.post("/v1/products", json=product, headers=bearer(role)).status_code == 403


def test_traceparent_continues_the_callers_trace(client: TestClient) -> None:
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    response = client.get(
        "/v1/availability?skus=A", headers={**bearer("guest"), "traceparent": incoming}
    )
    assert response.headers["traceparent"].startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert response.headers["traceparent"] != incoming
    sent = client.app.state.clients.inventory.metadata[-1]  # type: ignore[attr-defined]
    assert dict(sent)["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"


def test_public_key_tokens_are_verified() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    app = make_app(
        fake_clients(orders=orders_stub(), payments=payments_stub()), jwt_public_key=public_pem
    )
    client = TestClient(app)
    signed = jwt.encode({"sub": "a", "role": "admin", **_lifetime()}, key, algorithm="RS256")
    assert (
        client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {signed}"}).status_code
        == 200
    )
    # An HS256 token signed with the (public) key text is refused.
    assert client.get("/v1/orders/O1", headers=bearer("admin")).status_code == 401
