"""End to end through the gateway: a mail return received at a warehouse, and
curbside arrival moving a pickup to the top of the store's tasks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from stack.harness import StackProcess
from tests.e2e.api import Caller, money, token, unique
from tests.e2e.test_journeys import (
    associate_caller,
    available_at,
    customer_caller,
    make_customer,
    make_location,
    make_product,
    payment_totals,
    place_bopis,
    receive_stock,
)

LAT, LON = 45.5152, -122.6784


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


def make_warehouse(admin: Caller) -> str:
    location_id = unique("WH")
    response = admin.post(
        "/v1/locations",
        {
            "location_id": location_id,
            "name": f"Warehouse {location_id}",
            "kind": "warehouse",
            "lat": LAT,
            "lon": LON,
            "pickup_enabled": False,
            "ship_from_enabled": True,
            "daily_order_capacity": 0,
        },
    )
    assert response.status_code == 201, response.text
    return location_id


def poll(read: Any, done: Any, what: str) -> dict[str, Any]:
    """Reads until `done(body)`; the journey records its progress after answering."""
    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = read()
        if done(body):
            return body
        time.sleep(0.2)
    raise AssertionError(f"{what}: {body}")


def ship_and_deliver(
    stack: StackProcess, admin: Caller, guest: Caller, warehouse: str, sku: str
) -> tuple[str, str]:
    """An online order of 2 shipped from the warehouse; (order id, customer id)."""
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
                    "line1": "2 River Rd",
                    "city": "Portland",
                    "postal_code": "97201",
                    "country": "US",
                    "lat": LAT + 0.001,
                    "lon": LON,
                },
            },
            "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    (fulfillment,) = customer.get(f"/v1/orders/{order_id}").json()["fulfillments"]
    assert fulfillment["location_id"] == warehouse
    packer = associate_caller(stack, warehouse)
    fid = fulfillment["fulfillment_id"]
    picked = packer.post(
        f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": sku, "quantity_picked": 2}]}
    )
    assert picked.status_code == 200, picked.text
    shipped = packer.post(
        f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": "1ZM"}
    )
    assert shipped.status_code == 200, shipped.text
    return order_id, customer_id


def test_mail_return_is_received_at_a_warehouse_restocked_and_refunded(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    warehouse = make_warehouse(admin)
    other_store = make_location(admin, LAT + 0.3, LON)
    sku = make_product(admin, 1800)
    receive_stock(admin, warehouse, sku, 5)
    order_id, customer_id = ship_and_deliver(stack, admin, guest, warehouse, sku)
    assert available_at(guest, sku, warehouse, LAT, LON) == 3
    customer = customer_caller(stack, customer_id)

    created = customer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": 2, "condition": "sellable"}],
            "method": "mail",
        },
    )
    assert created.status_code == 201, created.text
    return_id = created.json()["return_id"]
    assert created.json()["refund"] == money(3600)
    waiting = poll(
        lambda: customer.get(f"/v1/returns/{return_id}").json(),
        lambda body: body["status"] == "awaiting_receipt",
        "the mail return never awaited its parcel",
    )
    assert waiting["location_id"] is None

    packer = associate_caller(stack, warehouse)
    parcel = {
        "location_id": warehouse,
        "lines": [
            {"sku": sku, "quantity": 1, "condition": "sellable"},
            {"sku": sku, "quantity": 1, "condition": "damaged"},
        ],
    }
    # Another store's associate cannot take it in at the warehouse; a customer never.
    elsewhere = associate_caller(stack, other_store).post(
        f"/v1/returns/{return_id}/receive", parcel
    )
    assert elsewhere.status_code == 404, elsewhere.text
    by_customer = customer.post(f"/v1/returns/{return_id}/receive", parcel)
    assert by_customer.status_code == 403, by_customer.text
    too_many = packer.post(
        f"/v1/returns/{return_id}/receive",
        {"location_id": warehouse, "lines": [{"sku": sku, "quantity": 3, "condition": "sellable"}]},
    )
    assert too_many.status_code == 400, too_many.text
    assert [e["field"] for e in too_many.json()["errors"]] == ["lines[0].quantity"]
    stranger = packer.post(
        f"/v1/returns/{return_id}/receive",
        {
            "location_id": warehouse,
            "lines": [{"sku": "NOPE", "quantity": 1, "condition": "sellable"}],
        },
    )
    assert stranger.status_code == 400, stranger.text
    assert customer.get(f"/v1/returns/{return_id}").json()["status"] == "awaiting_receipt"

    key = unique("receive")
    received = packer.post(f"/v1/returns/{return_id}/receive", parcel, idempotency_key=key)
    assert received.status_code == 200, received.text
    body = received.json()
    assert (body["status"], body["location_id"]) == ("refunded", warehouse)
    assert [(r["amount"]["amount_minor"], r["status"]) for r in body["refunds"]] == [
        (3600, "succeeded")
    ]
    assert {"received", "refunded"} <= {e["type"] for e in body["events"]}
    # Only the sellable unit goes back on the warehouse's shelf.
    assert available_at(guest, sku, warehouse, LAT, LON) == 4
    order = customer.get(f"/v1/orders/{order_id}").json()
    assert payment_totals(order) == (3600, 3600, 3600)

    replayed = packer.post(f"/v1/returns/{return_id}/receive", parcel, idempotency_key=key)
    assert (replayed.status_code, replayed.json()) == (200, body)
    twice = packer.post(f"/v1/returns/{return_id}/receive", parcel)
    assert twice.status_code == 409, twice.text
    assert available_at(guest, sku, warehouse, LAT, LON) == 4
    assert packer.get(f"/v1/returns/{return_id}").status_code == 200


def test_receiving_an_in_store_return_is_a_conflict(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    warehouse = make_warehouse(admin)
    sku = make_product(admin, 900)
    receive_stock(admin, warehouse, sku, 2)
    order_id, _ = ship_and_deliver(stack, admin, guest, warehouse, sku)
    packer = associate_caller(stack, warehouse)
    created = packer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": warehouse,
        },
    )
    assert created.status_code == 201, created.text
    response = packer.post(
        f"/v1/returns/{created.json()['return_id']}/receive",
        {"location_id": warehouse, "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}]},
    )
    assert response.status_code == 409, response.text
    missing = packer.post(
        "/v1/returns/ret_missing/receive",
        {"location_id": warehouse, "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}]},
    )
    assert missing.status_code == 404, missing.text


def _ready_pickup(
    stack: StackProcess, guest: Caller, store: str, sku: str
) -> tuple[Caller, str, str]:
    """A BOPIS order of one, picked: (its customer, order id, fulfillment id)."""
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    placed = place_bopis(customer, customer_id, store, sku, 1, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    (fulfillment,) = customer.get(f"/v1/orders/{order_id}").json()["fulfillments"]
    fid = fulfillment["fulfillment_id"]
    early = customer.post(f"/v1/fulfillments/{fid}/arrived", {"note": "too soon"})
    assert early.status_code == 409, early.text
    picked = associate_caller(stack, store).post(
        f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": sku, "quantity_picked": 1}]}
    )
    assert picked.status_code == 200, picked.text
    return customer, order_id, fid


def _pickup_tasks(associate: Caller, store: str, **params: Any) -> dict[str, Any]:
    response = associate.get(f"/v1/stores/{store}/tasks", type="pickup", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_curbside_arrival_moves_the_pickup_to_the_top_of_the_store_tasks(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_location(admin, LAT - 0.2, LON)
    sku = make_product(admin, 1100)
    receive_stock(admin, store, sku, 5)
    _, _, first = _ready_pickup(stack, guest, store, sku)
    customer, order_id, second = _ready_pickup(stack, guest, store, sku)
    associate = associate_caller(stack, store)
    assert [t["fulfillment_id"] for t in _pickup_tasks(associate, store)["items"]] == [
        first,
        second,
    ]

    # Only the order's own customer says they are here.
    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.post(f"/v1/fulfillments/{second}/arrived", {"note": ""}).status_code == 404
    assert associate.post(f"/v1/fulfillments/{second}/arrived", {"note": ""}).status_code == 403

    arrived = customer.post(f"/v1/fulfillments/{second}/arrived", {"note": "blue van, bay 3"})
    assert arrived.status_code == 200, arrived.text
    body = arrived.json()
    assert (body["status"], body["arrival_note"]) == ("ready_for_pickup", "blue van, bay 3")
    assert body["arrived_at"] and body["pickup_code"]
    again = customer.post(f"/v1/fulfillments/{second}/arrived", {"note": "still here"})
    assert again.status_code == 200, again.text
    assert (again.json()["arrived_at"], again.json()["arrival_note"]) == (
        body["arrived_at"],
        "blue van, bay 3",
    )

    tasks = _pickup_tasks(associate, store)["items"]
    assert [t["fulfillment_id"] for t in tasks] == [second, first]
    assert tasks[0]["arrival_note"] == "blue van, bay 3" and tasks[1]["arrived_at"] is None
    page = _pickup_tasks(associate, store, limit=1)
    assert [t["fulfillment_id"] for t in page["items"]] == [second]
    rest = _pickup_tasks(associate, store, limit=1, cursor=page["next_cursor"])
    assert [t["fulfillment_id"] for t in rest["items"]] == [first]
    everything = associate.get(f"/v1/stores/{store}/tasks").json()["items"]
    assert everything[0]["fulfillment_id"] == second

    order = customer.get(f"/v1/orders/{order_id}").json()
    arrivals = [e for e in order["events"] if e["type"] == "customer_arrived"]
    assert len(arrivals) == 1 and "blue van, bay 3" in arrivals[0]["detail"]
    assert order["fulfillments"][0]["arrived_at"] == body["arrived_at"]

    handed = associate.post(
        f"/v1/fulfillments/{second}/handover", {"pickup_code": body["pickup_code"]}
    )
    assert handed.status_code == 200, handed.text
    after = customer.post(f"/v1/fulfillments/{second}/arrived", {"note": ""})
    assert after.status_code == 409, after.text
    assert [t["fulfillment_id"] for t in _pickup_tasks(associate, store)["items"]] == [first]
