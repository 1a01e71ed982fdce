"""One customer across channels, end to end through the gateway on the real stack:
timeline, loyalty accrual and clawback, notifications, carts, merge, export, erase."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import grpc
import httpx
import pytest
from temporalio.client import Client

from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from services.common.identity import identified_sync_channel
from services.common.temporal_codec import data_converter
from stack.harness import StackProcess
from tests.e2e.api import Caller, token, unique
from tests.e2e.test_journeys import (
    _wait_for_return_status,
    associate_caller,
    collect_bopis,
    customer_caller,
    make_customer,
    make_location,
    make_product,
    place_bopis,
    receive_stock,
)
from tests.support.identity import ADMIN
from workflows.carts.reminder import CLOSED
from workflows.contracts.carts import cart_workflow_id

DEADLINE_SECONDS = 30.0


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


@pytest.fixture
def agent(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("agent", channel="call_center"))


def eventually(read: Callable[[], Any], check: Callable[[Any], bool]) -> Any:
    """Polls `read` until `check` holds (journeys write after the API answers)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    value = read()
    while not check(value):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {value}")
        time.sleep(0.2)
        value = read()
    return value


def json_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def put_cart(
    caller: Caller, customer_id: str, lines: dict[str, int], if_match: str | None = None
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {caller.bearer}"}
    if if_match is not None:
        headers["If-Match"] = if_match
    return httpx.put(
        f"{caller.base_url}/v1/customers/{customer_id}/cart",
        json={"lines": [{"sku": s, "quantity": q} for s, q in lines.items()], "channel": "web"},
        headers=headers,
        timeout=60,
    )


def test_points_accrue_on_pickup_and_go_back_on_return_with_a_timeline(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    bought = collect_bopis(stack, admin, guest)  # 2 x 15.00 USD, picked up
    customer_id, order_id = bought["customer_id"], bought["order_id"]
    customer = customer_caller(stack, customer_id)
    profile = eventually(
        lambda: json_of(customer.get(f"/v1/customers/{customer_id}")),
        lambda body: body["loyalty_points"] == 30,
    )
    assert profile["customer_id"] == customer_id

    store = make_location(admin, 47.6200, -122.3500)
    returned = associate_caller(stack, store).post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": bought["sku"], "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": store,
        },
    )
    assert returned.status_code == 201, returned.text
    return_id = returned.json()["return_id"]
    _wait_for_return_status(associate_caller(stack, store), return_id, "refunded")
    eventually(
        lambda: json_of(customer.get(f"/v1/customers/{customer_id}")),
        lambda body: body["loyalty_points"] == 15,
    )

    timeline = eventually(
        lambda: json_of(customer.get(f"/v1/customers/{customer_id}/timeline"))["items"],
        lambda items: len(items) >= 5,
    )
    assert [e["kind"] for e in timeline] == [
        "refund_issued",
        "return_received",
        "order_completed",
        "ready_for_pickup",
        "order_placed",
    ]
    messages = json_of(customer.get(f"/v1/customers/{customer_id}/notifications"))["items"]
    # Issue 14: every placed order is confirmed too (the oldest message).
    assert [m["kind"] for m in messages] == ["refund_issued", "pickup_ready", "order_confirmed"]
    code = json_of(customer.get(f"/v1/orders/{order_id}"))["fulfillments"][0]["pickup_code"]
    assert code in messages[1]["body"]
    loyalty = json_of(customer.get(f"/v1/customers/{customer_id}/loyalty"))
    assert [(e["reason"], e["points"]) for e in loyalty["history"]] == [
        ("accrual", 30),
        ("clawback", -15),
    ]


