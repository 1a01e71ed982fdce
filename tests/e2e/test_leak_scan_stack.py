"""Leak scan over the real stack (issue 12): synthetic personal data in every
personal field and a test card number in every free-text field, then the
logs, the exported spans, Temporal's own database file and a dump of every
PostgreSQL database are scanned: no card number anywhere; the name, email,
phone and street address only in the tables meant to hold them.

(The gateway-level scan over every route x caller is tests/security/
test_leak_scan.py; stored histories through the codec: test_order_history.)
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from stack.config import DATABASES, database_name
from stack.harness import StackProcess
from stack.postgres import BIN_DIR, SUPERUSER
from tests.e2e.api import Caller, token
from tests.e2e.test_journeys import (
    associate_caller,
    customer_caller,
    make_location,
    make_product,
    receive_stock,
)

# Luhn-valid test numbers (Visa, Mastercard, Amex): each must be refused
# wherever it is typed and then be found nowhere.
CARDS = ("4242424242424242", "5555555555554444", "378282246310005")
DEADLINE_SECONDS = 60.0

# Where each kind of personal data may be stored (database.table): the
# customers service owns the profile (the name on the customer, each email
# and phone as an identity it is found by); the orders service keeps the
# address it ships to. Nowhere else: not the outbox (messages name the order,
# not the person), not the gateway's idempotency store, not a journey's input.
MAY_HOLD: dict[str, set[str]] = {
    "name": {"customers.customers"},
    "email": {"customers.customer_identities"},
    "phone": {"customers.customer_identities"},
    "street": {"orders.orders"},
}


def _marker(kind: str) -> str:
    return f"Leak{kind}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


def _refused(response: httpx.Response, where: str) -> None:
    """A card number typed anywhere is a 422 (or a 400 for a field that cannot
    hold digits at all) whose answer does not echo it."""
    assert response.status_code in (400, 422), f"{where}: {response.status_code} {response.text}"
    for card in CARDS:
        assert card not in response.text, f"{where} echoed the card number"


def _wait_for(check: Any, what: str) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def _trace_id(response: httpx.Response) -> str:
    return response.headers["traceparent"].split("-")[1]


def _spans_text(stack: StackProcess) -> str:
    path: Path = stack.home / "traces.jsonl"
    return path.read_text(errors="replace") if path.exists() else ""


def _logs_text(stack: StackProcess) -> str:
    logs = sorted((stack.home / "logs").glob("*.log"))
    outputs = sorted(stack.home.glob("omni-up-*.out"))
    return "\n".join(p.read_text(errors="replace") for p in [*logs, *outputs])


def _dump_tables(stack: StackProcess) -> dict[str, str]:
    """database.table -> the table's rows as pg_dump writes them (COPY text)."""
    port = stack.env["OMNI_PG_PORT"]
    tables: dict[str, str] = {}
    for database in DATABASES:
        dump = subprocess.run(
            [
                str(BIN_DIR / "pg_dump"),
                "--data-only",
                "--no-owner",
                f"postgresql://{SUPERUSER}@127.0.0.1:{port}/{database_name(database)}",
            ],
            check=True,
            capture_output=True,
            text=True,
            errors="replace",
        ).stdout
        rows: dict[str, list[str]] = defaultdict(list)
        current: str | None = None
        for line in dump.splitlines():
            copy = re.match(r"COPY (?:\w+\.)?\"?(\w+)\"? ", line)
            if copy:
                current = f"{database}.{copy.group(1)}"
                continue
            if line == "\\.":
                current = None
            elif current is not None:
                rows[current].append(line)
        assert rows, f"nothing dumped from {database}"
        tables.update({name: "\n".join(lines) for name, lines in rows.items()})
    return tables


