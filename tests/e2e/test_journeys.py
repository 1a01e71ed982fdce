"""End to end through the gateway on the real stack: the spine's journeys.

Each test makes its own locations, products and customers with unique ids, so
sourcing and stock checks see only the test's own world.
"""

from __future__ import annotations

import base64
import binascii
import json
import subprocess
from typing import Any

import pytest

from stack.associates import registered_associate_token
from stack.harness import StackProcess
from stack.temporal import temporal_binary
from tests.e2e.api import Caller, money, token, unique


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


def make_location(
    admin: Caller, lat: float, lon: float, *, pickup: bool = True, ship: bool = True
) -> str:
    location_id = unique("LOC")
    response = admin.post(
        "/v1/locations",
        {
            "location_id": location_id,
            "name": f"Store {location_id}",
            "kind": "store",
            "lat": lat,
            "lon": lon,
            "pickup_enabled": pickup,
            "ship_from_enabled": ship,
            "daily_order_capacity": 100,
            "pickup_window_hours": 72,
            "pick_sla_minutes": 120,
        },
    )
    assert response.status_code == 201, response.text
    return location_id


def make_product(admin: Caller, cents: int, returnable_days: int = 30) -> str:
    sku = unique("SKU")
    response = admin.post(
        "/v1/products",
        {
            "sku": sku,
            "name": f"Product {sku}",
            "price": money(cents),
            "returnable_days": returnable_days,
        },
    )
    assert response.status_code == 201, response.text
    return sku


def receive_stock(admin: Caller, location_id: str, sku: str, quantity: int) -> dict[str, Any]:
    response = admin.post(
        "/v1/inventory/adjustments",
        {"location_id": location_id, "sku": sku, "delta": quantity, "reason": "receipt"},
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def available_at(caller: Caller, sku: str, location_id: str, lat: float, lon: float) -> int:
    response = caller.get(
        "/v1/availability", skus=sku, near=f"{lat},{lon}", radius_km=50, channel="web"
    )
    assert response.status_code == 200, response.text
    (item,) = [i for i in response.json()["items"] if i["sku"] == sku]
    (entry,) = [loc for loc in item["locations"] if loc["location_id"] == location_id]
    available: int = entry["available"]
    return available


def make_customer(guest: Caller) -> str:
    email = f"{unique('shopper').lower()}@example.com"
    response = guest.post("/v1/customers", {"email": email, "phone": "", "name": "Test Shopper"})
    assert response.status_code == 201, response.text
    customer_id: str = response.json()["customer_id"]
    return customer_id


def customer_caller(stack: StackProcess, customer_id: str, channel: str = "web") -> Caller:
    return Caller(stack.gateway_url, token("customer", customer_id=customer_id, channel=channel))


def associate_caller(stack: StackProcess, store_id: str) -> Caller:
    """A registered associate of the store (issue 14: an associate token must
    name a registered, active associate)."""
    return Caller(stack.gateway_url, registered_associate_token(stack.gateway_url, store_id))


def payment_totals(order: dict[str, Any]) -> tuple[int, int, int]:
    payments = order["payments"]
    return (
        sum(p["authorized"]["amount_minor"] for p in payments),
        sum(p["captured"]["amount_minor"] for p in payments),
        sum(p["refunded"]["amount_minor"] for p in payments),
    )


def place_bopis(
    customer: Caller, customer_id: str, store_id: str, sku: str, quantity: int, card: str
) -> Any:
    return customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "channel": "web",
            "lines": [{"sku": sku, "quantity": quantity}],
            "fulfillment": {"type": "pickup", "location_id": store_id},
            "payment": {"tenders": [{"type": "card", "token": card}]},
        },
    )


