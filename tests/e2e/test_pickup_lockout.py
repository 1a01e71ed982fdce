"""End to end (issue 12, API.md Store work): 5 wrong pickup codes lock the
pickup — the right code is then a 409 — until the customer asks for a new
code, which is sent to them; the store may not ask, another customer may not
see it, and the old code stops working. And the payments service's own
object checks, called directly."""

from __future__ import annotations

import re
from typing import Any

import grpc
import pytest

from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.identity import CallerIdentity, Role, identified_sync_channel
from stack.harness import StackProcess
from tests.e2e.api import Caller, token
from tests.e2e.test_journeys import (
    associate_caller,
    customer_caller,
    make_customer,
    make_location,
    make_product,
    receive_stock,
)
from tests.e2e.test_store_returns_and_curbside import LAT, LON, _ready_pickup, poll


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


def test_five_wrong_codes_lock_the_pickup_until_the_customer_asks_for_a_new_one(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_location(admin, LAT + 0.3, LON)
    sku = make_product(admin, 900)
    receive_stock(admin, store, sku, 3)
    customer, order_id, fid = _ready_pickup(stack, guest, store, sku)
    associate = associate_caller(stack, store)
    code = poll(
        lambda: customer.get(f"/v1/orders/{order_id}").json(),
        lambda body: bool(body["fulfillments"][0].get("pickup_code")),
        "pickup code",
    )["fulfillments"][0]["pickup_code"]
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, 6)]
    for guess in wrong:
        answer = associate.post(f"/v1/fulfillments/{fid}/handover", {"pickup_code": guess})
        assert answer.status_code == 422, answer.text
        assert guess not in answer.text and code not in answer.text
    locked = associate.post(f"/v1/fulfillments/{fid}/handover", {"pickup_code": code})
    assert locked.status_code == 409, locked.text
    assert locked.json()["reason"] == "PICKUP_LOCKED"

    # Only the customer (or an agent) asks for a new code.
    assert associate.post(f"/v1/fulfillments/{fid}/pickup-code", {}).status_code == 403
    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.post(f"/v1/fulfillments/{fid}/pickup-code", {}).status_code == 404
    issued = customer.post(f"/v1/fulfillments/{fid}/pickup-code", {})
    assert issued.status_code == 200, issued.text
    new = issued.json()["pickup_code"]
    assert new != code and len(new) == 6
    # The customer is told it.
    customer_id = customer.get(f"/v1/orders/{order_id}").json()["customer_id"]
    messages = poll(
        lambda: customer.get(f"/v1/customers/{customer_id}/notifications").json(),
        lambda body: any(new in m["body"] for m in body["items"]),
        "new code sent",
    )
    assert messages["items"]

    old = associate.post(f"/v1/fulfillments/{fid}/handover", {"pickup_code": code})
    assert old.status_code == 422, old.text
    done = associate.post(f"/v1/fulfillments/{fid}/handover", {"pickup_code": new})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "picked_up"
    assert "pickup_code" not in done.json()  # never shown to the store

    # No process logged a code, a guess, or the customer's email (leak scan).
    email = customer.get(f"/v1/customers/{customer_id}").json()["email"]
    logs = sorted((stack.home / "logs").glob("*.log"))
    assert logs, "the stack wrote no logs"
    for path in logs:
        text = path.read_text(errors="replace")
        assert email not in text, f"the email in {path.name}"
        for secret in (code, new, *wrong):
            # Standing alone: six digits inside a trace id or a timestamp are not a code.
            alone = re.compile(rf"(?<![0-9A-Za-z]){secret}(?![0-9A-Za-z])")
            assert not alone.search(text), f"{secret} in {path.name}"


def _payments(stack: StackProcess, caller: CallerIdentity) -> tuple[grpc.Channel, Any]:
    """The payments service itself, called as `caller` (signed as the gateway would)."""
    channel = identified_sync_channel(
        grpc.insecure_channel(f"127.0.0.1:{stack.env['PAYMENTS_PORT']}"),
        caller,
        stack.env["OMNI_IDENTITY_KEY"].encode(),
    )
    return channel, payments_pb2_grpc.PaymentsServiceStub(channel)


def test_payments_itself_shows_an_orders_payments_only_to_who_may_see_the_order(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """Issue 12: ListPayments / ListStoreCredit check the object at the service
    (payments asks the orders service as the caller), not only the role."""
    store = make_location(admin, LAT + 0.35, LON)
    sku = make_product(admin, 700)
    receive_stock(admin, store, sku, 2)
    customer, order_id, _ = _ready_pickup(stack, guest, store, sku)
    owner = customer.get(f"/v1/orders/{order_id}").json()["customer_id"]
    other = make_customer(guest)
    as_owner = CallerIdentity("u-owner", Role.CUSTOMER, customer_id=owner)
    as_other = CallerIdentity("u-other", Role.CUSTOMER, customer_id=other)
    as_store = CallerIdentity("A-elsewhere", Role.ASSOCIATE, store_id="S-elsewhere")

    channel, payments = _payments(stack, as_owner)
    with channel:
        mine = payments.ListPayments(payments_pb2.ListPaymentsRequest(reference=order_id))
        assert len(mine.payments) == 1
        payments.ListStoreCredit(payments_pb2.ListStoreCreditRequest(customer_id=owner))
    for intruder in (as_other, as_store):
        channel, payments = _payments(stack, intruder)
        with channel, pytest.raises(grpc.RpcError) as refused:
            payments.ListPayments(payments_pb2.ListPaymentsRequest(reference=order_id))
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    channel, payments = _payments(stack, as_other)
    with channel, pytest.raises(grpc.RpcError) as refused:
        payments.ListStoreCredit(payments_pb2.ListStoreCreditRequest(customer_id=owner))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
