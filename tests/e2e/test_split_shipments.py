"""Split shipments end to end through the gateway (issue 11): no one store has
every line, so the order ships from two; each shipment captures its own share
(the shipping with the first), the last one the rest; a cancel after the first
shipment gives back the rest of the stock and of the authorization. Checked
from outside: stock (CheckInvariants, availability), the dev provider's
operations (nothing twice) and the customer's timeline."""

from __future__ import annotations

from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller, money, unique
from tests.e2e.test_customers import eventually, json_of
from tests.e2e.test_journeys import (
    associate_caller,
    available_at,
    customer_caller,
    make_customer,
    make_product,
    receive_stock,
)
from tests.e2e.test_payments import provider_operations
from tests.e2e.test_pricing import (
    LAT,
    LON,
    admin,
    country_code,
    guest,
    make_store,
    place,
    put_rate,
    region_code,
    ship_to,
)

__all__ = ["admin", "guest"]

TEE, MUG, SHIPPING = 1899, 2450, 895


class Split:
    """Two stores of this test only: NORTH has the tees, SOUTH the mug."""

    def __init__(self, stack: StackProcess, admin: Caller, guest: Caller) -> None:
        self.country = country_code()
        self.region = "SP"
        put_rate(admin, f"{self.country}-{self.region}", 0)
        self.north = make_store(admin, region_code(), LAT + 0.05, LON)
        self.south = make_store(admin, region_code(), LAT - 0.05, LON)
        self.tee, self.mug = make_product(admin, TEE), make_product(admin, MUG)
        receive_stock(admin, self.north, self.tee, 5)
        receive_stock(admin, self.south, self.mug, 5)
        self.method = unique("split").lower()
        made = admin.post(
            "/v1/shipping-methods",
            {
                "method_id": self.method,
                "name": self.method,
                "price": money(SHIPPING),
                "countries": [self.country],
            },
        )
        assert made.status_code == 201, made.text
        self.customer_id = make_customer(guest)
        self.customer = customer_caller(stack, self.customer_id)
        self.at_north = associate_caller(stack, self.north)
        self.at_south = associate_caller(stack, self.south)

    def place(self) -> dict[str, Any]:
        lines = [(self.tee, 2), (self.mug, 1)]
        placed = place(
            self.customer,
            self.customer_id,
            lines,
            ship_to(self.country, self.region, self.method),
        )
        assert placed.status_code == 201, placed.text
        order: dict[str, Any] = placed.json()
        return order

    def fulfillment_at(self, order: dict[str, Any], store: str) -> str:
        [fid] = [f["fulfillment_id"] for f in order["fulfillments"] if f["location_id"] == store]
        return str(fid)

    def ship(self, associate: Caller, fid: str, sku: str, quantity: int, tracking: str) -> Any:
        picked = associate.post(
            f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": sku, "quantity_picked": quantity}]}
        )
        assert picked.status_code == 200, picked.text
        shipped = associate.post(
            f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": tracking}
        )
        assert shipped.status_code == 200, shipped.text
        return shipped.json()

    def order(self, order_id: str) -> dict[str, Any]:
        body: dict[str, Any] = json_of(self.customer.get(f"/v1/orders/{order_id}"))
        return body

    def available(self, guest: Caller, sku: str, store: str) -> int:
        return available_at(guest, sku, store, LAT, LON)

    def healthy(self, admin: Caller) -> None:
        for sku in (self.tee, self.mug):
            report = admin.get("/v1/inventory/invariants", skus=sku)
            assert report.status_code == 200, report.text
            assert report.json()["healthy"], report.json()

    def timeline(self, order_id: str, kinds: int) -> list[str]:
        items = eventually(
            lambda: [
                e
                for e in json_of(self.customer.get(f"/v1/customers/{self.customer_id}/timeline"))[
                    "items"
                ]
                if e.get("order_id") == order_id
            ],
            lambda found: len(found) >= kinds,
        )
        return sorted(e["kind"] for e in items)


def captured(order: dict[str, Any]) -> int:
    return sum(p["captured"]["amount_minor"] for p in order["payments"])


