"""Authorizations that never lapse while the order lives (issue 11), through
the gateway on a real stack of its own whose card authorizations live 60 s
(CARD_NOT_PRESENT_AUTHORIZATION_HOURS=1/60), so the journeys renew them
after about 45 s: an order renewed with tok_approve is captured once on the
new authorization; an order whose renewal is declined (tok_decline_reauth)
waits - handover 409 - for `POST /v1/orders/{id}/payment` (associates 403,
another customer 404, a card number 422 never echoed, an unknown token 400),
and is then captured once on the new tender. Each checks the dev provider's
operations (authorized, voided, captured once), stock and the order's events."""

from __future__ import annotations

import concurrent.futures
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stack.harness import StackProcess, stack_env, start_stack, stop_stack
from tests.e2e.api import Caller, token
from tests.e2e.test_journeys import (
    associate_caller,
    customer_caller,
    make_customer,
    make_location,
    make_product,
    place_bopis,
    receive_stock,
)
from tests.e2e.test_payments import provider_operations

# 60 s: renewed when a quarter is left, about 45 s in (a pick under load
# takes seconds; the renewal needs none of the test meanwhile).
LIFETIME_HOURS = 1 / 60
RENEWAL_WITHIN = 150.0
PRICE = 1500
LAT, LON = 41.8781, -87.6298


@pytest.fixture(scope="module")
def lapsing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    home: Path = tmp_path_factory.mktemp("omni-lapsing")
    env = {**stack_env(home), "CARD_NOT_PRESENT_AUTHORIZATION_HOURS": str(LIFETIME_HOURS)}
    running = start_stack(home, env)
    yield running
    status = stop_stack(running)
    assert status == 0, running.output()
    assert not [c for c in running.children if c.is_running() and c.status() != "zombie"]


def events_of(caller: Caller, order_id: str) -> list[str]:
    order = caller.get(f"/v1/orders/{order_id}").json()
    return [e.get("type") or e.get("event_type", "") for e in order["events"]]


def wait_for_event(caller: Caller, order_id: str, event: str) -> None:
    deadline = time.monotonic() + RENEWAL_WITHIN
    while event not in events_of(caller, order_id):
        if time.monotonic() > deadline:
            raise AssertionError(f"no {event}: {events_of(caller, order_id)}")
        time.sleep(1.0)


def ready_pickup(stack: StackProcess, admin: Caller, guest: Caller, card: str) -> dict[str, Any]:
    store = make_location(admin, LAT, LON)
    sku = make_product(admin, PRICE)
    receive_stock(admin, store, sku, 3)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    associate = associate_caller(stack, store)
    placed = place_bopis(customer, customer_id, store, sku, 1, card)
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    fulfillment_id = placed.json()["fulfillments"][0]["fulfillment_id"]
    picked = associate.post(
        f"/v1/fulfillments/{fulfillment_id}/pick", {"lines": [{"sku": sku, "quantity_picked": 1}]}
    )
    assert picked.status_code == 200, picked.text
    code = customer.get(f"/v1/orders/{order_id}").json()["fulfillments"][0]["pickup_code"]
    return {
        "order_id": order_id,
        "fulfillment_id": fulfillment_id,
        "code": code,
        "customer": customer,
        "associate": associate,
        "store": store,
        "sku": sku,
    }


def renewed_then_collected(stack: StackProcess, admin: Caller, guest: Caller) -> None:
    order = ready_pickup(stack, admin, guest, "tok_approve")
    oid = order["order_id"]
    wait_for_event(admin, oid, "payment_reauthorized")
    handed = order["associate"].post(
        f"/v1/fulfillments/{order['fulfillment_id']}/handover", {"pickup_code": order["code"]}
    )
    assert handed.status_code == 200, handed.text
    assert order["customer"].get(f"/v1/orders/{oid}").json()["status"] == "completed"
    operations = provider_operations(admin, oid)
    assert [(op, amount) for op, amount, outcome in operations if outcome == "approved"][:4] == [
        ("authorize", PRICE),
        ("authorize", PRICE),
        ("void", PRICE),
        ("capture", PRICE),
    ], operations
    assert [op for op, _, _ in operations].count("capture") == 1


def declined_then_new_tender(stack: StackProcess, admin: Caller, guest: Caller) -> None:
    order = ready_pickup(stack, admin, guest, "tok_decline_reauth")
    oid, customer, associate = order["order_id"], order["customer"], order["associate"]
    wait_for_event(admin, oid, "payment_action_required")
    handover = f"/v1/fulfillments/{order['fulfillment_id']}/handover"
    refused = associate.post(handover, {"pickup_code": order["code"]})
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    path = f"/v1/orders/{oid}/payment"
    body = {"tenders": [{"type": "card", "token": "tok_approve"}]}
    # Who may: not the store, not another customer; never a card number.
    assert associate.post(path, body).status_code == 403
    other = customer_caller(stack, make_customer(guest))
    assert other.post(path, body).status_code == 404
    pan = customer.post(path, {"tenders": [{"type": "card", "token": "4242424242424242"}]})
    assert pan.status_code == 422 and "4242424242424242" not in pan.text, pan.text
    assert customer.post(path, {"tenders": [{"type": "card", "token": "tok_x"}]}).status_code in (
        400,
        422,
    )
    paid = customer.post(path, body, idempotency_key=f"new-payment-{oid}")
    assert paid.status_code == 200, paid.text
    again = customer.post(path, body, idempotency_key=f"new-payment-{oid}")
    assert again.status_code == 200, again.text
    # Nothing more is asked for.
    assert customer.post(path, body).status_code == 409
    handed = associate.post(handover, {"pickup_code": order["code"]})
    assert handed.status_code == 200, handed.text
    done = customer.get(f"/v1/orders/{oid}").json()
    assert done["status"] == "completed"
    assert "payment_updated" in events_of(admin, oid)
    operations = provider_operations(admin, oid)
    approved = [(op, amount) for op, amount, outcome in operations if outcome == "approved"]
    declined = [op for op, _, outcome in operations if outcome == "declined"]
    assert declined == ["authorize"], operations
    assert [op for op, _ in approved].count("authorize") == 2, operations
    assert [op for op, _ in approved].count("capture") == 1, operations
    assert [op for op, _ in approved].count("void") <= 1, operations
    captured = [p for p in done["payments"] if p["captured"]["amount_minor"]]
    assert len(captured) == 1 and captured[0]["captured"]["amount_minor"] == PRICE


def test_renewed_and_declined_authorizations_through_the_gateway(
    lapsing: StackProcess,
) -> None:
    admin = Caller(lapsing.gateway_url, token("admin"))
    guest = Caller(lapsing.gateway_url, token("guest", channel="web"))
    # Both wait for the same renewal time: run side by side.
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [
            pool.submit(renewed_then_collected, lapsing, admin, guest),
            pool.submit(declined_then_new_tender, lapsing, admin, guest),
        ]
        for run in runs:
            run.result()
