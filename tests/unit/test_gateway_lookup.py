"""Order and customer lookup at the gateway (issue 14): who may look, what an
associate is confined to and shown, and the refusals that reach no service."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from omni.customers.v1 import customers_pb2
from omni.orders.v1 import orders_pb2
from omni.words import OrderStatus
from tests.unit.gateway_fakes import FakeStub, bearer, fake_clients, make_app, sample_order

ASSOCIATE_S1 = bearer("associate", "A1", store_id="S1")


def orders_listing() -> FakeStub:
    return FakeStub(
        ListOrders=lambda r: orders_pb2.ListOrdersResponse(
            orders=[sample_order("O1", location_id=r.location_id or "S1")],
            next_page_token="next",
        )
    )


def customers_lookup() -> FakeStub:
    return FakeStub(
        FindCustomers=lambda r: customers_pb2.FindCustomersResponse(
            customers=[
                customers_pb2.Customer(
                    customer_id="C1",
                    name="Ada",
                    email="ada@example.com",
                    phone="+12125550101",
                    loyalty_points=120,
                )
            ]
        )
    )


def client(**stubs: FakeStub) -> TestClient:
    return TestClient(make_app(fake_clients(**stubs)))  # type: ignore[arg-type]


def test_orders_are_listed_for_staff_an_associate_only_at_their_store() -> None:
    orders = orders_listing()
    api = client(orders=orders)
    for who in (bearer("customer", customer_id="C1"), bearer("guest")):
        assert api.get("/v1/orders", headers=who).status_code == 403
    other_store = api.get("/v1/orders", params={"location_id": "S2"}, headers=ASSOCIATE_S1)
    assert other_store.status_code == 404
    assert orders.called("ListOrders") == []

    mine = api.get("/v1/orders", headers=ASSOCIATE_S1)
    assert mine.status_code == 200, mine.text
    assert mine.json()["next_cursor"] == "next"
    # An associate never sees a pickup code, in a list either.
    assert "pickup_code" not in mine.json()["items"][0]["fulfillments"][0]
    assert orders.called("ListOrders")[-1].location_id == "S1"

    agent = api.get(
        "/v1/orders",
        params={"customer_id": "C1", "status": "placed", "limit": 5, "cursor": "c"},
        headers=bearer("agent"),
    )
    assert agent.status_code == 200
    asked = orders.called("ListOrders")[-1]
    assert (asked.customer_id, asked.location_id, asked.limit, asked.page_token) == (
        "C1",
        "",
        5,
        "c",
    )
    assert OrderStatus.from_proto(asked.status) == OrderStatus.PLACED
    assert agent.json()["items"][0]["fulfillments"][0]["pickup_code"] == "123456"


def test_a_status_that_is_no_shown_status_is_a_400_and_reaches_no_service() -> None:
    orders = orders_listing()
    api = client(orders=orders)
    for status in ("pending", "rejected", "lost", "PLACED "):
        answer = api.get("/v1/orders", params={"status": status}, headers=bearer("admin"))
        assert answer.status_code == 400, (status, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == ["status"]
    assert api.get("/v1/orders", params={"limit": 201}, headers=bearer("admin")).status_code == 400
    assert orders.called("ListOrders") == []


def test_customers_are_looked_up_by_staff_and_an_associate_sees_name_and_contact_only() -> None:
    customers = customers_lookup()
    api = client(customers=customers)
    for who in (bearer("customer", customer_id="C1"), bearer("guest")):
        assert api.get("/v1/customers", params={"email": "a@b.c"}, headers=who).status_code == 403
    assert api.get("/v1/customers", headers=bearer("agent")).status_code == 400
    assert customers.called("FindCustomers") == []

    seen = api.get("/v1/customers", params={"phone": "212 555 0101"}, headers=ASSOCIATE_S1)
    assert seen.status_code == 200, seen.text
    [contact] = seen.json()["items"]
    assert contact == {
        "customer_id": "C1",
        "name": "Ada",
        "email": "ada@example.com",
        "phone": "+12125550101",
    }
    profile = api.get("/v1/customers", params={"loyalty_card": "LC-1"}, headers=bearer("agent"))
    [full] = profile.json()["items"]
    assert full["loyalty_points"] == 120
    asked: list[Any] = customers.called("FindCustomers")
    assert [(r.email, r.phone, r.loyalty_card) for r in asked] == [
        ("", "212 555 0101", ""),
        ("", "", "LC-1"),
    ]
