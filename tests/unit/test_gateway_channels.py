"""Which channel a request acts in: the token's, else (for an order) the
body's, else the role's default from one table; REST words become proto
enum numbers on the way in."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.words import Channel, ItemCondition, RefundMethod, ReturnMethod, TaskType
from services.gateway.auth import DEFAULT_CHANNEL_BY_ROLE, Principal
from tests.unit.gateway_fakes import (
    ORDER_BODY,
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    sample_order,
    with_key,
)


def _client() -> TestClient:
    def create_return(request: Any) -> Any:
        return orders_pb2.CreateReturnResponse(
            **{"return": orders_pb2.Return(return_id="R1", order_id=request.order_id)}
        )

    orders = orders_stub(
        CreateReturn=create_return,
        ListStoreTasks=lambda r: orders_pb2.ListStoreTasksResponse(),
    )
    inventory = FakeStub(
        GetAvailability=lambda r: inventory_pb2.GetAvailabilityResponse(),
    )
    clients = fake_clients(orders=orders, payments=payments_stub(), inventory=inventory)
    return TestClient(make_app(clients))


def _stub(client: TestClient, name: str) -> FakeStub:
    stub: FakeStub = getattr(client.app.state.clients, name)  # type: ignore[attr-defined]
    return stub


def test_the_role_default_is_one_table() -> None:
    assert Principal("a", "associate").home_channel is Channel.POS
    assert Principal("a", "agent").home_channel is Channel.CALL_CENTER
    assert Principal("a", "customer").home_channel is Channel.WEB
    assert Principal("a", "agent", channel=Channel.APP).home_channel is Channel.APP
    assert set(DEFAULT_CHANNEL_BY_ROLE) == {"associate", "agent"}


def test_an_order_takes_the_token_channel_then_the_role_never_the_body() -> None:
    # Issue 12: the body's channel no longer applies (it picked the safety stock).
    client = _client()
    placed = _stub(client, "orders")
    body = {**ORDER_BODY, "channel": "marketplace"}
    assert (
        client.post("/v1/orders", json=body, headers=with_key(bearer("agent"))).status_code == 201
    )
    assert Channel.from_proto(placed.called("PlaceOrder")[-1].channel) is Channel.CALL_CENTER
    assert (
        client.post("/v1/orders", json=ORDER_BODY, headers=with_key(bearer("agent"))).status_code
        == 201
    )
    assert Channel.from_proto(placed.called("PlaceOrder")[-1].channel) is Channel.CALL_CENTER
    app_token = bearer("agent", channel="app")
    assert client.post("/v1/orders", json=body, headers=with_key(app_token)).status_code == 201
    assert Channel.from_proto(placed.called("PlaceOrder")[-1].channel) is Channel.APP


def test_availability_takes_the_query_then_the_token() -> None:
    client = _client()
    inventory = _stub(client, "inventory")
    associate = bearer("associate", store_id="S1")
    assert client.get("/v1/availability?skus=A", headers=associate).status_code == 200
    assert Channel.from_proto(inventory.called("GetAvailability")[-1].channel) is Channel.POS
    assert client.get("/v1/availability?skus=A&channel=web", headers=associate).status_code == 200
    assert Channel.from_proto(inventory.called("GetAvailability")[-1].channel) is Channel.WEB
    refused = client.get("/v1/availability?skus=A&channel=tv", headers=associate)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "channel"


def test_a_return_carries_enum_numbers_for_its_words() -> None:
    client = _client()
    orders = _stub(client, "orders")
    body = {
        "order_id": "O1",
        "lines": [{"sku": "SKU-MUG", "quantity": 1, "condition": "damaged"}],
        "method": "mail",
        "refund_method": "store_credit",
    }
    assert (
        client.post("/v1/returns", json=body, headers=with_key(bearer("agent"))).status_code == 201
    )
    sent = orders.called("CreateReturn")[-1]
    assert ReturnMethod.from_proto(sent.method) is ReturnMethod.MAIL
    assert RefundMethod.from_proto(sent.refund_method) is RefundMethod.STORE_CREDIT
    assert ItemCondition.from_proto(sent.lines[0].condition) is ItemCondition.DAMAGED
    assert Channel.from_proto(sent.channel) is Channel.CALL_CENTER


def test_words_outside_a_subset_are_refused_like_a_literal() -> None:
    client = _client()
    # Store credit is the services' own tender (cash and card_present are a till's).
    credit = {**ORDER_BODY, "payment": {"tenders": [{"type": "store_credit"}]}}
    refused = client.post(
        "/v1/orders", json=credit, headers=with_key(bearer("customer", customer_id="C1"))
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "field": "payment.tenders[0].type",
            "message": "Input should be 'card', 'gift_card', 'cash' or 'card_present'",
        }
    ]
    tasks = client.get("/v1/stores/S1/tasks?type=pick", headers=bearer("admin"))
    assert tasks.status_code == 200
    sent = _stub(client, "orders").called("ListStoreTasks")[-1]
    assert TaskType.from_proto(sent.type) is TaskType.PICK


def test_an_order_answers_in_rest_words() -> None:
    client = _client()
    body = client.get("/v1/orders/O1", headers=bearer("admin")).json()
    assert (body["channel"], body["status"]) == ("web", "placed")
    assert (body["fulfillments"][0]["type"], body["fulfillments"][0]["status"]) == (
        "pickup",
        "pending",
    )
    assert sample_order().fulfillments[0].pickup_code == body["fulfillments"][0]["pickup_code"]
