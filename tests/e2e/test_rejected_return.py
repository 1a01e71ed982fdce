"""A rejected return through the gateway on the real stack (API.md lists
`rejected`): the parcel of a mail return holds nothing returnable, so the
associate receives every line with quantity 0. The return ends `rejected`
with no refund (the dev provider performed none), stock and damage records
unchanged (availability, CheckInvariants), the order's quantities free to be
returned again, and the customer's timeline says so. An exchange rejected
the same way gives its held replacement back (the stock available again,
the replacement shown cancelled, nothing charged). A negative quantity is a
400 that changes nothing."""

from __future__ import annotations

import time
from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_exchanges import Shop
from tests.e2e.test_journeys import _wait_for_return_status, admin, guest
from tests.e2e.test_payments import provider_operations

__all__ = ["admin", "guest"]  # the fixtures, shared with test_journeys


def _mail_return(shop: Shop, order_id: str, **extra: Any) -> dict[str, Any]:
    response = shop.customer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
            "method": "mail",
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    _wait_for_return_status(shop.customer, created["return_id"], "awaiting_receipt")
    return created


def _receive(shop: Shop, return_id: str, quantity: int) -> Any:
    return shop.associate.post(
        f"/v1/returns/{return_id}/receive",
        {
            "location_id": shop.store,
            "lines": [{"sku": shop.sku, "quantity": quantity, "condition": "sellable"}],
        },
    )


def _told(shop: Shop, return_id: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 30
    while True:
        timeline = shop.customer.get(f"/v1/customers/{shop.customer_id}/timeline").json()
        found = [
            event
            for event in timeline["items"]
            if event.get("kind") == "return_rejected" and event.get("reference_id") == return_id
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_parcel_with_nothing_returnable_rejects_the_return(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    created = _mail_return(shop, order_id)
    return_id = created["return_id"]
    operations = provider_operations(admin, order_id)
    on_shelf = shop.available(shop.sku)

    malformed = _receive(shop, return_id, -1)
    assert malformed.status_code == 400, malformed.text
    assert shop.customer.get(f"/v1/returns/{return_id}").json()["status"] == "awaiting_receipt"

    received = _receive(shop, return_id, 0)
    assert received.status_code == 200, received.text
    rejected = _wait_for_return_status(shop.customer, return_id, "rejected")
    assert rejected["refunds"] == []
    assert [e["type"] for e in rejected["events"]][-1] == "rejected"
    # Nothing refunded, nothing back on the shelf, nothing written off.
    assert provider_operations(admin, order_id) == operations
    assert shop.available(shop.sku) == on_shelf
    shop.healthy(shop.sku)
    # The unit is the customer's again: it may be returned once more.
    order = shop.customer.get(f"/v1/orders/{order_id}").json()
    assert [line["returned_quantity"] for line in order["lines"]] == [0]
    [event] = _told(shop, return_id)
    assert "nothing was refunded" in event["summary"], event
    # A rejected return cannot be received again.
    assert _receive(shop, return_id, 1).status_code == 409
    again = _mail_return(shop, order_id)
    assert again["return_id"] != return_id


def test_a_rejected_exchange_gives_its_replacement_back(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    swap = shop.product(1500, stock=1)
    created = _mail_return(
        shop,
        order_id,
        exchange={
            "lines": [{"sku": swap, "quantity": 1}],
            "fulfillment": {"type": "pickup", "location_id": shop.store},
        },
    )
    replacement_id = created["replacement_order_id"]
    assert shop.available(swap) == 0
    operations = provider_operations(admin, order_id)

    received = _receive(shop, created["return_id"], 0)
    assert received.status_code == 200, received.text
    rejected = _wait_for_return_status(shop.customer, created["return_id"], "rejected")
    assert rejected["refunds"] == []
    assert shop.available(swap) == 1
    replacement = shop.customer.get(f"/v1/orders/{replacement_id}").json()
    assert (replacement["status"], replacement["payments"]) == ("cancelled", [])
    assert "exchange_cancelled" in [e["type"] for e in replacement["events"]]
    assert provider_operations(admin, order_id) == operations
    assert provider_operations(admin, replacement_id) == []
    shop.healthy(shop.sku, swap)
