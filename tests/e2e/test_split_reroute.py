"""A store rejects its part of a split order, end to end through the gateway
on the real stack (issue 11): the part goes to a third store, held there by
a child workflow of its own (`order-<id>-f3`), which ships and captures its
own share. Checked from outside: stock (CheckInvariants, availability), the
dev provider's operations (nothing twice), the customer's timeline, and the
child in Temporal."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Client

from services.common.temporal_codec import data_converter
from stack.harness import StackProcess
from tests.e2e.api import Caller
from tests.e2e.test_customers import eventually, json_of
from tests.e2e.test_journeys import associate_caller, available_at, receive_stock
from tests.e2e.test_payments import provider_operations
from tests.e2e.test_pricing import LAT, LON, admin, guest, make_store, place, region_code, ship_to
from tests.e2e.test_split_shipments import MUG, SHIPPING, TEE, Split, captured
from workflows.contracts.journeys import order_workflow_id, shipment_workflow_id

__all__ = ["admin", "guest"]

CHILD_WITHIN = 60.0


async def child_of(stack: StackProcess, order_id: str, number: int) -> tuple[str, Any]:
    """The parent's id and the result of the order's child `number`."""
    client = await Client.connect(stack.temporal_address, data_converter=data_converter())
    handle = client.get_workflow_handle(shipment_workflow_id(order_id, number))
    described = await handle.describe()
    result = await asyncio.wait_for(handle.result(), CHILD_WITHIN)
    return str(described.parent_id), result


def shipped_timeline(split: Split, order_id: str) -> list[str]:
    """The order's timeline once both shipments are on it, less the parcels'
    `order_delivered` (the dev carrier delivers a few seconds later)."""
    kinds = eventually(
        lambda: [
            e["kind"]
            for e in json_of(split.customer.get(f"/v1/customers/{split.customer_id}/timeline"))[
                "items"
            ]
            if e.get("order_id") == order_id
        ],
        lambda found: found.count("order_shipped") >= 2,
    )
    return sorted(kind for kind in kinds if kind != "order_delivered")


def test_a_rejected_split_part_ships_from_a_third_store_by_a_child_of_its_own(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    split = Split(stack, admin, guest)
    # Farther than SOUTH from the address: placement splits NORTH + SOUTH.
    west = make_store(admin, region_code(), LAT - 0.1, LON)
    receive_stock(admin, west, split.mug, 5)
    at_west = associate_caller(stack, west)
    order = split.place()
    order_id = order["order_id"]
    total = 2 * TEE + MUG + SHIPPING
    assert {f["location_id"] for f in order["fulfillments"]} == {split.north, split.south}
    south_fid = split.fulfillment_at(order, split.south)

    rejected = split.at_south.post(f"/v1/fulfillments/{south_fid}/reject", {"reason": "flooded"})
    assert rejected.status_code == 200, rejected.text
    after = split.order(order_id)
    by_id = {f["fulfillment_id"]: (f["location_id"], f["status"]) for f in after["fulfillments"]}
    assert by_id[south_fid] == (split.south, "rerouted")
    assert by_id[f"{order_id}-F3"] == (west, "pending")
    assert "rerouted" in [e["type"] for e in after["events"]]
    # Held at WEST first, then given back at SOUTH.
    assert split.available(guest, split.mug, split.south) == 5
    assert split.available(guest, split.mug, west) == 4
    split.healthy(admin)

    split.ship(split.at_north, split.fulfillment_at(order, split.north), split.tee, 2, "1ZN")
    partly = split.order(order_id)
    assert partly["status"] == "partially_shipped"
    assert captured(partly) == SHIPPING + 2 * TEE
    shipped = split.ship(at_west, f"{order_id}-F3", split.mug, 1, "1ZW")
    assert shipped["status"] == "shipped", shipped
    final = eventually(lambda: split.order(order_id), lambda o: o["status"] == "shipped")
    assert captured(final) == total

    # Each shipment its own capture, nothing twice, nothing voided or refunded.
    assert provider_operations(admin, order_id) == [
        ("authorize", total, "approved"),
        ("capture", SHIPPING + 2 * TEE, "approved"),
        ("capture", MUG, "approved"),
    ]
    assert split.available(guest, split.tee, split.north) == 3
    assert split.available(guest, split.mug, split.south) == 5
    assert split.available(guest, split.mug, west) == 4
    split.healthy(admin)
    assert shipped_timeline(split, order_id) == ["order_placed", "order_shipped", "order_shipped"]

    # The third store's part was its own child of the order, and committed.
    parent, result = asyncio.run(child_of(stack, order_id, 3))
    assert parent == order_workflow_id(order_id)
    assert result["outcome"] == "committed"
    _, rejected_child = asyncio.run(child_of(stack, order_id, 2))
    assert rejected_child["outcome"] == "released"


def test_a_new_address_moves_only_the_split_part_whose_best_store_changed(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    split = Split(stack, admin, guest)
    # A degree south: the mug's best store for an address down there.
    west = make_store(admin, region_code(), LAT - 1.0, LON)
    receive_stock(admin, west, split.mug, 5)
    at_west = associate_caller(stack, west)
    fulfillment = ship_to(split.country, split.region, split.method)
    placed = place(split.customer, split.customer_id, [(split.tee, 2), (split.mug, 1)], fulfillment)
    assert placed.status_code == 201, placed.text
    order = placed.json()
    order_id = order["order_id"]
    total = 2 * TEE + MUG + SHIPPING
    assert {f["location_id"] for f in order["fulfillments"]} == {split.north, split.south}
    north_fid = split.fulfillment_at(order, split.north)

    path = f"/v1/orders/{order_id}/shipping-address"
    down_south = dict(fulfillment["address"], line1="9 South Rd", lat=LAT - 0.99)
    moved = split.customer.put(path, down_south)
    assert moved.status_code == 200, moved.text
    after = split.order(order_id)
    by_id = {f["fulfillment_id"]: (f["location_id"], f["status"]) for f in after["fulfillments"]}
    # The tees have no nearer store: they stay; the mug moves to WEST as F3.
    assert by_id == {
        north_fid: (split.north, "pending"),
        f"{order_id}-F2": (split.south, "rerouted"),
        f"{order_id}-F3": (west, "pending"),
    }
    assert "address_changed" in [e["type"] for e in after["events"]]
    assert split.available(guest, split.mug, split.south) == 5
    assert available_at(guest, split.mug, west, LAT - 1.0, LON) == 4
    assert split.available(guest, split.tee, split.north) == 3
    split.healthy(admin)

    split.ship(split.at_north, north_fid, split.tee, 2, "1ZN")
    picked = at_west.post(
        f"/v1/fulfillments/{order_id}-F3/pick",
        {"lines": [{"sku": split.mug, "quantity_picked": 1}]},
    )
    assert picked.status_code == 200, picked.text
    # One part shipped, the other picked: the address is fixed now.
    late = split.customer.put(path, fulfillment["address"])
    assert late.status_code == 409, late.text
    shipped = at_west.post(
        f"/v1/fulfillments/{order_id}-F3/ship", {"carrier": "UPS", "tracking_number": "1ZW"}
    )
    assert shipped.status_code == 200, shipped.text
    final = eventually(lambda: split.order(order_id), lambda o: o["status"] == "shipped")
    assert captured(final) == total
    assert provider_operations(admin, order_id) == [
        ("authorize", total, "approved"),
        ("capture", SHIPPING + 2 * TEE, "approved"),
        ("capture", MUG, "approved"),
    ]
    assert available_at(guest, split.mug, west, LAT - 1.0, LON) == 4
    assert split.available(guest, split.mug, split.south) == 5
    split.healthy(admin)
    parent, result = asyncio.run(child_of(stack, order_id, 3))
    assert (parent, result["outcome"]) == (order_workflow_id(order_id), "committed")