def test_no_card_number_anywhere_and_personal_data_only_where_it_belongs(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    person = {
        "name": f"Quilla {_marker('name')}",
        "email": f"{_marker('mail').lower()}@example.com",
        "phone": f"+1206{2_000_000 + uuid.uuid4().int % 8_000_000:07d}",
    }
    street = f"12 {_marker('street')} Road"
    visa, mastercard, amex = CARDS

    # Card numbers typed where a shopper, an associate or an admin types text.
    _refused(guest.post("/v1/customers", {**person, "name": f"Card {visa}"}), "customer name")
    _refused(guest.post("/v1/customers", {**person, "phone": amex}), "customer phone")
    store = make_location(admin, 45.5, -122.6)
    sku = make_product(admin, 2500)
    receive_stock(admin, store, sku, 10)
    _refused(
        admin.post(
            "/v1/products",
            {
                "sku": f"S{visa}",
                "name": f"Item {mastercard}",
                "price": {"amount_minor": 1, "currency": "USD"},
            },
        ),
        "product name",
    )

    created = guest.post("/v1/customers", person)
    assert created.status_code == 201, created.text
    customer_id = created.json()["customer_id"]
    customer = customer_caller(stack, customer_id)
    associate = associate_caller(stack, store)

    def ship_order(line1: str, tender: str) -> httpx.Response:
        return customer.post(
            "/v1/orders",
            {
                "customer_id": customer_id,
                "channel": "web",
                "lines": [{"sku": sku, "quantity": 2}],
                "fulfillment": {
                    "type": "ship",
                    "address": {
                        "line1": line1,
                        "city": "Portland",
                        "region": "OR",
                        "postal_code": "97201",
                        "country": "US",
                        "lat": 45.51,
                        "lon": -122.61,
                    },
                },
                "payment": {"tenders": [{"type": "card", "token": tender}]},
            },
        )

    _refused(ship_order(street, visa), "tender token")
    _refused(ship_order(f"{amex} Main St", "tok_approve"), "address line")
    # A card number in a query string (a lookup typed into the wrong box).
    _refused(associate.get("/v1/customers", phone=mastercard), "lookup query")

    placed = ship_order(street, "tok_approve")
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    order = customer.get(f"/v1/orders/{order_id}").json()
    (fulfillment,) = order["fulfillments"]
    fid = fulfillment["fulfillment_id"]

    _refused(
        associate.post(f"/v1/fulfillments/{fid}/reject", {"reason": f"card {visa}"}),
        "reject reason",
    )
    picked = associate.post(
        f"/v1/fulfillments/{fid}/pick", {"lines": [{"sku": sku, "quantity_picked": 2}]}
    )
    assert picked.status_code == 200, picked.text
    _refused(
        associate.post(f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": visa}),
        "tracking number",
    )
    shipped = associate.post(
        f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": "1ZLEAK1"}
    )
    assert shipped.status_code == 200, shipped.text
    returned = customer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}],
            "method": "mail",
        },
    )
    assert returned.status_code == 201, returned.text
    last = customer.get(f"/v1/orders/{order_id}")
    assert last.status_code == 200

    # Everything written: the last request's spans are exported, and the
    # customer's shipped message is in the outbox.
    _wait_for(lambda: _trace_id(last) in _spans_text(stack), "the last request's spans")
    _wait_for(
        lambda: any(
            "ship" in m.get("kind", "")
            for m in customer.get(f"/v1/customers/{customer_id}/notifications").json()["items"]
        ),
        "the shipped message",
    )

    spans, logs = _spans_text(stack), _logs_text(stack)
    temporal_db = b"".join(p.read_bytes() for p in stack.home.glob("temporal.db*"))
    tables = _dump_tables(stack)
    # The scans see this order (else they would prove nothing).
    assert order_id in spans and order_id.encode() in temporal_db
    assert any(order_id in rows for rows in tables.values())

    found: list[str] = []
    for secret in CARDS:
        found += [f"card number in {where}" for where in _places(secret, spans, logs, temporal_db)]
        found += [
            f"card number stored in {name}" for name, rows in tables.items() if secret in rows
        ]
    personal = {**person, "street": street}
    for kind, value in personal.items():
        found += [f"{kind} in {where}" for where in _places(value, spans, logs, temporal_db)]
        holding = {name for name, rows in tables.items() if value in rows}
        if not holding:
            found.append(f"{kind} stored nowhere: the scan would prove nothing")
        found += [f"{kind} stored in {name}" for name in sorted(holding - MAY_HOLD[kind])]
    assert found == []


def _places(value: str, spans: str, logs: str, temporal_db: bytes) -> list[str]:
    """Which of the exported spans, the logs and Temporal's database hold `value`."""
    return [
        where
        for where, holds in (
            ("an exported span", value in spans),
            ("a log", value in logs),
            ("Temporal's database", value.encode() in temporal_db),
        )
        if holds
    ]
