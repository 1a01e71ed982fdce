"""POST /v1/orders answers with the order's payments without a second round
of calls (issue 10, placement speed): the orders service returns what each
AuthorizePayment answered in PlaceOrderResponse.payments, so neither it nor
the gateway calls ListPayments (the gateway's, as the customer, made payments
ask orders GetOrder back, a full read of the order, on every placement).

Real stack; the spans of the placement's trace show which calls were made."""

from __future__ import annotations

from typing import Any

from stack.harness import StackProcess
from tests.e2e.test_journeys import place_bopis
from tests.e2e.test_tracing import (
    Span,
    bopis_world,
    find,
    gateway_done,
    trace_id_of,
    wait_for_spans,
)

__all__ = ["bopis_world"]  # the fixture, shared with test_tracing


def test_a_placement_answers_with_its_payment_without_listing_as_the_customer(
    stack: StackProcess, bopis_world: dict[str, Any]
) -> None:
    world = bopis_world
    placed = place_bopis(
        world["customer"], world["customer_id"], world["store"], world["sku"], 1, "tok_approve"
    )
    assert placed.status_code == 201, placed.text
    body = placed.json()
    # The answer carries the authorization, as GET /v1/orders/{id} shows it.
    [payment] = body["payments"]
    assert payment["status"] == "authorized" and payment["tender_type"] == "card"
    shown = world["customer"].get(f"/v1/orders/{body['order_id']}")
    assert shown.status_code == 200, shown.text
    assert shown.json()["payments"] == body["payments"]

    def answered(spans: list[Span]) -> bool:
        return bool(gateway_done(spans) and find(spans, "omni-orders", "PlaceOrder"))

    spans = wait_for_spans(stack, trace_id_of(placed), answered)
    # No ListPayments at all: the orders service answers with what
    # AuthorizePayment answered; none by the gateway, and no GetOrder back
    # from payments to orders.
    assert find(spans, "omni-gateway", "ListPayments") == []
    assert find(spans, "omni-orders", "PaymentsService/ListPayments") == []
    assert [s["kind"] for s in find(spans, "omni-orders", "PaymentsService/AuthorizePayment")] == [
        "CLIENT"
    ]
    assert find(spans, "omni-payments", "OrdersService/GetOrder") == []
    assert find(spans, "omni-orders", "OrdersService/GetOrder") == []