def collect_bopis(stack: StackProcess, admin: Caller, guest: Caller) -> dict[str, Any]:
    """Places a BOPIS order for 2 units and walks it to completion, checking each step."""
    lat, lon = 47.6062, -122.3321
    store = make_location(admin, lat, lon)
    sku = make_product(admin, 1500)
    receive_stock(admin, store, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    associate = associate_caller(stack, store)

    placed = place_bopis(customer, customer_id, store, sku, 2, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    assert placed.json()["status"] == "placed"
    assert available_at(guest, sku, store, lat, lon) == 3

    order = customer.get(f"/v1/orders/{order_id}").json()
    assert order["workflow_id"] == f"order-{order_id}"
    assert payment_totals(order) == (3000, 0, 0)
    assert order["payments"][0]["status"] == "authorized"
    (fulfillment,) = order["fulfillments"]
    assert fulfillment["location_id"] == store and fulfillment["status"] == "pending"

    tasks = associate.get(f"/v1/stores/{store}/tasks", type="pick").json()
    assert fulfillment["fulfillment_id"] in [t["fulfillment_id"] for t in _items(tasks)]

    picked = associate.post(
        f"/v1/fulfillments/{fulfillment['fulfillment_id']}/pick",
        {"lines": [{"sku": sku, "quantity_picked": 2}]},
    )
    assert picked.status_code == 200, picked.text
    assert picked.json()["status"] == "ready_for_pickup"
    assert "pickup_code" not in picked.json() or not picked.json()["pickup_code"]

    seen_by_customer = customer.get(f"/v1/orders/{order_id}").json()
    assert seen_by_customer["status"] == "ready_for_pickup"
    code = seen_by_customer["fulfillments"][0]["pickup_code"]
    assert code
    seen_by_associate = associate.get(f"/v1/orders/{order_id}").json()
    assert not seen_by_associate["fulfillments"][0].get("pickup_code")

    wrong = "000000" if code != "000000" else "111111"
    refused = associate.post(
        f"/v1/fulfillments/{fulfillment['fulfillment_id']}/handover", {"pickup_code": wrong}
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")

    handed = associate.post(
        f"/v1/fulfillments/{fulfillment['fulfillment_id']}/handover", {"pickup_code": code}
    )
    assert handed.status_code == 200, handed.text
    assert handed.json()["status"] == "picked_up"

    done = customer.get(f"/v1/orders/{order_id}").json()
    assert done["status"] == "completed"
    assert payment_totals(done) == (3000, 3000, 0)
    assert available_at(guest, sku, store, lat, lon) == 3
    return {"order_id": order_id, "sku": sku, "customer_id": customer_id, "store": store}


def _items(listing: dict[str, Any]) -> list[dict[str, Any]]:
    for key in ("tasks", "items", "data"):
        if key in listing:
            items: list[dict[str, Any]] = listing[key]
            return items
    raise AssertionError(f"no list in {listing}")


def test_bopis_order_is_collected_and_captured(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    collect_bopis(stack, admin, guest)


def test_ship_from_store_uses_the_nearest_location_with_all_stock(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    # The nearest store lacks one line; the second nearest has everything.
    near = make_location(admin, 40.0000, -100.0000)
    farther = make_location(admin, 40.0500, -100.0000)
    tee = make_product(admin, 2000)
    mug = make_product(admin, 1000)
    receive_stock(admin, near, tee, 10)
    receive_stock(admin, farther, tee, 10)
    receive_stock(admin, farther, mug, 10)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)

    placed = customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "channel": "web",
            "lines": [{"sku": tee, "quantity": 1}, {"sku": mug, "quantity": 2}],
            "fulfillment": {
                "type": "ship",
                "address": {
                    "line1": "1 Main St",
                    "city": "Plainsville",
                    "postal_code": "68000",
                    "country": "US",
                    "lat": 40.0010,
                    "lon": -100.0000,
                },
            },
            "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    order = customer.get(f"/v1/orders/{order_id}").json()
    (fulfillment,) = order["fulfillments"]
    assert fulfillment["location_id"] == farther
    assert payment_totals(order) == (4000, 0, 0)
    assert available_at(guest, mug, farther, 40.0, -100.0) == 8

    associate = associate_caller(stack, farther)
    fid = fulfillment["fulfillment_id"]
    early = associate.post(
        f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": "1Z1"}
    )
    assert early.status_code == 409, early.text
    picked = associate.post(
        f"/v1/fulfillments/{fid}/pick",
        {"lines": [{"sku": tee, "quantity_picked": 1}, {"sku": mug, "quantity_picked": 2}]},
    )
    assert picked.status_code == 200, picked.text
    shipped = associate.post(
        f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": "1Z999"}
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"

    final = customer.get(f"/v1/orders/{order_id}").json()
    assert final["status"] == "shipped"
    assert final["fulfillments"][0]["tracking"]["tracking_number"] == "1Z999"
    assert payment_totals(final) == (4000, 4000, 0)
    assert available_at(guest, mug, farther, 40.0, -100.0) == 8
    assert available_at(guest, tee, near, 40.0, -100.0) == 10
    # The street address stays in the orders database, out of Temporal's history.
    history = workflow_history(stack, f"order-{order_id}")
    assert order_id in history and "1 Main St" not in history


def workflow_history(stack: StackProcess, workflow_id: str) -> str:
    shown = subprocess.run(
        [
            temporal_binary(),
            "workflow",
            "show",
            "--workflow-id",
            workflow_id,
            "--address",
            stack.temporal_address,
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return shown.stdout + "\n".join(_payload_texts(json.loads(shown.stdout)))


def _payload_texts(node: Any) -> list[str]:
    """Payload bodies in a history are base64; decode them so a search sees them."""
    if isinstance(node, dict):
        found = [text for value in node.values() for text in _payload_texts(value)]
        data = node.get("data")
        if isinstance(data, str):
            try:
                found.append(base64.b64decode(data, validate=True).decode("utf-8", "replace"))
            except (binascii.Error, ValueError):
                pass
        return found
    if isinstance(node, list):
        return [text for item in node for text in _payload_texts(item)]
    return []


def test_online_order_returned_in_another_store(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    bought = collect_bopis(stack, admin, guest)
    other_store = make_location(admin, 47.6200, -122.3500)
    associate = associate_caller(stack, other_store)
    response = associate.post(
        "/v1/returns",
        {
            "order_id": bought["order_id"],
            "lines": [{"sku": bought["sku"], "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": other_store,
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["refund"] == money(1500)
    return_id = created["return_id"]

    returned = _wait_for_return_status(associate, return_id, "refunded")
    assert returned["workflow_id"] == f"return-{return_id}"
    assert [r["amount"]["amount_minor"] for r in returned["refunds"]] == [1500]
    customer = customer_caller(stack, bought["customer_id"])
    order = customer.get(f"/v1/orders/{bought['order_id']}").json()
    assert payment_totals(order) == (3000, 3000, 1500)
    assert available_at(guest, bought["sku"], other_store, 47.62, -122.35) == 1

    again = associate.post(
        "/v1/returns",
        {
            "order_id": bought["order_id"],
            "lines": [{"sku": bought["sku"], "quantity": 2, "condition": "sellable"}],
            "method": "in_store",
            "location_id": other_store,
        },
    )
    assert again.status_code == 422, again.text


def _wait_for_return_status(caller: Caller, return_id: str, status: str) -> dict[str, Any]:
    """The refund runs in the return workflow after the 201; poll its progress."""
    import time

    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = caller.get(f"/v1/returns/{return_id}").json()
        if body.get("status") == status:
            return body
        time.sleep(0.2)
    raise AssertionError(f"return stayed {body.get('status')}: {body}")


def test_declined_card_holds_no_stock_and_creates_no_order(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    lat, lon = 30.2672, -97.7431
    store = make_location(admin, lat, lon)
    sku = make_product(admin, 999)
    receive_stock(admin, store, sku, 3)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)

    declined = place_bopis(customer, customer_id, store, sku, 2, "tok_decline")
    assert declined.status_code == 422, declined.text
    assert declined.headers["content-type"].startswith("application/problem+json")
    problem = declined.json()
    assert problem["status"] == 422 and problem["title"]
    assert available_at(guest, sku, store, lat, lon) == 3

    activity = customer.get(f"/v1/customers/{customer_id}/orders").json()
    assert _items(activity) == [] or all(a.get("status") != "placed" for a in _items(activity))


def test_cancel_releases_stock_and_voids_payment(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    lat, lon = 41.8781, -87.6298
    store = make_location(admin, lat, lon)
    sku = make_product(admin, 2500)
    receive_stock(admin, store, sku, 4)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    placed = place_bopis(customer, customer_id, store, sku, 3, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    assert available_at(guest, sku, store, lat, lon) == 1

    cancelled = customer.post(f"/v1/orders/{order_id}/cancel", {})
    assert cancelled.status_code == 200, cancelled.text
    order = customer.get(f"/v1/orders/{order_id}").json()
    assert order["status"] == "cancelled"
    assert order["payments"][0]["status"] == "voided"
    assert available_at(guest, sku, store, lat, lon) == 4
    again = customer.post(f"/v1/orders/{order_id}/cancel", {})
    assert again.status_code in (200, 409)


def test_customers_see_only_their_own_orders(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    lat, lon = 39.7392, -104.9903
    store = make_location(admin, lat, lon)
    sku = make_product(admin, 500)
    receive_stock(admin, store, sku, 2)
    owner_id = make_customer(guest)
    owner = customer_caller(stack, owner_id)
    placed = place_bopis(owner, owner_id, store, sku, 1, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]

    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.get(f"/v1/orders/{order_id}").status_code == 404
    other_store_associate = associate_caller(stack, unique("ELSEWHERE"))
    assert other_store_associate.get(f"/v1/orders/{order_id}").status_code == 404
    no_token = Caller(stack.gateway_url, "not-a-token")
    assert no_token.get(f"/v1/orders/{order_id}").status_code == 401
    history = owner.get(f"/v1/customers/{owner_id}/orders").json()
    assert order_id in [a.get("reference_id") or a.get("order_id") for a in _items(history)]
