"""A till sale (issue 14) with the orders service killed (SIGKILL) between its
steps, on the real stack: the failpoint (PLACEMENT_FAULT_FILE) kills orders at
the till step the file names, once, and `omni up` (OMNI_RESTART) starts it
again (tests/faults/test_placement_crash.py does the same to placement).

- killed after the gift card's authorization and the card_present's sale
  (authorized and captured at once), before the stock is sold, left alone:
  recovery releases the hold, voids the gift card and refunds the
  card_present in full; nothing is sold, the row is rejected;
- killed after the hold was sold as a pos_sale, left alone: recovery finishes
  the sale (completed, captured once, one pos_sale movement);
- killed after the sale, retried with the same key straight away: the same
  sale, completed, captured once.

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

import asyncpg
import pytest

from stack.associates import registered_associate_token
from stack.config import database_name
from stack.harness import StackProcess, stack_env, start_stack, stop_stack, token
from stack.postgres import SUPERUSER
from stack.temporal import temporal_binary
from tests.faults.invariants import Checker
from tests.faults.journeys import Tally, World
from tests.faults.test_placement_crash import (
    _approved,
    _available,
    _balance,
    _crash,
    _gift_card,
    _operations,
    _post_order,
)

RECOVERY_AFTER_SECONDS = 20
SETTLE_SECONDS = 120.0
GIFT_CARD_MINOR = 500
PRICE_MINOR = 1500  # World.product's default


@pytest.fixture(scope="module")
def stack() -> Iterator[StackProcess]:
    with tempfile.TemporaryDirectory(prefix="omni-till-crash-") as directory:
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
def world(stack: StackProcess, request: pytest.FixtureRequest) -> World:
    checker = Checker(
        stack.gateway_url,
        token("admin"),
        temporal_address=stack.temporal_address,
        temporal_cli=temporal_binary(),
        scenario=request.node.name,
    )
    return World(stack, Tally(), checker)


def _sale(store: str, sku: str, code: str) -> dict[str, Any]:
    return {
        "lines": [{"sku": sku, "quantity": 1}],
        "fulfillment": {"type": "carry_out", "location_id": store},
        "payment": {
            "tenders": [
                {"type": "gift_card", "code": code, "amount_minor": GIFT_CARD_MINOR},
                {"type": "card_present", "token": "tokp_approve"},
            ]
        },
    }


def _rows(stack: StackProcess, sku: str) -> list[tuple[str, str, int]]:
    """(order id, status, pos_sale units) of the till sales of `sku`, read
    straight from the databases (a pending or rejected order is not shown)."""

    async def read() -> list[tuple[str, str, int]]:
        port = int(stack.env["OMNI_PG_PORT"])
        orders = await asyncpg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, database=database_name("orders")
        )
        inventory = await asyncpg.connect(
            host="127.0.0.1", port=port, user=SUPERUSER, database=database_name("inventory")
        )
        try:
            found = await orders.fetch(
                "SELECT o.order_id, o.status FROM orders o JOIN order_lines l"
                " ON l.order_id = o.order_id WHERE l.sku = $1 ORDER BY o.created_at",
                sku,
            )
            rows = []
            for row in found:
                sold = await inventory.fetchval(
                    "SELECT coalesce(-sum(delta), 0) FROM stock_movements"
                    " WHERE reason = 'pos_sale' AND reference = $1",
                    f"order-{row['order_id']}/hold",
                )
                rows.append((row["order_id"], row["status"], int(sold)))
            return rows
        finally:
            await orders.close()
            await inventory.close()

    return asyncio.run(read())


def _until(what: str, check: Any) -> Any:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def _setup(world: World) -> tuple[str, str, str, str]:
    store = world.location()
    sku = world.product()
    world.receive(store, sku, 3)
    code = _gift_card(world)
    bearer = registered_associate_token(world.stack.gateway_url, store)
    return store, sku, code, bearer


def test_a_till_sale_killed_before_the_sale_and_left_alone_gives_everything_back(
    world: World,
) -> None:
    store, sku, code, bearer = _setup(world)
    _crash(world, "till/authorize/1", _sale(store, sku, code), bearer, str(uuid.uuid4()))

    def given_back() -> list[tuple[str, str, int]] | None:
        rows = _rows(world.stack, sku)
        if not rows or rows[0][1] != "rejected":
            return None
        if not _approved(_operations(world, rows[0][0]), "refund"):
            return None
        return rows

    ((order_id, _, sold),) = _until("the sale was never given back", given_back)
    assert sold == 0
    assert _available(world, store, sku) == 3
    assert _balance(world, code) == 5000
    # The card (the provider's only card): authorized and captured once, at
    # once, then refunded in full; the gift card (no provider) voided.
    operations = _operations(world, order_id)
    assert [
        (o["operation"], o["amount"]["amount_minor"])
        for o in operations
        if o["outcome"] == "approved"
    ] == [
        ("authorize", PRICE_MINOR - GIFT_CARD_MINOR),
        ("capture", PRICE_MINOR - GIFT_CARD_MINOR),
        ("refund", PRICE_MINOR - GIFT_CARD_MINOR),
    ], operations
    assert world.admin.get(f"/v1/orders/{order_id}").status_code == 404
    assert not world.checker.stock_violations([sku])


def test_a_till_sale_killed_after_the_sale_and_left_alone_is_finished_once(
    world: World,
) -> None:
    store, sku, code, bearer = _setup(world)
    _crash(world, "till/sold", _sale(store, sku, code), bearer, str(uuid.uuid4()))

    ((order_id, status, sold),) = _until(
        "the sale was never finished",
        lambda: [r for r in _rows(world.stack, sku) if r[1] == "completed"],
    )
    assert (status, sold) == ("completed", 1)
    order = world.admin.get(f"/v1/orders/{order_id}").json()
    assert sorted((p["tender_type"], p["captured"]["amount_minor"]) for p in order["payments"]) == [
        ("card_present", PRICE_MINOR - GIFT_CARD_MINOR),
        ("gift_card", GIFT_CARD_MINOR),
    ]
    operations = _operations(world, order_id)
    assert _approved(operations, "capture") == 1, operations
    assert _approved(operations, "void") == 0, operations
    assert _available(world, store, sku) == 2
    assert _balance(world, code) == 5000 - GIFT_CARD_MINOR
    assert not world.checker.stock_violations([sku])


def test_a_till_sale_killed_after_the_sale_then_retried_is_the_same_sale(
    world: World,
) -> None:
    store, sku, code, bearer = _setup(world)
    key = str(uuid.uuid4())
    body = _sale(store, sku, code)
    _crash(world, "till/sold", body, bearer, key)

    retried = _post_order(world, bearer, body, key)
    assert retried.status_code == 201, retried.text
    order = retried.json()
    assert order["status"] == "completed", order
    again = _post_order(world, bearer, body, key)
    assert again.status_code == 201, again.text
    assert again.json()["order_id"] == order["order_id"]
    assert [(r[1], r[2]) for r in _rows(world.stack, sku)] == [("completed", 1)]
    operations = _operations(world, order["order_id"])
    assert _approved(operations, "authorize") == 1, operations
    assert _approved(operations, "capture") == 1, operations
    assert _available(world, store, sku) == 2
    assert _balance(world, code) == 5000 - GIFT_CARD_MINOR
    assert not world.checker.stock_violations([sku])
