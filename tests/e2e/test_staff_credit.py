"""The store as a channel, first parts (issue 14), through the whole stack:
the associates registry decides which associate tokens work, sales are
credited to the associate who placed or referred them and reported per
store, staff look orders and customers up, and every placed order is
confirmed to the customer with its lines."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from stack.associates import registered_associate_token
from stack.harness import StackProcess
from tests.e2e.api import Caller, token, unique
from tests.e2e.test_journeys import (
    customer_caller,
    make_customer,
    make_location,
    make_product,
    place_bopis,
    receive_stock,
)

LAT, LON = 45.5152, -122.6784


def until(condition: Callable[[], Any], what: str, seconds: float = 30.0) -> Any:
    """Polls `condition` until it answers something truthy (the outbox and the
    journey's records land after the placement's answer)."""
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_registry_credit_lookup_and_confirmation(stack: StackProcess) -> None:
    admin = Caller(stack.gateway_url, token("admin"))
    guest = Caller(stack.gateway_url, token("guest", channel="web"))
    store = make_location(admin, LAT, LON)
    sku = make_product(admin, 1500)
    receive_stock(admin, store, sku, 10)

    # An associate token must name a registered, active associate.
    stranger = Caller(stack.gateway_url, token("associate", sub=unique("nobody"), store_id=store))
    refused = stranger.get(f"/v1/stores/{store}/tasks")
    assert refused.status_code == 403, refused.text
    ada_id = unique("ada")
    ada = Caller(
        stack.gateway_url, registered_associate_token(stack.gateway_url, store, associate_id=ada_id)
    )
    assert ada.get(f"/v1/stores/{store}/tasks").status_code == 200
    listed = ada.get("/v1/associates")
    assert [a["associate_id"] for a in listed.json()["items"]] == [ada_id]
    again = admin.post(
        "/v1/associates", {"associate_id": ada_id, "name": "Someone Else", "store_id": store}
    )
    assert again.status_code == 409, again.text

    # A customer's online order names Ada as referral; an unknown referral is a 422.
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    body = {
        "customer_id": customer_id,
        "lines": [{"sku": sku, "quantity": 2}],
        "fulfillment": {"type": "pickup", "location_id": store},
        "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
    }
    unknown = customer.post("/v1/orders", {**body, "referral_associate_id": unique("ghost")})
    assert unknown.status_code == 422, unknown.text
    assert [e["field"] for e in unknown.json()["errors"]] == ["referral_associate_id"]
    placed = customer.post("/v1/orders", {**body, "referral_associate_id": ada_id})
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["referral_associate_id"] == ada_id
    assert order["credited_associate_id"] == ada_id
    total = order["totals"]["total"]["amount_minor"]

    # An order the customer placed alone is credited to nobody.
    alone = place_bopis(customer, customer_id, store, sku, 1, "tok_approve")
    assert alone.status_code == 201, alone.text
    assert alone.json().get("credited_associate_id") is None

    report = admin.get("/v1/reports/staff-sales", store_id=store)
    assert report.status_code == 200, report.text
    [credit] = report.json()["associates"]
    assert credit["associate_id"] == ada_id
    assert credit["orders_credited"] == 1
    assert credit["gross"]["amount_minor"] == total == credit["net"]["amount_minor"]
    assert [c["channel"] for c in credit["by_channel"]] == ["web"]
    assert ada.get("/v1/reports/staff-sales", store_id=store).status_code == 200
    other = ada.get("/v1/reports/staff-sales", store_id=unique("LOC"))
    assert other.status_code == 404

    # Lookup: the associate finds the store's orders and the customer by email.
    orders = ada.get("/v1/orders")
    assert orders.status_code == 200, orders.text
    ids = [o["order_id"] for o in orders.json()["items"]]
    assert ids[:2] == [alone.json()["order_id"], order["order_id"]]
    profile = customer.get(f"/v1/customers/{customer_id}").json()
    email = next(i["value"] for i in profile["identities"] if i["kind"] == "email")
    found = ada.get("/v1/customers", email=email.upper())
    assert found.status_code == 200, found.text
    assert [c["customer_id"] for c in found.json()["items"]] == [customer_id]
    assert "loyalty_points" not in found.json()["items"][0]
    assert customer.get("/v1/customers", email=email).status_code == 403

    # Every placed order is confirmed to the customer, with its lines.
    def confirmations() -> list[dict[str, Any]]:
        listing = customer.get(f"/v1/customers/{customer_id}/notifications")
        assert listing.status_code == 200, listing.text
        items: list[dict[str, Any]] = listing.json()["items"]
        return [m for m in items if m["kind"] == "order_confirmed"]

    confirmed = until(lambda: len(confirmations()) == 2 and confirmations(), "two confirmations")
    bodies = " ".join(m["body"] for m in confirmed)
    assert order["order_id"] in bodies and f"2 x {sku}" in bodies and f"1 x {sku}" in bodies

    # Deactivated: Ada's token is refused and she can no longer be credited;
    # her past credit stays.
    gone = admin.post(f"/v1/associates/{ada_id}/deactivate", {})
    assert gone.status_code == 200 and gone.json()["active"] is False
    assert ada.get(f"/v1/stores/{store}/tasks").status_code == 403
    late = customer.post("/v1/orders", {**body, "referral_associate_id": ada_id})
    assert late.status_code == 422, late.text
    [kept] = admin.get("/v1/reports/staff-sales", store_id=store).json()["associates"]
    assert kept["orders_credited"] == 1
