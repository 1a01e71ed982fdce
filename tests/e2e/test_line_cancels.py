"""Issue 11: a line cancel through the gateway on the real stack. One unit of
a three-unit pickup is cancelled: its stock is available again, a retry with
the same Idempotency-Key gives the first answer and releases nothing more,
the order's line shows the unit cancelled (`quantity_cancelled`, counted
once), the capture at handover takes only the two collected (and only they can be
returned), the customer's
timeline says so, and CheckInvariants stays healthy. Who may ask: the owner
(and agents, admin); an associate 403, another customer 404."""

from __future__ import annotations

import time
from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_journeys import (
    admin,
    associate_caller,
    available_at,
    customer_caller,
    guest,
    make_customer,
    make_location,
    make_product,
    payment_totals,
    place_bopis,
    receive_stock,
)

__all__ = ["admin", "guest"]  # the fixtures, shared with test_journeys


def _eventually(read: Any, within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        found = read()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_cancelled_unit_is_released_and_not_captured(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    lat, lon = 45.5152, -122.6784
    store = make_location(admin, lat, lon)
    sku = make_product(admin, 1500)
    receive_stock(admin, store, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    placed = place_bopis(customer, customer_id, store, sku, 3, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    assert available_at(guest, sku, store, lat, lon) == 2

    # Who may not: an associate (403), another customer (404).
    associate = associate_caller(stack, store)
    body = {"lines": [{"sku": sku, "quantity": 1}], "status": "cancelled"}
    assert associate.post(f"/v1/orders/{order_id}/lines/cancel", body).status_code == 403
    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.post(f"/v1/orders/{order_id}/lines/cancel", body).status_code == 404
    # What the order never had: 422; a malformed body: 400.
    for bad in (
        {"lines": [{"sku": sku, "quantity": 4}]},
        {"lines": [{"sku": "NOPE", "quantity": 1}]},
    ):
        refused = customer.post(f"/v1/orders/{order_id}/lines/cancel", bad)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert customer.post(f"/v1/orders/{order_id}/lines/cancel", {"lines": []}).status_code == 400

    # The unknown "status" field is ignored, never applied.
    first = customer.post(f"/v1/orders/{order_id}/lines/cancel", body, idempotency_key="lc-1")
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "placed"
    again = customer.post(f"/v1/orders/{order_id}/lines/cancel", body, idempotency_key="lc-1")
    assert (again.status_code, again.json()) == (200, first.json())
    assert available_at(guest, sku, store, lat, lon) == 3
    order = customer.get(f"/v1/orders/{order_id}").json()
    (fulfillment,) = order["fulfillments"]
    assert [(line["sku"], line["quantity"]) for line in fulfillment["lines"]] == [(sku, 2)]
    # The order's line shows what was cancelled, once (the retry added nothing).
    assert [
        (line["sku"], line["quantity"], line["quantity_cancelled"]) for line in order["lines"]
    ] == [(sku, 3, 1)]
    assert first.json()["lines"][0]["quantity_cancelled"] == 1
    [cancel_event] = [e for e in order["events"] if e["type"] == "lines_cancelled"]
    assert "1500 given back" in cancel_event["detail"], cancel_event

    picked = associate.post(
        f"/v1/fulfillments/{fulfillment['fulfillment_id']}/pick",
        {"lines": [{"sku": sku, "quantity_picked": 2}]},
    )
    assert picked.status_code == 200, picked.text
    code = customer.get(f"/v1/orders/{order_id}").json()["fulfillments"][0]["pickup_code"]
    handed = associate.post(
        f"/v1/fulfillments/{fulfillment['fulfillment_id']}/handover", {"pickup_code": code}
    )
    assert handed.status_code == 200, handed.text
    # After the handover nothing is left to cancel: 409.
    late = customer.post(f"/v1/orders/{order_id}/lines/cancel", body)
    assert late.status_code == 409, late.text

    done = customer.get(f"/v1/orders/{order_id}").json()
    assert done["status"] == "completed"
    assert [line["quantity_cancelled"] for line in done["lines"]] == [1]
    # Authorized for three, captured for the two collected: the third is never taken.
    assert payment_totals(done) == (4500, 3000, 0)
    assert available_at(guest, sku, store, lat, lon) == 3
    report = admin.get("/v1/inventory/invariants", skus=sku)
    assert report.status_code == 200, report.text
    assert report.json()["healthy"], report.json()

    def told() -> list[dict[str, Any]]:
        timeline = customer.get(f"/v1/customers/{customer_id}/timeline").json()
        return [
            event
            for event in timeline["items"]
            if event.get("kind") == "order_cancelled" and event.get("order_id") == order_id
        ]

    [event] = _eventually(told)
    assert event["amount"]["amount_minor"] == 1500, event

    # The cancelled unit was never delivered: it cannot be returned; the two
    # collected can, refunded what they paid.
    def returning(quantity: int) -> Any:
        return associate.post(
            "/v1/returns",
            {
                "order_id": order_id,
                "lines": [{"sku": sku, "quantity": quantity, "condition": "sellable"}],
                "method": "in_store",
                "location_id": store,
            },
        )

    too_many = returning(3)
    assert too_many.status_code == 422, too_many.text
    returned = returning(2)
    assert returned.status_code == 201, returned.text
    assert returned.json()["refund"]["amount_minor"] == 3000
