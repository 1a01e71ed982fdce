"""Issue 11 through the gateway: the development carrier (a shipment is
delivered CARRIER_DELIVERY_SECONDS after it ships: the order shows a
`delivered` event, the customer's timeline the milestone and their messages a
`delivered` message listing what was delivered; a mail return's answer
carries the carrier's label), and PATCH /v1/locations/{id} (admin only, bad
input changes nothing)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_journeys import (
    _wait_for_return_status,
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


def patch(caller: Caller, path: str, body: Any) -> httpx.Response:
    return httpx.patch(
        caller.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {caller.bearer}"},
        timeout=60,
    )


def eventually(read: Any, within: float = 60.0) -> Any:
    """Polls `read()` until it returns something truthy (bounded)."""
    deadline = time.monotonic() + within
    while True:
        found = read()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError("not seen in time")
        time.sleep(0.25)


def ship_order(stack: StackProcess, admin: Caller, guest: Caller) -> dict[str, Any]:
    """A ship-from-store order of 2 mugs and 1 tee, picked and shipped."""
    lat, lon = 41.5000, -96.5000
    store = make_location(admin, lat, lon)
    tee = make_product(admin, 2000)
    mug = make_product(admin, 1000)
    receive_stock(admin, store, tee, 5)
    receive_stock(admin, store, mug, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    placed = customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "channel": "web",
            "lines": [{"sku": mug, "quantity": 2}, {"sku": tee, "quantity": 1}],
            "fulfillment": {
                "type": "ship",
                "address": {
                    "line1": "2 Elm St",
                    "city": "Omaha",
                    "postal_code": "68100",
                    "country": "US",
                    "lat": lat + 0.001,
                    "lon": lon,
                },
            },
            "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    (fulfillment,) = customer.get(f"/v1/orders/{order_id}").json()["fulfillments"]
    fid = fulfillment["fulfillment_id"]
    associate = associate_caller(stack, store)
    picked = associate.post(
        f"/v1/fulfillments/{fid}/pick",
        {"lines": [{"sku": mug, "quantity_picked": 2}, {"sku": tee, "quantity_picked": 1}]},
    )
    assert picked.status_code == 200, picked.text
    shipped = associate.post(
        f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": "1Z-E2E"}
    )
    assert shipped.status_code == 200, shipped.text
    return {
        "order_id": order_id,
        "fulfillment_id": fid,
        "customer_id": customer_id,
        "customer": customer,
        "mug": mug,
        "tee": tee,
        "store": store,
    }


def test_a_shipment_is_delivered_and_the_customer_told_what_was_delivered(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shipped = ship_order(stack, admin, guest)
    customer: Caller = shipped["customer"]
    order_id, fid = shipped["order_id"], shipped["fulfillment_id"]

    def delivered_events() -> list[dict[str, Any]]:
        order = customer.get(f"/v1/orders/{order_id}").json()
        return [e for e in order["events"] if e["type"] == "delivered"]

    [event] = eventually(delivered_events)
    assert event["detail"] == f"{fid} delivered by UPS 1Z-E2E"
    order = customer.get(f"/v1/orders/{order_id}").json()
    assert order["status"] == "shipped"  # delivery is a milestone, not a status

    def delivered_messages() -> list[dict[str, Any]]:
        listing = customer.get(f"/v1/customers/{shipped['customer_id']}/notifications").json()
        return [n for n in listing["items"] if n["kind"] == "order_delivered"]

    [message] = eventually(delivered_messages)
    assert f"2 x {shipped['mug']}, 1 x {shipped['tee']}" in message["body"], message
    assert "1Z-E2E" in message["body"]
    timeline = customer.get(f"/v1/customers/{shipped['customer_id']}/timeline").json()
    kinds = [e["kind"] for e in timeline["items"] if e.get("order_id") == order_id]
    assert kinds.count("order_delivered") == 1, kinds
    # Told once: a second look finds the same single event and message.
    time.sleep(1)
    assert len(delivered_events()) == 1
    assert len(delivered_messages()) == 1


def test_a_mail_return_answer_carries_the_carriers_label(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shipped = ship_order(stack, admin, guest)
    customer: Caller = shipped["customer"]
    made = customer.post(
        "/v1/returns",
        {
            "order_id": shipped["order_id"],
            "lines": [{"sku": shipped["mug"], "quantity": 1, "condition": "sellable"}],
            "method": "mail",
        },
    )
    assert made.status_code == 201, made.text
    label = made.json()["label"]
    assert label["carrier"] == "omni-dev-carrier"
    assert label["reference"].startswith("DEVRET-"), label
    return_id = made.json()["return_id"]
    _wait_for_return_status(customer, return_id, "awaiting_receipt")
    assert customer.get(f"/v1/returns/{return_id}").json()["label"] == label

    # An in-store return has no label.
    in_store = customer.post(
        "/v1/returns",
        {
            "order_id": shipped["order_id"],
            "lines": [{"sku": shipped["tee"], "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": shipped["store"],
        },
    )
    assert in_store.status_code == 201, in_store.text
    assert in_store.json()["label"] is None


def test_only_an_admin_patches_a_location_and_bad_input_changes_nothing(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_location(admin, 42.2000, -95.1000)

    def seen() -> dict[str, Any]:
        listing = guest.get("/v1/locations", near="42.2,-95.1", radius_km=5).json()
        [found] = [item for item in listing["items"] if item["location_id"] == store]
        return dict(found)

    before = seen()
    associate = associate_caller(stack, store)
    customer = customer_caller(stack, make_customer(guest))
    for caller in (associate, customer, guest):
        refused = patch(caller, f"/v1/locations/{store}", {"pick_sla_minutes": 1})
        assert refused.status_code == 403, refused.text
    bad = patch(admin, f"/v1/locations/{store}", {"pick_sla_minutes": -1, "name": "New"})
    assert bad.status_code == 400, bad.text
    wrong_zone = patch(admin, f"/v1/locations/{store}", {"timezone": "Mars/Olympus"})
    assert wrong_zone.status_code == 400, wrong_zone.text
    assert "timezone" in wrong_zone.text
    half_point = patch(admin, f"/v1/locations/{store}", {"lat": 10})
    assert half_point.status_code == 400, half_point.text
    assert seen() == before

    changed = patch(
        admin, f"/v1/locations/{store}", {"pick_sla_minutes": 0.5, "name": "Renamed store"}
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["pick_sla_minutes"], body["name"]) == (0.5, "Renamed store")
    after = seen()
    assert (after["pick_sla_minutes"], after["name"]) == (0.5, "Renamed store")
    assert after["pickup_window_hours"] == before["pickup_window_hours"]
    missing = patch(admin, "/v1/locations/NOPE-404", {"name": "x"})
    assert missing.status_code == 404, missing.text
