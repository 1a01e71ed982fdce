"""Issue 11 (exchanges), through the gateway: an associate takes back one unit
of a collected BOPIS order in store and exchanges it for another product to
collect at the same store. The replacement is reserved first (availability),
the refund pays for it, the difference is charged (dearer) or refunded
(cheaper) once (the dev provider's operations), the replacement is its own
order that waits for pickup and is collected, the customer's timeline shows
it, and CheckInvariants stays healthy. A replacement out of stock is a 422
that changes nothing. Abuse: another customer's order, a line past its return
window, a card number in the body."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_journeys import (
    _wait_for_return_status,
    admin,
    associate_caller,
    available_at,
    customer_caller,
    guest,
    make_customer,
    make_location,
    make_product,
    place_bopis,
    receive_stock,
)
from tests.e2e.test_payments import issue_gift_card, provider_operations

__all__ = ["admin", "guest"]  # the fixtures, shared with test_journeys

LAT, LON = 40.7400, -73.9900


class Shop:
    """One test's store, the product bought (1500), its stock and customer."""

    def __init__(self, stack: StackProcess, admin: Caller, guest: Caller) -> None:
        self.stack = stack
        self.admin = admin
        self.guest = guest
        self.store = make_location(admin, LAT, LON)
        self.sku = make_product(admin, 1500)
        receive_stock(admin, self.store, self.sku, 5)
        self.customer_id = make_customer(guest)
        self.customer = customer_caller(stack, self.customer_id)
        self.associate = associate_caller(stack, self.store)

    def product(self, cents: int, stock: int, returnable_days: int = 30) -> str:
        sku = make_product(self.admin, cents, returnable_days)
        if stock:
            receive_stock(self.admin, self.store, sku, stock)
        return sku

    def available(self, sku: str) -> int:
        return available_at(self.guest, sku, self.store, LAT, LON)

    def collect(self, order_id: str) -> dict[str, Any]:
        """The store picks and hands over every line of a pickup order."""
        order = _wait_for_order(self.customer, order_id, lambda o: bool(o["fulfillments"]))
        (fulfillment,) = order["fulfillments"]
        fid = fulfillment["fulfillment_id"]
        lines = [{"sku": ln["sku"], "quantity_picked": ln["quantity"]} for ln in order["lines"]]
        picked = self.associate.post(f"/v1/fulfillments/{fid}/pick", {"lines": lines})
        assert picked.status_code == 200, picked.text
        ready = _wait_for_order(
            self.customer, order_id, lambda o: bool(o["fulfillments"][0].get("pickup_code"))
        )
        code = ready["fulfillments"][0]["pickup_code"]
        handed = self.associate.post(f"/v1/fulfillments/{fid}/handover", {"pickup_code": code})
        assert handed.status_code == 200, handed.text
        return _wait_for_order(self.customer, order_id, lambda o: o["status"] == "completed")

    def bought(self, quantity: int = 1) -> str:
        placed = place_bopis(
            self.customer, self.customer_id, self.store, self.sku, quantity, "tok_approve"
        )
        assert placed.status_code == 201, placed.text
        order_id: str = placed.json()["order_id"]
        self.collect(order_id)
        return order_id

    def exchange(self, order_id: str, sku: str, caller: Caller | None = None) -> Any:
        return (caller or self.associate).post(
            "/v1/returns",
            {
                "order_id": order_id,
                "lines": [{"sku": self.sku, "quantity": 1, "condition": "sellable"}],
                "method": "in_store",
                "location_id": self.store,
                "exchange": {
                    "lines": [{"sku": sku, "quantity": 1}],
                    "fulfillment": {"type": "pickup", "location_id": self.store},
                },
            },
        )

    def healthy(self, *skus: str) -> None:
        report = self.admin.get("/v1/inventory/invariants", skus=",".join(skus))
        assert report.status_code == 200, report.text
        assert report.json()["healthy"], report.json()


def _wait_for_order(caller: Caller, order_id: str, done: Any) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        response = caller.get(f"/v1/orders/{order_id}")
        if response.status_code == 200 and done(response.json()):
            body: dict[str, Any] = response.json()
            return body
        assert time.monotonic() < deadline, response.text
        time.sleep(0.2)


