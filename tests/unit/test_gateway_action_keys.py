"""Store actions, cancel and receive forward the caller's Idempotency-Key
(issue 10, defect 8): a retry after a lost answer (a 503 is never kept, so
it reaches the orders service again) carries the same key, which the journey
turns into the same update id; without the header nothing is derived."""

from __future__ import annotations

from typing import Any

import grpc
from fastapi.testclient import TestClient

from omni.orders.v1 import orders_pb2
from services.common.errors import BusinessRuleViolation
from tests.unit.gateway_fakes import (
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    payments_stub,
    plain_rpc_error,
    rpc_error,
    sample_order,
)

ASSOCIATE = {"store_id": "S1", "channel": "pos"}


def _fulfillment(request: Any) -> Any:
    return sample_order().fulfillments[0]


def _app(orders: FakeStub) -> TestClient:
    return TestClient(make_app(fake_clients(orders=orders, payments=payments_stub())))


def _lost_once(response: Any) -> Any:
    """Answers UNAVAILABLE the first time (the answer lost), then `response`."""
    seen: list[int] = []

    def handler(request: Any) -> Any:
        seen.append(1)
        if len(seen) == 1:
            return plain_rpc_error(grpc.StatusCode.UNAVAILABLE, "orders restarting")
        return response

    return handler


def test_a_pick_retried_after_a_lost_answer_forwards_the_same_key() -> None:
    orders = orders_stub(
        GetFulfillment=lambda r: orders_pb2.GetFulfillmentResponse(fulfillment=_fulfillment(r)),
        PickFulfillment=_lost_once(
            orders_pb2.PickFulfillmentResponse(fulfillment=sample_order().fulfillments[0])
        ),
    )
    client = _app(orders)
    body = {"lines": [{"sku": "SKU-MUG", "quantity_picked": 2}]}
    headers = {**bearer("associate", "amy", **ASSOCIATE), "Idempotency-Key": "pick-1"}
    first = client.post("/v1/fulfillments/F1/pick", json=body, headers=headers)
    assert first.status_code == 503 and first.headers.get("retry-after")
    again = client.post("/v1/fulfillments/F1/pick", json=body, headers=headers)
    assert again.status_code == 200, again.text
    [one, two] = orders.called("PickFulfillment")
    assert one.idempotency_key and one.idempotency_key == two.idempotency_key
    # The raw header never travels: the key is scoped to the caller.
    assert "pick-1" not in one.idempotency_key

    # Another associate's same header value is another key.
    bob = {**bearer("associate", "bob", **ASSOCIATE), "Idempotency-Key": "pick-1"}
    assert client.post("/v1/fulfillments/F1/pick", json=body, headers=bob).status_code == 200
    assert orders.called("PickFulfillment")[-1].idempotency_key != one.idempotency_key

    # Without the header nothing is derived (a repeat is a new action).
    plain = bearer("associate", "amy", **ASSOCIATE)
    assert client.post("/v1/fulfillments/F1/pick", json=body, headers=plain).status_code == 200
    assert orders.called("PickFulfillment")[-1].idempotency_key == ""


def test_handover_ship_reject_cancel_and_receive_forward_the_key() -> None:
    fulfillment = sample_order().fulfillments[0]
    orders = orders_stub(
        GetFulfillment=lambda r: orders_pb2.GetFulfillmentResponse(fulfillment=fulfillment),
        HandoverFulfillment=lambda r: orders_pb2.HandoverFulfillmentResponse(
            fulfillment=fulfillment
        ),
        ShipFulfillment=lambda r: orders_pb2.ShipFulfillmentResponse(fulfillment=fulfillment),
        RejectFulfillment=lambda r: orders_pb2.RejectFulfillmentResponse(fulfillment=fulfillment),
        CancelOrder=lambda r: orders_pb2.CancelOrderResponse(order=sample_order(r.order_id)),
        ReceiveReturn=lambda r: orders_pb2.ReceiveReturnResponse(
            **{"return": orders_pb2.Return(return_id=r.return_id, order_id="O1")}
        ),
    )
    client = _app(orders)
    associate = bearer("associate", "amy", **ASSOCIATE)
    calls = [
        ("/v1/fulfillments/F1/handover", {"pickup_code": "123456"}, "HandoverFulfillment"),
        (
            "/v1/fulfillments/F1/ship",
            {"carrier": "UPS", "tracking_number": "1Z"},
            "ShipFulfillment",
        ),
        ("/v1/fulfillments/F1/reject", {"reason": "cooler broke"}, "RejectFulfillment"),
        (
            "/v1/returns/R1/receive",
            {
                "location_id": "S1",
                "lines": [{"sku": "SKU-MUG", "quantity": 1, "condition": "sellable"}],
            },
            "ReceiveReturn",
        ),
    ]
    for path, body, rpc in calls:
        response = client.post(path, json=body, headers={**associate, "Idempotency-Key": rpc})
        assert response.status_code == 200, (path, response.text)
        assert orders.called(rpc)[-1].idempotency_key.startswith("gw-"), rpc
        response = client.post(path, json=body, headers=associate)
        assert orders.called(rpc)[-1].idempotency_key == "", rpc

    admin = {**bearer("admin", "root"), "Idempotency-Key": "cancel-1"}
    assert client.post("/v1/orders/O1/cancel", json={}, headers=admin).status_code == 200
    assert orders.called("CancelOrder")[-1].idempotency_key.startswith("gw-")


def test_a_refused_capture_at_handover_is_a_422_problem() -> None:
    """CAPTURE_FAILED (the journey refused the handover whole: the capture was
    refused) is a business rule, 422, naming the reason; never a 500 or 503."""
    orders = orders_stub(
        GetFulfillment=lambda r: orders_pb2.GetFulfillmentResponse(fulfillment=_fulfillment(r)),
        HandoverFulfillment=lambda r: rpc_error(
            BusinessRuleViolation(
                "CAPTURE_FAILED",
                "the payment could not be captured (PAYMENT_DECLINED: expired); nothing changed",
                {"payment_reason": "PAYMENT_DECLINED"},
            )
        ),
    )
    client = _app(orders)
    headers = {**bearer("associate", "amy", **ASSOCIATE), "Idempotency-Key": "hand-1"}
    response = client.post(
        "/v1/fulfillments/F1/handover", json={"pickup_code": "123456"}, headers=headers
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422 and problem["reason"] == "CAPTURE_FAILED"
    assert "PAYMENT_DECLINED" in problem["detail"]