def test_export_holds_the_orders_and_erase_keeps_them_pseudonymous(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    bought = collect_bopis(stack, admin, guest)
    customer_id, order_id = bought["customer_id"], bought["order_id"]
    customer = customer_caller(stack, customer_id)
    export = json_of(customer.get(f"/v1/customers/{customer_id}/export"))
    assert order_id in [o["order_id"] for o in export["orders"]]
    assert order_id in [e["order_id"] for e in export["timeline"]]
    assert export["customer"]["email"].endswith("@example.com")

    erased = customer.post(f"/v1/customers/{customer_id}/erase", {})
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased"] is True
    after = json_of(customer.get(f"/v1/customers/{customer_id}"))
    assert (after["name"], after["email"], after["phone"], after["identities"]) == ("", "", "", [])
    order = json_of(customer.get(f"/v1/orders/{order_id}"))
    assert order["customer_id"] == customer_id and order["status"] == "completed"


def test_one_cart_on_every_device_with_versions_and_guest_merge(
    stack: StackProcess, guest: Caller
) -> None:
    customer_id = make_customer(guest)
    web = customer_caller(stack, customer_id, "web")
    app = customer_caller(stack, customer_id, "app")
    first = put_cart(web, customer_id, {"SKU-1": 1}, if_match='"0"')
    assert first.status_code == 200, first.text
    etag = first.headers["ETag"]
    seen_on_app = app.get(f"/v1/customers/{customer_id}/cart")
    assert seen_on_app.headers["ETag"] == etag
    assert seen_on_app.json()["lines"] == [{"sku": "SKU-1", "quantity": 1}]

    assert put_cart(app, customer_id, {"SKU-1": 2}, if_match=etag).status_code == 200
    stale = put_cart(web, customer_id, {"SKU-9": 1}, if_match=etag)
    assert stale.status_code == 409, stale.text
    assert stale.headers["content-type"].startswith("application/problem+json")

    merged = app.post(
        f"/v1/customers/{customer_id}/cart/merge",
        {"lines": [{"sku": "SKU-1", "quantity": 1}, {"sku": "SKU-2", "quantity": 4}]},
    )
    assert merged.status_code == 200, merged.text
    assert sorted((x["sku"], x["quantity"]) for x in merged.json()["lines"]) == [
        ("SKU-1", 2),
        ("SKU-2", 4),
    ]
    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.get(f"/v1/customers/{customer_id}/cart").status_code == 404


def test_agent_merges_two_customers_and_the_old_id_still_works(
    stack: StackProcess, guest: Caller, agent: Caller
) -> None:
    survivor_id, duplicate_id = make_customer(guest), make_customer(guest)
    assert put_cart(customer_caller(stack, survivor_id), survivor_id, {"A": 1}).status_code == 200
    old = customer_caller(stack, duplicate_id)
    assert put_cart(old, duplicate_id, {"B": 2}).status_code == 200

    assert (
        old.post(
            f"/v1/customers/{survivor_id}/merge", {"duplicate_customer_id": duplicate_id}
        ).status_code
        == 403
    )
    merged = agent.post(
        f"/v1/customers/{survivor_id}/merge", {"duplicate_customer_id": duplicate_id}
    )
    assert merged.status_code == 200, merged.text
    into_itself = agent.post(
        f"/v1/customers/{survivor_id}/merge", {"duplicate_customer_id": survivor_id}
    )
    assert into_itself.status_code == 422, into_itself.text
    # A token minted before the merge still reaches the (merged) record.
    cart = json_of(old.get(f"/v1/customers/{survivor_id}/cart"))
    assert sorted((x["sku"], x["quantity"]) for x in cart["lines"]) == [("A", 1), ("B", 2)]
    assert json_of(old.get(f"/v1/customers/{duplicate_id}"))["customer_id"] == survivor_id


def test_after_a_merge_both_ids_see_the_orders_and_returns_placed_under_either(
    stack: StackProcess, admin: Caller, guest: Caller, agent: Caller
) -> None:
    bought = collect_bopis(stack, admin, guest)  # placed and collected by the duplicate
    duplicate_id, order_id = bought["customer_id"], bought["order_id"]
    survivor_id = make_customer(guest)
    survivor = customer_caller(stack, survivor_id)
    old_token = customer_caller(stack, duplicate_id)
    stranger = customer_caller(stack, make_customer(guest))
    assert survivor.get(f"/v1/orders/{order_id}").status_code == 404  # not yet theirs

    merged = agent.post(
        f"/v1/customers/{survivor_id}/merge", {"duplicate_customer_id": duplicate_id}
    )
    assert merged.status_code == 200, merged.text

    assert json_of(survivor.get(f"/v1/orders/{order_id}"))["customer_id"] == duplicate_id
    assert json_of(old_token.get(f"/v1/orders/{order_id}"))["order_id"] == order_id
    assert stranger.get(f"/v1/orders/{order_id}").status_code == 404
    listed = json_of(survivor.get(f"/v1/customers/{survivor_id}/orders"))["items"]
    assert order_id in [item["order_id"] for item in listed]

    # The survivor returns the duplicate's purchase, and both ids can follow it.
    returned = survivor.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": bought["sku"], "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": bought["store"],
        },
    )
    assert returned.status_code == 201, returned.text
    return_id = returned.json()["return_id"]
    assert json_of(survivor.get(f"/v1/returns/{return_id}"))["order_id"] == order_id
    assert json_of(old_token.get(f"/v1/returns/{return_id}"))["return_id"] == return_id
    assert stranger.get(f"/v1/returns/{return_id}").status_code == 404

    # Issue 12: a customer's in-store return refunds nothing until an
    # associate of that store receives the goods.
    waiting = _wait_for_return_status(survivor, return_id, "awaiting_receipt")
    assert waiting["refunds"] == []
    counter = associate_caller(stack, bought["store"])
    received = counter.post(
        f"/v1/returns/{return_id}/receive",
        {
            "location_id": bought["store"],
            "lines": [{"sku": bought["sku"], "quantity": 1, "condition": "sellable"}],
        },
    )
    assert received.status_code == 200, received.text
    refunded = _wait_for_return_status(survivor, return_id, "refunded")
    assert [r["amount"]["amount_minor"] for r in refunded["refunds"]] == [1500]