def test_a_split_order_ships_from_two_stores_and_each_shipment_captures_its_share(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    split = Split(stack, admin, guest)
    order = split.place()
    order_id = order["order_id"]
    total = 2 * TEE + MUG + SHIPPING
    assert order["totals"]["total"] == money(total)
    assert {f["location_id"] for f in order["fulfillments"]} == {split.north, split.south}
    north_fid = split.fulfillment_at(order, split.north)
    south_fid = split.fulfillment_at(order, split.south)
    assert split.available(guest, split.tee, split.north) == 3
    assert split.available(guest, split.mug, split.south) == 4
    # Each store sees only its own part: the other's associate cannot ship it.
    wrong = split.at_south.post(
        f"/v1/fulfillments/{north_fid}/ship", {"carrier": "UPS", "tracking_number": "X"}
    )
    assert wrong.status_code == 404, wrong.text

    split.ship(split.at_north, north_fid, split.tee, 2, "1ZNORTH")
    partly = split.order(order_id)
    assert partly["status"] == "partially_shipped"
    # The first shipment: the shipping and its goods.
    assert captured(partly) == SHIPPING + 2 * TEE
    split.ship(split.at_south, south_fid, split.mug, 1, "1ZSOUTH")
    final = eventually(lambda: split.order(order_id), lambda o: o["status"] == "shipped")
    assert captured(final) == total
    assert provider_operations(admin, order_id) == [
        ("authorize", total, "approved"),
        ("capture", SHIPPING + 2 * TEE, "approved"),
        ("capture", MUG, "approved"),
    ]
    assert split.available(guest, split.tee, split.north) == 3
    assert split.available(guest, split.mug, split.south) == 4
    split.healthy(admin)
    assert split.timeline(order_id, 3) == ["order_placed", "order_shipped", "order_shipped"]


def test_cancel_after_the_first_shipment_gives_back_the_rest(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    split = Split(stack, admin, guest)
    order = split.place()
    order_id = order["order_id"]
    split.ship(split.at_north, split.fulfillment_at(order, split.north), split.tee, 2, "1ZN")
    cancelled = split.customer.post(f"/v1/orders/{order_id}/cancel", {"reason": "not needed"})
    assert cancelled.status_code == 200, cancelled.text
    final = eventually(lambda: split.order(order_id), lambda o: o["status"] == "shipped")
    south = [f for f in final["fulfillments"] if f["location_id"] == split.south]
    assert [f["status"] for f in south] == ["cancelled"]
    assert captured(final) == SHIPPING + 2 * TEE
    operations = provider_operations(admin, order_id)
    assert operations[:2] == [
        ("authorize", 2 * TEE + MUG + SHIPPING, "approved"),
        ("capture", SHIPPING + 2 * TEE, "approved"),
    ]
    # The rest of the authorization is let go, once; nothing voided or refunded.
    assert [op for op in operations if op[0] == "release"] == [("release", MUG, "approved")]
    assert not [op for op in operations if op[0] in ("void", "refund")]
    assert split.available(guest, split.mug, split.south) == 5
    assert split.available(guest, split.tee, split.north) == 3
    split.healthy(admin)
    # Nothing more to cancel.
    again = split.customer.post(f"/v1/orders/{order_id}/cancel", {"reason": "again"})
    assert again.status_code == 409, again.text


def test_a_new_shipping_address_moves_the_order_to_the_nearer_store_until_picked(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    split = Split(stack, admin, guest)
    # Both stores also stock the other sku: one location ships it all.
    receive_stock(admin, split.north, split.mug, 5)
    receive_stock(admin, split.south, split.tee, 5)
    lines = [(split.tee, 1), (split.mug, 1)]
    near_north = ship_to(split.country, split.region, split.method)
    near_north["address"]["lat"] = LAT + 0.06
    placed = place(split.customer, split.customer_id, lines, near_north)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    order_id = order["order_id"]
    [first] = order["fulfillments"]
    assert first["location_id"] == split.north
    assert split.available(guest, split.tee, split.north) == 4

    near_south = dict(near_north["address"], line1="2 South St", lat=LAT - 0.06)
    # Another customer cannot; a bad point is a 400.
    stranger = customer_caller(stack, make_customer(guest))
    path = f"/v1/orders/{order_id}/shipping-address"
    assert stranger.put(path, near_south).status_code in (403, 404)
    assert split.customer.put(path, dict(near_south, lat=123)).status_code in (400, 422)
    moved = split.customer.put(path, near_south)
    assert moved.status_code == 200, moved.text
    after = split.order(order_id)
    by_location = {f["location_id"]: f["status"] for f in after["fulfillments"]}
    assert by_location == {split.north: "rerouted", split.south: "pending"}
    assert "address_changed" in [e["type"] for e in after["events"]]
    assert split.available(guest, split.tee, split.north) == 5
    assert split.available(guest, split.tee, split.south) == 4
    # The same store again: nothing moves.
    again = split.customer.put(path, dict(near_south, line1="3 South St"))
    assert again.status_code == 200, again.text
    assert len(split.order(order_id)["fulfillments"]) == 2

    [pending] = [f for f in after["fulfillments"] if f["status"] == "pending"]
    picked = split.at_south.post(
        f"/v1/fulfillments/{pending['fulfillment_id']}/pick",
        {
            "lines": [
                {"sku": split.tee, "quantity_picked": 1},
                {"sku": split.mug, "quantity_picked": 1},
            ]
        },
    )
    assert picked.status_code == 200, picked.text
    late = split.customer.put(path, near_north["address"])
    assert late.status_code == 409, late.text
    split.healthy(admin)
    # Only one authorization, nothing captured or voided by the moves.
    assert [op[0] for op in provider_operations(admin, order_id)] == ["authorize"]
