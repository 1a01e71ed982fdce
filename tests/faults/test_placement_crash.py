"""The orders service killed (SIGKILL) between each step of a placement it takes
itself (issue 10): after the pending row, after the hold, after each
authorization, before and after the journey's start.

The orders service's failpoint (PLACEMENT_FAULT_FILE, test stacks only) kills
its own process at the step the file names, once; `omni up` (OMNI_RESTART)
starts it again. Two orders per step:

- left alone: the recovery loop (PLACEMENT_RECOVERY_AFTER_SECONDS, short here)
  starts the journey with `abandoned` (or `placed` when the journey already
  started): the hold is given back, the gift card's balance is whole again and
  the card's authorization is voided (the provider's own book says so), or the
  order is placed with exactly one hold and one authorization per tender;
- retried with the same key straight after the restart: the same order, placed,
  with one hold and one approved authorization per tender.

CheckInvariants holds for every SKU at the end.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from stack.harness import StackProcess, stack_env, start_stack, stop_stack, token
from stack.temporal import temporal_binary
from tests.faults.invariants import Checker
from tests.faults.journeys import LONG, Tally, World, children

# Where the orders service may be killed; "start" is after the last
# authorization, "started" after the journey started but before the order
# row says placed.
STEPS = ("row", "hold", "authorize/0", "authorize/1", "start", "started")
# The short form (make test) kills at the step that leaves the most behind,
# after both authorizations: left alone, recovery gives back the hold and the
# gift card and voids the card; retried, the retry reuses the hold and both
# authorizations. `make faults` (FAULTS_SIZE=long) kills at every step both ways.
LEFT_ALONE_STEPS = STEPS if LONG else ("authorize/1",)
RETRIED_STEPS = STEPS if LONG else ("start",)
# Longer than the orders service takes to come back on a loaded machine: a
# retry "straight after the restart" must reach the pending row before
# recovery abandons it (at load 20 the restart took more than 6 s, and the
# retry was told PLACEMENT_INTERRUPTED, correctly, by the abandoned journey).
RECOVERY_AFTER_SECONDS = 30
GIFT_CARD_MINOR = 500
SETTLE_SECONDS = 120.0


@pytest.fixture(scope="module")
def stack() -> Iterator[StackProcess]:
    with tempfile.TemporaryDirectory(prefix="omni-placement-crash-") as directory:
        home = Path(directory)
        os.chmod(home, 0o755)
        running = start_stack(
            home,
            {
                **stack_env(home),
                "OMNI_RESTART": "true",
                "PLACEMENT_FAULT_FILE": str(home / "placement-fault"),
                "PLACEMENT_RECOVERY_AFTER_SECONDS": str(RECOVERY_AFTER_SECONDS),
                "PLACEMENT_RECOVERY_EVERY_SECONDS": "1",
            },
        )
        yield running
        status = stop_stack(running)
        assert status == 0, running.output()[-3000:]


@pytest.fixture
def checker(stack: StackProcess, request: pytest.FixtureRequest) -> Checker:
    return Checker(
        stack.gateway_url,
        token("admin"),
        temporal_address=stack.temporal_address,
        temporal_cli=temporal_binary(),
        scenario=request.node.name,
    )


def _fault_file(stack: StackProcess) -> Path:
    return Path(stack.env["PLACEMENT_FAULT_FILE"])


def _orders_pid(stack: StackProcess) -> int:
    running = children(stack, "services.orders.main")
    assert running, "orders is not running"
    return running[0].pid


def _wait_restarted(stack: StackProcess, killed_pid: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        alive = [c for c in children(stack, "services.orders.main") if c.pid != killed_pid]
        if alive:
            healthy = httpx.get(f"{stack.gateway_url}/healthz", timeout=5)
            if healthy.status_code == 200:
                return
        time.sleep(0.2)
    raise AssertionError(f"orders was not restarted:\n{stack.output()[-2000:]}")


def _order_body(customer_id: str, store: str, sku: str, gift_code: str) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "channel": "web",
        "lines": [{"sku": sku, "quantity": 1}],
        "fulfillment": {"type": "pickup", "location_id": store},
        "payment": {
            "tenders": [
                {"type": "gift_card", "code": gift_code, "amount_minor": GIFT_CARD_MINOR},
                {"type": "card", "token": "tok_approve"},
            ]
        },
    }


def _post_order(world: World, bearer: str, body: dict[str, Any], key: str) -> httpx.Response:
    return httpx.post(
        f"{world.stack.gateway_url}/v1/orders",
        json=body,
        headers={"Authorization": f"Bearer {bearer}", "Idempotency-Key": key},
        timeout=60,
    )


def _gift_card(world: World) -> str:
    issued = world.admin.post(
        "/v1/gift-cards", {"initial_balance": {"amount_minor": 5000, "currency": "USD"}}
    )
    assert issued.status_code == 201, issued.text
    code: str = issued.json()["code"]
    return code


def _balance(world: World, code: str) -> int:
    shown = world.admin.get(f"/v1/gift-cards/{code}")
    assert shown.status_code == 200, shown.text
    return int(shown.json()["balance"]["amount_minor"])


def _available(world: World, store: str, sku: str) -> int:
    shown = world.admin.get(
        "/v1/availability",
        skus=sku,
        near=f"{world.lat:.4f},{world.lon:.4f}",
        radius_km=50,
        channel="web",
    )
    assert shown.status_code == 200, shown.text
    total = 0
    for entry in shown.json()["items"]:
        for location in entry.get("locations", []):
            if location.get("location_id") == store:
                total += int(location.get("available", 0))
    return total


def _operations(world: World, order_id: str) -> list[dict[str, Any]]:
    listed = world.admin.get("/v1/dev/provider/operations", reference=order_id)
    assert listed.status_code == 200, listed.text
    operations: list[dict[str, Any]] = listed.json()
    return operations


def _approved(operations: list[dict[str, Any]], kind: str) -> int:
    return sum(1 for o in operations if o["operation"] == kind and o["outcome"] == "approved")


async def _order_ids_of(temporal_address: str, customer_id: str) -> list[str]:
    client = await Client.connect(temporal_address)
    found = [
        w.id.removeprefix("order-")
        async for w in client.list_workflows(f'CustomerId="{customer_id}"')
        if w.id.startswith("order-")
    ]
    return found


def _order_of_customer(stack: StackProcess, customer_id: str) -> str:
    """The one order placed for `customer_id` (its journey's id, from visibility)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        found = asyncio.run(_order_ids_of(stack.temporal_address, customer_id))
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.5)
    raise AssertionError(f"no journey for customer {customer_id}")


