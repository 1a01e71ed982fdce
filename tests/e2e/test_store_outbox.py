"""Issue 11 through the gateway: a ship-from-store pick not done within the
location's pick_sla_minutes (a fractional SLA, 3 s) - the store is told once
(its outbox, GET /v1/stores/{id}/notifications, for its associates only) and
at twice the SLA the shipment moves to the next location."""

from __future__ import annotations

import time
from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_carrier import eventually, patch
from tests.e2e.test_journeys import (
    admin,
    associate_caller,
    customer_caller,
    guest,
    make_customer,
    make_location,
    make_product,
    receive_stock,
)

__all__ = ["admin", "guest"]  # the fixtures, shared with test_journeys


def test_an_overdue_ship_from_store_pick_tells_the_store_once_then_moves(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    lat, lon = 43.1000, -89.4000
    slow = make_location(admin, lat, lon)
    other = make_location(admin, lat + 0.05, lon)
    # The near store's pick SLA: 3 s (the PATCH route sets it).
    assert patch(admin, f"/v1/locations/{slow}", {"pick_sla_minutes": 0.05}).status_code == 200
    sku = make_product(admin, 1500)
    receive_stock(admin, slow, sku, 3)
    receive_stock(admin, other, sku, 3)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    placed = customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "channel": "web",
            "lines": [{"sku": sku, "quantity": 2}],
            "fulfillment": {
                "type": "ship",
                "address": {
                    "line1": "3 Lake St",
                    "city": "Madison",
                    "postal_code": "53700",
                    "country": "US",
                    "lat": lat,
                    "lon": lon,
                },
            },
            "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    associate = associate_caller(stack, slow)

    def told() -> list[dict[str, Any]]:
        listing = associate.get(f"/v1/stores/{slow}/notifications").json()
        return [n for n in listing["items"] if n["reference_id"] == order_id]

    [message] = eventually(told, within=30)
    assert message["kind"] == "pick_overdue"
    assert f"2 x {sku}" in message["body"] and "0.05-minute pick SLA" in message["body"]

    def moved() -> dict[str, Any] | None:
        order = customer.get(f"/v1/orders/{order_id}").json()
        statuses = {f["location_id"]: f["status"] for f in order["fulfillments"]}
        return order if statuses.get(slow) == "rerouted" else None

    order = eventually(moved, within=30)
    assert {f["location_id"]: f["status"] for f in order["fulfillments"]} == {
        slow: "rerouted",
        other: "pending",
    }
    assert [e["type"] for e in order["events"]].count("pick_overdue") == 1
    time.sleep(1)
    assert len(told()) == 1  # told once

    # Only that store's associates (and admins) read its outbox.
    assert associate_caller(stack, other).get(f"/v1/stores/{slow}/notifications").status_code == 404
    assert customer.get(f"/v1/stores/{slow}/notifications").status_code == 403
    assert len(admin.get(f"/v1/stores/{slow}/notifications").json()["items"]) >= 1
