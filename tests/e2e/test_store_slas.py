"""Store clocks, partial handover and capacity through the gateway on the real
stack (issue 11): a pick nobody does within the store's (fractional) pick SLA
shows overdue, then moves to the next store exactly as a reject; that store
hands over only part of it, which is all that is charged; a store at its
daily order capacity refuses a pickup with a 422 naming it. Checked from
outside: stock (invariants, availability), the dev provider's operations and
the customer's timeline.
"""

from __future__ import annotations

from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller, unique
from tests.e2e.test_customers import eventually, json_of
from tests.e2e.test_journeys import (
    associate_caller,
    available_at,
    customer_caller,
    make_customer,
    make_product,
    place_bopis,
    receive_stock,
)
from tests.e2e.test_payments import admin, guest, provider_operations

__all__ = ["admin", "guest"]

LAT, LON = 39.7392, -104.9903
PRICE = 1500


def store(admin: Caller, lat: float, *, pick_sla_minutes: float = 120, capacity: int = 0) -> str:
    location_id = unique("SLA")
    response = admin.post(
        "/v1/locations",
        {
            "location_id": location_id,
            "name": f"Store {location_id}",
            "kind": "store",
            "lat": lat,
            "lon": LON,
            "pickup_enabled": True,
            "ship_from_enabled": False,
            "daily_order_capacity": capacity,
            "pickup_window_hours": 72,
            "pick_sla_minutes": pick_sla_minutes,
            "curbside_sla_minutes": 10,
            "timezone": "America/Denver",
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["timezone"] == "America/Denver"
    return location_id


def order_of(caller: Caller, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = json_of(caller.get(f"/v1/orders/{order_id}"))
    return body


def healthy(admin: Caller, sku: str) -> None:
    report = json_of(admin.get("/v1/inventory/invariants", skus=sku))
    assert report["healthy"], report


def test_a_late_pick_is_overdue_then_rerouted_and_the_next_store_hands_over_part(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    slow = store(admin, LAT, pick_sla_minutes=0.05)  # 3 s: overdue at 3 s, moved at 6 s
    near = store(admin, LAT + 0.02)
    sku = make_product(admin, PRICE)
    for location in (slow, near):
        receive_stock(admin, location, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    at_slow, at_near = associate_caller(stack, slow), associate_caller(stack, near)

    placed = place_bopis(customer, customer_id, slow, sku, 2, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    f1 = f"{order_id}-F1"

    # Overdue on the store's task list before it moves (or, on a slow machine,
    # the pick_overdue event is on the order once it has moved).
    order = eventually(
        lambda: order_of(customer, order_id),
        lambda o: any(e["type"] == "pick_overdue" for e in o["events"]),
    )
    assert any(f1 in e["detail"] and slow in e["detail"] for e in order["events"])
    moved = eventually(
        lambda: order_of(customer, order_id),
        lambda o: [f["status"] for f in o["fulfillments"]] == ["rerouted", "pending"],
    )
    assert [(f["location_id"], f["status"]) for f in moved["fulfillments"]] == [
        (slow, "rerouted"),
        (near, "pending"),
    ]
    [rerouted] = [e for e in moved["events"] if e["type"] == "rerouted"]
    assert "by pick SLA" in rerouted["detail"]
    f2 = f"{order_id}-F2"
    tasks = json_of(at_near.get(f"/v1/stores/{near}/tasks", type="pick"))["items"]
    [task] = [t for t in tasks if t["fulfillment_id"] == f2]
    assert task["overdue"] is False  # a fresh clock at the new store
    assert f1 not in [
        t["fulfillment_id"] for t in json_of(at_slow.get(f"/v1/stores/{slow}/tasks"))["items"]
    ]
    assert available_at(guest, sku, slow, LAT, LON) == 5
    assert available_at(guest, sku, near, LAT, LON) == 3
    healthy(admin, sku)

    picked = at_near.post(
        f"/v1/fulfillments/{f2}/pick", {"lines": [{"sku": sku, "quantity_picked": 2}]}
    )
    assert picked.status_code == 200, picked.text
    code = order_of(customer, order_id)["fulfillments"][1]["pickup_code"]
    # Lines that do not fit the pick are refused and change nothing.
    too_many = at_near.post(
        f"/v1/fulfillments/{f2}/handover",
        {"pickup_code": code, "lines": [{"sku": sku, "quantity": 3}]},
    )
    assert too_many.status_code in (400, 422), too_many.text
    assert order_of(customer, order_id)["status"] == "ready_for_pickup"

    # The customer takes one of the two: one is charged, one goes back on the shelf.
    handed = at_near.post(
        f"/v1/fulfillments/{f2}/handover",
        {"pickup_code": code, "lines": [{"sku": sku, "quantity": 1}]},
    )
    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "picked_up"
    done = order_of(customer, order_id)
    assert done["status"] == "completed"
    [payment] = done["payments"]
    assert payment["captured"]["amount_minor"] == PRICE
    assert any("not taken, released" in e["detail"] for e in done["events"])
    assert available_at(guest, sku, near, LAT, LON) == 4
    assert available_at(guest, sku, slow, LAT, LON) == 5
    healthy(admin, sku)
    # One unit charged, the other unit's share of the authorization let go, once each.
    assert provider_operations(admin, order_id) == [
        ("authorize", 2 * PRICE, "approved"),
        ("capture", PRICE, "approved"),
        ("release", PRICE, "approved"),
    ]
    timeline = eventually(
        lambda: [
            e["kind"]
            for e in json_of(customer.get(f"/v1/customers/{customer_id}/timeline"))["items"]
            if e.get("order_id") == order_id
        ],
        lambda kinds: "order_completed" in kinds,
    )
    assert sorted(timeline) == [
        "order_completed",
        "order_placed",
        "pickup_rerouted",
        "ready_for_pickup",
    ]


def test_a_store_at_its_daily_capacity_refuses_a_pickup_naming_itself(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    full = store(admin, LAT - 0.5, capacity=1)
    sku = make_product(admin, PRICE)
    receive_stock(admin, full, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)

    first = place_bopis(customer, customer_id, full, sku, 1, "tok_approve")
    assert first.status_code == 201, first.text
    second = place_bopis(customer, customer_id, full, sku, 1, "tok_approve")
    assert second.status_code == 422, second.text
    problem = second.json()
    assert problem["type"].endswith("/store-at-capacity"), problem
    assert full in problem["detail"]
    # Nothing was left held or charged for the refused order.
    assert available_at(guest, sku, full, LAT - 0.5, LON) == 4
    healthy(admin, sku)
