"""A store rejects a pickup, end to end through the gateway on the real stack:
the order moves to the nearest other store with the stock (the customer is
told) and completes there; with nowhere to go it is cancelled and voided.

Each test makes its own stores and product, so only they stock the sku.
"""

from __future__ import annotations

from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_journeys import (
    associate_caller,
    available_at,
    customer_caller,
    make_customer,
    make_location,
    make_product,
    place_bopis,
    receive_stock,
)
from tests.e2e.test_payments import admin, guest, provider_operations

__all__ = ["admin", "guest"]

LAT, LON = 45.5152, -122.6784
PRICE = 1800


def order_of(caller: Caller, order_id: str) -> dict[str, Any]:
    response = caller.get(f"/v1/orders/{order_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def pick_tasks(associate: Caller, store: str) -> list[str]:
    response = associate.get(f"/v1/stores/{store}/tasks", type="pick")
    assert response.status_code == 200, response.text
    return [task["fulfillment_id"] for task in response.json()["items"]]


def test_rejected_pickup_moves_to_the_nearest_other_store_and_completes_there(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    first = make_location(admin, LAT, LON)
    near = make_location(admin, LAT + 0.02, LON)
    far = make_location(admin, LAT + 0.2, LON)
    no_pickup = make_location(admin, LAT + 0.01, LON, pickup=False)
    sku = make_product(admin, PRICE)
    for store in (first, near, far, no_pickup):
        receive_stock(admin, store, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    at_first, at_near = associate_caller(stack, first), associate_caller(stack, near)

    placed = place_bopis(customer, customer_id, first, sku, 2, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    [f1] = placed.json()["fulfillments"]

    # Another store's associate cannot see it; a bad body changes nothing.
    assert (
        at_near.post(f"/v1/fulfillments/{f1['fulfillment_id']}/reject", {"reason": "x"}).status_code
        == 404
    )
    assert at_first.post(f"/v1/fulfillments/{f1['fulfillment_id']}/reject", {}).status_code == 400

    rejected = at_first.post(
        f"/v1/fulfillments/{f1['fulfillment_id']}/reject", {"reason": "cooler broke"}
    )
    assert rejected.status_code == 200, rejected.text
    assert (rejected.json()["fulfillment_id"], rejected.json()["status"]) == (
        f1["fulfillment_id"],
        "rerouted",
    )

    order = order_of(customer, order_id)
    assert order["status"] == "placed"
    assert [(f["location_id"], f["status"]) for f in order["fulfillments"]] == [
        (first, "rerouted"),
        (near, "pending"),
    ]
    f2 = order["fulfillments"][1]["fulfillment_id"]
    assert f2 == f"{order_id}-F2"
    assert any(e["type"] == "rerouted" and "cooler broke" in e["detail"] for e in order["events"])
    # The work is now the nearest other pickup store's.
    assert pick_tasks(at_near, near).count(f2) == 1
    assert f1["fulfillment_id"] not in pick_tasks(at_first, first)
    assert available_at(guest, sku, first, LAT, LON) == 5
    assert available_at(guest, sku, near, LAT, LON) == 3
    messages = customer.get(f"/v1/customers/{customer_id}/notifications")
    assert messages.status_code == 200, messages.text
    assert "pickup_rerouted" in [m["kind"] for m in messages.json()["items"]]

    # Rejected work cannot be rejected again.
    again = at_first.post(f"/v1/fulfillments/{f1['fulfillment_id']}/reject", {"reason": "again"})
    assert again.status_code == 409, again.text

    picked = at_near.post(
        f"/v1/fulfillments/{f2}/pick", {"lines": [{"sku": sku, "quantity_picked": 2}]}
    )
    assert picked.status_code == 200, picked.text
    assert order_of(customer, order_id)["status"] == "ready_for_pickup"
    code = order_of(customer, order_id)["fulfillments"][1]["pickup_code"]
    handed = at_near.post(f"/v1/fulfillments/{f2}/handover", {"pickup_code": code})
    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "picked_up"

    done = order_of(customer, order_id)
    assert done["status"] == "completed"
    [payment] = done["payments"]
    assert (payment["status"], payment["captured"]["amount_minor"]) == ("captured", 2 * PRICE)
    assert available_at(guest, sku, near, LAT, LON) == 3
    assert available_at(guest, sku, first, LAT, LON) == 5
    assert available_at(guest, sku, far, LAT, LON) == 5
    assert provider_operations(admin, order_id) == [
        ("authorize", 2 * PRICE, "approved"),
        ("capture", 2 * PRICE, "approved"),
    ]


def test_rejected_pickup_with_nowhere_to_go_is_cancelled_and_voided(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    only = make_location(admin, LAT - 1, LON)
    sku = make_product(admin, PRICE)
    receive_stock(admin, only, sku, 4)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    associate = associate_caller(stack, only)

    placed = place_bopis(customer, customer_id, only, sku, 3, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    fulfillment_id = placed.json()["fulfillments"][0]["fulfillment_id"]
    assert available_at(guest, sku, only, LAT - 1, LON) == 1

    rejected = associate.post(f"/v1/fulfillments/{fulfillment_id}/reject", {"reason": "lost it"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "cancelled"

    order = order_of(customer, order_id)
    assert order["status"] == "cancelled"
    [payment] = order["payments"]
    assert (payment["status"], payment["captured"]["amount_minor"]) == ("voided", 0)
    assert available_at(guest, sku, only, LAT - 1, LON) == 4
    assert [op[0] for op in provider_operations(admin, order_id)] == ["authorize", "void"]
    assert any("lost it" in e["detail"] for e in order["events"] if e["type"] == "cancelled")
    assert pick_tasks(associate, only).count(fulfillment_id) == 0