def _settled(world: World, order_id: str) -> dict[str, Any] | None:
    """The order as admin sees it once its journey settled placement; None
    while hidden (pending, or rejected: recovery gave everything back)."""
    shown = world.admin.get(f"/v1/orders/{order_id}")
    if shown.status_code == 404:
        return None
    assert shown.status_code == 200, shown.text
    body: dict[str, Any] = shown.json()
    return body


@pytest.fixture
def world(stack: StackProcess, checker: Checker) -> World:
    return World(stack, Tally(), checker)


def _crash(world: World, step: str, body: dict[str, Any], bearer: str, key: str) -> None:
    """Places the order with the failpoint armed at `step`: the orders service
    dies there (the caller is told to try again), and comes back."""
    fault = _fault_file(world.stack)
    pid = _orders_pid(world.stack)
    fault.write_text(step)
    world.checker.fault(f"SIGKILL orders after {step}")
    answered = _post_order(world, bearer, body, key)
    assert answered.status_code in (502, 503, 504), (step, answered.status_code, answered.text)
    assert not fault.exists(), f"the failpoint at {step} was never reached"
    _wait_restarted(world.stack, pid)


@pytest.mark.parametrize("step", LEFT_ALONE_STEPS)
def test_a_placement_killed_and_left_alone_gives_everything_back(
    world: World, checker: Checker, step: str
) -> None:
    store = world.location()
    sku = world.product()
    world.receive(store, sku, 3)
    code = _gift_card(world)
    customer_id, _ = world.customer()
    bearer = token("customer", customer_id=customer_id, channel="web", sub=f"c-{customer_id}")
    _crash(world, step, _order_body(customer_id, store, sku, code), bearer, str(uuid.uuid4()))

    # Recovery starts the journey (abandoned, or placed when it had started).
    order_id = _order_of_customer(world.stack, customer_id)
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        order = _settled(world, order_id)
        operations = _operations(world, order_id)
        authorized = _approved(operations, "authorize")
        voided = _approved(operations, "void")
        if order is not None and order["status"] == "placed":
            # Started before the kill: placed, one hold, one authorization per tender.
            assert step == "started", order
            assert _available(world, store, sku) == 2
            assert authorized <= 1, operations
            assert _balance(world, code) == 5000 - GIFT_CARD_MINOR
            checker.acknowledge({**order, "customer_id": customer_id})
            break
        given_back = (
            _available(world, store, sku) == 3
            and _balance(world, code) == 5000
            and authorized == voided
        )
        if order is None and given_back:
            break
        assert time.monotonic() < deadline, (step, order, operations)
        time.sleep(0.5)
    assert not checker.stock_violations([sku])
    checker.check([sku]).assert_clean()


@pytest.mark.parametrize("step", RETRIED_STEPS)
def test_a_placement_killed_then_retried_with_its_key_is_one_order(
    world: World, checker: Checker, step: str
) -> None:
    store = world.location()
    sku = world.product()
    world.receive(store, sku, 3)
    code = _gift_card(world)
    customer_id, _ = world.customer()
    bearer = token("customer", customer_id=customer_id, channel="web", sub=f"c-{customer_id}")
    key = str(uuid.uuid4())
    body = _order_body(customer_id, store, sku, code)
    _crash(world, step, body, bearer, key)

    retried = _post_order(world, bearer, body, key)
    assert retried.status_code == 201, retried.text
    order = retried.json()
    assert order["status"] == "placed", order
    checker.acknowledge({**order, "customer_id": customer_id}, key)
    again = _post_order(world, bearer, body, key)
    assert again.status_code == 201, again.text
    assert again.json()["order_id"] == order["order_id"]
    assert _order_of_customer(world.stack, customer_id) == order["order_id"]

    # One hold (one unit gone from 3), one gift-card hold, one card authorization.
    assert _available(world, store, sku) == 2
    assert _balance(world, code) == 5000 - GIFT_CARD_MINOR
    operations = _operations(world, order["order_id"])
    assert _approved(operations, "authorize") == 1, operations
    assert _approved(operations, "void") == 0, operations
    checker.check([sku]).assert_clean()