def orders_stub(stack: StackProcess) -> tuple[grpc.Channel, orders_pb2_grpc.OrdersServiceStub]:
    """The orders service itself: the address is not part of GET /v1/orders/{id}."""
    channel = identified_sync_channel(
        grpc.insecure_channel(f"127.0.0.1:{stack.env['ORDERS_PORT']}"),
        ADMIN,
        stack.env["OMNI_IDENTITY_KEY"].encode(),
    )
    return channel, orders_pb2_grpc.OrdersServiceStub(channel)


def test_erase_blanks_the_shipping_addresses_and_the_orders_still_resolve(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_location(admin, 35.0000, -90.0000)
    sku = make_product(admin, 1200)
    receive_stock(admin, store, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    placed = customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "lines": [{"sku": sku, "quantity": 1}],
            "fulfillment": {
                "type": "ship",
                "address": {
                    "line1": "12 Private Lane",
                    "city": "Hometown",
                    "postal_code": "38100",
                    "country": "US",
                    "lat": 35.0100,
                    "lon": -90.0100,
                },
            },
            "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    channel, orders = orders_stub(stack)
    try:
        before = orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id), timeout=10)
        assert before.order.fulfillment_request.address.line1 == "12 Private Lane"

        for _ in range(2):  # a retried erase is harmless
            erased = customer.post(f"/v1/customers/{customer_id}/erase", {})
            assert erased.status_code == 200, erased.text

        after = orders.GetOrder(orders_pb2.GetOrderRequest(order_id=order_id), timeout=10)
    finally:
        channel.close()
    address = after.order.fulfillment_request.address
    assert (address.line1, address.city, address.postal_code) == ("", "", "")
    assert (address.point.lat, address.point.lon) == (0.0, 0.0)
    assert address.country == "US"
    order = json_of(customer.get(f"/v1/orders/{order_id}"))
    assert order["customer_id"] == customer_id and order["lines"][0]["sku"] == sku


def test_placing_an_order_takes_its_items_out_of_the_cart(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_location(admin, 47.7000, -122.4000)
    ordered = make_product(admin, 900)
    receive_stock(admin, store, ordered, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    assert put_cart(customer, customer_id, {ordered: 2, "SKU-LATER": 1}).status_code == 200

    placed = place_bopis(customer, customer_id, store, ordered, 2, "tok_approve")
    assert placed.status_code == 201, placed.text
    cart = eventually(
        lambda: json_of(customer.get(f"/v1/customers/{customer_id}/cart")),
        lambda body: len(body["lines"]) < 2,
    )
    assert cart["lines"] == [{"sku": "SKU-LATER", "quantity": 1}]

    # The rest goes too, and the cart's reminder ends without a message.
    assert put_cart(customer, customer_id, {}).status_code == 200
    result = asyncio.run(cart_reminder_result(stack, customer_id))
    assert result == CLOSED
    messages = json_of(customer.get(f"/v1/customers/{customer_id}/notifications"))["items"]
    assert "cart_reminder" not in [m["kind"] for m in messages]


async def cart_reminder_result(stack: StackProcess, customer_id: str) -> str:
    client = await Client.connect(stack.temporal_address, data_converter=data_converter())
    handle = client.get_workflow_handle(cart_workflow_id(customer_id), result_type=str)
    return await asyncio.wait_for(handle.result(), DEADLINE_SECONDS)


def test_a_loyalty_card_is_an_identity_over_rest(stack: StackProcess, guest: Caller) -> None:
    card = unique("CARD").replace("-", "")
    email = f"{unique('card').lower()}@example.com"
    created = guest.post("/v1/customers", {"email": email, "loyalty_card": card, "name": "Cara"})
    assert created.status_code == 201, created.text
    customer_id = created.json()["customer_id"]
    # Issue 12: a guest learns only the id (API.md); the profile is the customer's.
    assert created.json() == {"customer_id": customer_id}

    # Scanned at the till, typed with dashes and in lower case: the same shopper.
    scanned = guest.post("/v1/customers", {"loyalty_card": f"{card[:4]}-{card[4:]}".lower()})
    assert scanned.status_code == 200, scanned.text
    assert scanned.json()["customer_id"] == customer_id

    profile = json_of(customer_caller(stack, customer_id).get(f"/v1/customers/{customer_id}"))
    assert (profile["loyalty_card"], profile["loyalty_points"], profile["loyalty_debt"]) == (
        card,
        0,
        0,
    )
    assert {"kind": "loyalty_card", "value": card} in profile["identities"]
    bad = guest.post("/v1/customers", {"loyalty_card": "12"})
    assert bad.status_code == 400, bad.text
    assert "loyalty_card" in [e["field"] for e in bad.json()["errors"]]