def _exchanged(shop: Shop, order_id: str, sku: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An in-store exchange by the store's associate (goods in hand): the
    return refunded, its replacement placed and waiting for pickup."""
    response = shop.exchange(order_id, sku)
    assert response.status_code == 201, response.text
    created = response.json()
    replacement_id = created["replacement_order_id"]
    assert replacement_id
    returned = _wait_for_return_status(shop.customer, created["return_id"], "refunded")
    assert returned["replacement_order_id"] == replacement_id
    replacement = _wait_for_order(shop.customer, replacement_id, lambda o: o["status"] == "placed")
    assert replacement["exchange_for"] == created["return_id"]
    assert replacement["customer_id"] == shop.customer_id
    assert [(ln["sku"], ln["quantity"]) for ln in replacement["lines"]] == [(sku, 1)]
    return returned, replacement


def _timeline(shop: Shop) -> list[dict[str, Any]]:
    response = shop.customer.get(f"/v1/customers/{shop.customer_id}/timeline")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_same_price_swap_is_paid_by_the_refund_and_charges_nothing(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    swap = shop.product(1500, stock=2)
    before = provider_operations(admin, order_id)

    returned, replacement = _exchanged(shop, order_id, swap)
    # Held for the replacement at once; the returned unit back on the shelf.
    assert shop.available(swap) == 1
    assert shop.available(shop.sku) == 5
    assert [(r["tender_type"], r["amount"]["amount_minor"]) for r in returned["refunds"]] == [
        ("store_credit", 1500)
    ]
    # Nothing went back to the card, nothing new was charged.
    assert provider_operations(admin, order_id) == before
    assert provider_operations(admin, replacement["order_id"]) == []
    assert [
        (p["tender_type"], p["authorized"]["amount_minor"]) for p in replacement["payments"]
    ] == [("gift_card", 1500)]

    shop.collect(replacement["order_id"])
    assert shop.available(swap) == 1
    assert provider_operations(admin, replacement["order_id"]) == []
    kinds = {(e["kind"], e.get("order_id")) for e in _timeline(shop)}
    assert ("refund_issued", order_id) in kinds
    assert ("order_placed", replacement["order_id"]) in kinds
    shop.healthy(shop.sku, swap)


def test_dearer_replacement_charges_the_difference_once_to_the_original_card(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    dearer = shop.product(2500, stock=1)
    before = provider_operations(admin, order_id)

    _, replacement = _exchanged(shop, order_id, dearer)
    assert shop.available(dearer) == 0
    assert provider_operations(admin, order_id) == before
    # The store credit pays 1500, the original card 1000, authorized once.
    assert provider_operations(admin, replacement["order_id"]) == [("authorize", 1000, "approved")]
    assert sorted(
        (p["tender_type"], p["authorized"]["amount_minor"]) for p in replacement["payments"]
    ) == [("card", 1000), ("gift_card", 1500)]

    shop.collect(replacement["order_id"])
    assert provider_operations(admin, replacement["order_id"]) == [
        ("authorize", 1000, "approved"),
        ("capture", 1000, "approved"),
    ]
    shop.healthy(shop.sku, dearer)


def test_cheaper_replacement_refunds_the_difference_once_to_the_original_card(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    cheaper = shop.product(900, stock=1)
    before = provider_operations(admin, order_id)

    returned, replacement = _exchanged(shop, order_id, cheaper)
    assert sorted((r["tender_type"], r["amount"]["amount_minor"]) for r in returned["refunds"]) == [
        ("card", 600),
        ("store_credit", 900),
    ]
    assert provider_operations(admin, order_id) == [*before, ("refund", 600, "approved")]
    assert provider_operations(admin, replacement["order_id"]) == []
    shop.collect(replacement["order_id"])
    # Still refunded once.
    assert provider_operations(admin, order_id) == [*before, ("refund", 600, "approved")]
    shop.healthy(shop.sku, cheaper)


def test_replacement_out_of_stock_is_a_422_and_changes_nothing(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    sold_out = shop.product(1500, stock=0)
    before = provider_operations(admin, order_id)
    timeline_before = _timeline(shop)

    response = shop.exchange(order_id, sold_out)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    # Nothing returned, held, refunded or recorded.
    order = shop.customer.get(f"/v1/orders/{order_id}").json()
    assert [ln["returned_quantity"] for ln in order["lines"]] == [0]
    assert shop.available(shop.sku) == 4
    assert provider_operations(admin, order_id) == before
    assert _timeline(shop) == timeline_before
    shop.healthy(shop.sku)

    # The unit can still be returned (its quantity was not taken).
    plain = shop.associate.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": shop.store,
        },
    )
    assert plain.status_code == 201, plain.text


def test_exchange_abuse_is_refused(stack: StackProcess, admin: Caller, guest: Caller) -> None:
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    swap = shop.product(1500, stock=1)

    # Someone else's order: 404, as if it did not exist.
    stranger = customer_caller(stack, make_customer(guest))
    response = shop.exchange(order_id, swap, caller=stranger)
    assert response.status_code == 404, response.text

    # A card number where a sku goes: 422 naming the field, never echoed.
    number = "4111111111111111"
    response = shop.exchange(order_id, number)
    assert response.status_code == 422, response.text
    assert number not in response.text
    assert "exchange" in response.text

    # A line past its return window (returnable_days 0): 422.
    final_sale = make_product(admin, 1500, returnable_days=0)
    receive_stock(admin, shop.store, final_sale, 1)
    placed = place_bopis(shop.customer, shop.customer_id, shop.store, final_sale, 1, "tok_approve")
    assert placed.status_code == 201, placed.text
    final_order = placed.json()["order_id"]
    shop.collect(final_order)
    response = shop.associate.post(
        "/v1/returns",
        {
            "order_id": final_order,
            "lines": [{"sku": final_sale, "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": shop.store,
            "exchange": {
                "lines": [{"sku": swap, "quantity": 1}],
                "fulfillment": {"type": "pickup", "location_id": shop.store},
            },
        },
    )
    assert response.status_code == 422, response.text
    # Neither refusal held the replacement.
    assert shop.available(swap) == 1
    shop.healthy(swap)


def test_two_exchanges_racing_for_the_last_replacement_one_wins(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """Two associates exchange one unit each of a 2-unit order, at once, for
    the last unit of the replacement: one 201, one 422, and the loser took
    nothing (neither the returned quantity nor stock)."""
    shop = Shop(stack, admin, guest)
    order_id = shop.bought(quantity=2)
    last = shop.product(1500, stock=1)
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(lambda _: shop.exchange(order_id, last), range(2)))
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    (won,) = [a.json() for a in answers if a.status_code == 201]
    _wait_for_return_status(shop.customer, won["return_id"], "refunded")
    order = shop.customer.get(f"/v1/orders/{order_id}").json()
    assert [ln["returned_quantity"] for ln in order["lines"]] == [1]
    assert shop.available(last) == 0
    shop.healthy(shop.sku, last)


def test_a_retried_exchange_is_the_same_return_and_the_same_replacement(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """The same Idempotency-Key sent three times at once: one return, one
    replacement order, one hold."""
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    swap = shop.product(1500, stock=2)
    body = {
        "order_id": order_id,
        "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
        "method": "mail",
        "exchange": {
            "lines": [{"sku": swap, "quantity": 1}],
            "fulfillment": {"type": "pickup", "location_id": shop.store},
        },
    }
    key = f"exchange-{order_id}"
    with ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda _: shop.customer.post("/v1/returns", body, key), range(3)))
    assert {a.status_code for a in answers} == {201}, [a.text for a in answers]
    assert len({(a.json()["return_id"], a.json()["replacement_order_id"]) for a in answers}) == 1
    # A mail exchange waits for the parcel: the replacement is held meanwhile.
    assert shop.available(swap) == 1
    shop.healthy(swap)


def test_a_mail_exchange_shipped_from_another_store_waits_for_the_parcel(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """The customer mails the unit back and has the replacement shipped: it is
    held at once at the location that ships it, placed only when the parcel is
    received, then shipped from there as its own order."""
    shop = Shop(stack, admin, guest)
    order_id = shop.bought()
    warehouse = make_location(admin, LAT + 0.5, LON, pickup=False)
    swap = make_product(admin, 1500)
    receive_stock(admin, warehouse, swap, 1)
    response = shop.customer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
            "method": "mail",
            "exchange": {
                "lines": [{"sku": swap, "quantity": 1}],
                "fulfillment": {
                    "type": "ship",
                    "address": {
                        "line1": "2 Exchange St",
                        "city": "Albany",
                        "postal_code": "12207",
                        "country": "US",
                        "lat": LAT + 0.5,
                        "lon": LON,
                    },
                },
            },
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    replacement_id = created["replacement_order_id"]
    _wait_for_return_status(shop.customer, created["return_id"], "awaiting_receipt")
    assert available_at(guest, swap, warehouse, LAT + 0.5, LON) == 0
    # Not placed until the goods are back, but shown to its owner: `placed`
    # with its lines, where it is held, nothing paid and nothing to pick yet.
    held = shop.customer.get(f"/v1/orders/{replacement_id}")
    assert held.status_code == 200, held.text
    waiting = held.json()
    assert (waiting["status"], waiting["exchange_for"]) == ("placed", created["return_id"])
    assert [(ln["sku"], ln["quantity"]) for ln in waiting["lines"]] == [(swap, 1)]
    assert (waiting["fulfillments"], waiting["payments"]) == ([], [])
    [event] = waiting["events"]
    assert event["type"] == "exchange_held" and warehouse in event["detail"], event
    assert admin.get(f"/v1/orders/{replacement_id}").status_code == 200
    # Anyone else: as if it did not exist; nothing can be done to it yet (409).
    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.get(f"/v1/orders/{replacement_id}").status_code == 404
    assert associate_caller(stack, warehouse).get(f"/v1/orders/{replacement_id}").status_code == 404
    early = shop.customer.post(f"/v1/orders/{replacement_id}/cancel", {"reason": "changed my mind"})
    assert early.status_code == 409, early.text
    assert available_at(guest, swap, warehouse, LAT + 0.5, LON) == 0

    received = shop.associate.post(
        f"/v1/returns/{created['return_id']}/receive",
        {
            "location_id": shop.store,
            "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
        },
    )
    assert received.status_code in (200, 201), received.text
    _wait_for_return_status(shop.customer, created["return_id"], "refunded")
    replacement = _wait_for_order(shop.customer, replacement_id, lambda o: o["status"] == "placed")
    (fulfillment,) = replacement["fulfillments"]
    assert fulfillment["location_id"] == warehouse
    shipper = associate_caller(stack, warehouse)
    fid = fulfillment["fulfillment_id"]
    picked = shipper.post(
        f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": swap, "quantity_picked": 1}]}
    )
    assert picked.status_code == 200, picked.text
    shipped = shipper.post(
        f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": "1ZX"}
    )
    assert shipped.status_code == 200, shipped.text
    done = _wait_for_order(shop.customer, replacement_id, lambda o: o["status"] == "shipped")
    assert [(p["tender_type"], p["captured"]["amount_minor"]) for p in done["payments"]] == [
        ("gift_card", 1500)
    ]
    assert provider_operations(admin, replacement_id) == []
    shop.healthy(shop.sku, swap)


def test_a_short_parcel_with_no_card_to_pay_the_difference_gives_the_replacement_back(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """Two units bought with a gift card are returned by mail for a replacement
    costing both; only one arrives, so the refund (1500) no longer pays it and
    no card can pay the rest: the replacement is refused and its hold given
    back, the refund stays the customer's as store credit, nothing is charged."""
    shop = Shop(stack, admin, guest)
    code = issue_gift_card(admin, 3000)
    placed = shop.customer.post(
        "/v1/orders",
        {
            "customer_id": shop.customer_id,
            "channel": "web",
            "lines": [{"sku": shop.sku, "quantity": 2}],
            "fulfillment": {"type": "pickup", "location_id": shop.store},
            "payment": {"tenders": [{"type": "gift_card", "code": code, "amount_minor": 3000}]},
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    shop.collect(order_id)
    pricey = shop.product(3000, stock=1)
    response = shop.customer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": shop.sku, "quantity": 2, "condition": "sellable"}],
            "method": "mail",
            "exchange": {
                "lines": [{"sku": pricey, "quantity": 1}],
                "fulfillment": {"type": "pickup", "location_id": shop.store},
            },
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()
    _wait_for_return_status(shop.customer, created["return_id"], "awaiting_receipt")
    assert shop.available(pricey) == 0

    received = shop.associate.post(
        f"/v1/returns/{created['return_id']}/receive",
        {
            "location_id": shop.store,
            "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
        },
    )
    assert received.status_code in (200, 201), received.text
    returned = _wait_for_return_status(shop.customer, created["return_id"], "refunded")
    assert "exchange_refused" in [e["type"] for e in returned["events"]]
    assert [(r["tender_type"], r["amount"]["amount_minor"]) for r in returned["refunds"]] == [
        ("store_credit", 1500)
    ]
    # The hold is back; the replacement was never placed nor charged.
    assert shop.available(pricey) == 1
    # The return names it: shown cancelled (never placed), nothing paid.
    refused = shop.customer.get(f"/v1/orders/{created['replacement_order_id']}")
    assert refused.status_code == 200, refused.text
    assert (refused.json()["status"], refused.json()["payments"]) == ("cancelled", [])
    assert provider_operations(admin, created["replacement_order_id"]) == []
    profile = shop.customer.get(f"/v1/customers/{shop.customer_id}").json()
    assert sum(c["balance"]["amount_minor"] for c in profile["store_credit"]) == 1500
    shop.healthy(shop.sku, pricey)
