"""POST /v1/fulfillments/{id}/pickup-code (API.md, Store work): the order's
customer or an agent asks for a new code, which answers with the fulfillment
(the new code shown to them) and is sent to the customer; the store never may.
A locked pickup's handover is a 409, a wrong code a 422, neither echoing a code."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from omni.customers.v1 import customers_pb2
from omni.orders.v1 import orders_pb2
from omni.words import FulfillmentStatus
from services.common.errors import BusinessRuleViolation, Conflict
from tests.unit.gateway_fakes import (
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    rpc_error,
    sample_order,
)

NEW_CODE = "482913"


def _fulfillment(code: str) -> orders_pb2.Fulfillment:
    fulfillment = orders_pb2.Fulfillment()
    fulfillment.CopyFrom(sample_order(pickup_code=code).fulfillments[0])
    fulfillment.status = FulfillmentStatus.READY_FOR_PICKUP.to_proto()
    return fulfillment


def _orders(**extra: Any) -> FakeStub:
    return orders_stub(
        GetFulfillment=lambda r: orders_pb2.GetFulfillmentResponse(
            fulfillment=_fulfillment("111111")
        ),
        IssuePickupCode=lambda r: orders_pb2.IssuePickupCodeResponse(
            fulfillment=_fulfillment(NEW_CODE)
        ),
        **extra,
    )


def _client(orders: FakeStub) -> TestClient:
    # Every customer id answers as itself (no merges).
    customers = FakeStub(
        GetCustomer=lambda r: customers_pb2.GetCustomerResponse(
            customer=customers_pb2.Customer(customer_id=r.customer_id)
        )
    )
    return TestClient(make_app(fake_clients(orders=orders, customers=customers)))


def test_the_customer_gets_a_new_code() -> None:
    orders = _orders()
    answer = _client(orders).post(
        "/v1/fulfillments/F1/pickup-code",
        headers=bearer("customer", "C1-sub", customer_id="C1", channel="web"),
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["fulfillment_id"], body["pickup_code"]) == ("F1", NEW_CODE)
    assert body["status"] == "ready_for_pickup"
    [issued] = orders.called("IssuePickupCode")
    assert (issued.fulfillment_id, issued.actor) == ("F1", "C1-sub")


def test_an_agent_may_ask_for_the_customer() -> None:
    orders = _orders()
    answer = _client(orders).post(
        "/v1/fulfillments/F1/pickup-code", headers=bearer("agent", channel="call_center")
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["pickup_code"] == NEW_CODE


def test_another_customer_is_404_and_nothing_is_issued() -> None:
    orders = _orders()
    answer = _client(orders).post(
        "/v1/fulfillments/F1/pickup-code",
        headers=bearer("customer", customer_id="C2", channel="web"),
    )
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert orders.called("IssuePickupCode") == []
    assert "111111" not in answer.text and NEW_CODE not in answer.text


def test_the_store_and_a_guest_may_not_and_anonymous_is_401() -> None:
    orders = _orders()
    client = _client(orders)
    for headers, status in (
        (bearer("associate", "A1", store_id="S1", channel="pos"), 403),
        (bearer("guest", channel="web"), 403),
        (bearer("admin"), 200),
        ({}, 401),
    ):
        answer = client.post("/v1/fulfillments/F1/pickup-code", headers=headers)
        assert answer.status_code == status, (headers, answer.text)
        if status != 200:
            assert NEW_CODE not in answer.text
    assert len(orders.called("IssuePickupCode")) == 1  # the admin's


def test_a_locked_pickup_is_409_and_a_wrong_code_422_without_the_code() -> None:
    for error, status in (
        (Conflict("PICKUP_LOCKED", "locked after 5 wrong pickup codes"), 409),
        (BusinessRuleViolation("WRONG_PICKUP_CODE", "the pickup code does not match"), 422),
    ):
        orders = _orders(HandoverFulfillment=lambda r, error=error: rpc_error(error))
        answer = _client(orders).post(
            "/v1/fulfillments/F1/handover",
            json={"pickup_code": "999999"},
            headers=bearer("associate", "A1", store_id="S1", channel="pos"),
        )
        assert answer.status_code == status, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert "999999" not in answer.text and "111111" not in answer.text
