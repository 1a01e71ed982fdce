"""Till sales (issue 14) through the whole stack: POST /v1/orders with a
carry_out fulfillment by an associate of the store is priced, paid and taken
in one call (201 completed), the stock leaves as a pos_sale movement, and the
sale joins a known customer's orders, timeline and points, prints a receipt,
credits the associate and can be returned in another store or by mail."""

from __future__ import annotations

import asyncio
import random
import threading
import uuid
from typing import Any

import asyncpg
import httpx

from stack.config import database_name
from stack.harness import StackProcess
from stack.postgres import SUPERUSER
from tests.e2e.api import Caller, money, token, unique
from tests.e2e.test_journeys import (
    _wait_for_return_status,
    admin,
    associate_caller,
    available_at,
    customer_caller,
    guest,
    make_customer,
    make_product,
    receive_stock,
)
from tests.e2e.test_pricing import make_store, put_rate
from tests.e2e.test_staff_credit import until
from tests.e2e.test_tracing import Span, find, gateway_done, trace_id_of, wait_for_spans

__all__ = ["admin", "guest"]  # the fixtures, shared with test_journeys

LAT, LON = 39.9526, -75.1652


def region() -> str:
    """A tax region of this test only."""
    return "US-T" + "".join(random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))


def pos_sale_movements(stack: StackProcess, order_id: str) -> list[tuple[str, str, int]]:
    """The inventory ledger's pos_sale movements of this order's hold (read
    straight from the inventory database: no REST route lists movements)."""

    async def read() -> list[tuple[str, str, int]]:
        connection = await asyncpg.connect(
            host="127.0.0.1",
            port=int(stack.env["OMNI_PG_PORT"]),
            user=SUPERUSER,
            database=database_name("inventory"),
        )
        try:
            rows = await connection.fetch(
                "SELECT reason, location_id, sku, delta FROM stock_movements"
                " WHERE reference = $1 ORDER BY movement_id",
                f"order-{order_id}/hold",
            )
        finally:
            await connection.close()
        return [(row["reason"], row["location_id"], int(row["delta"])) for row in rows]

    return asyncio.run(read())


def sale(store: str, sku: str, quantity: int, tenders: list[dict[str, Any]], **extra: Any) -> Any:
    return {
        "lines": [{"sku": sku, "quantity": quantity}],
        "fulfillment": {"type": "carry_out", "location_id": store},
        "payment": {"tenders": tenders},
        **extra,
    }


def gift_card(admin: Caller, cents: int) -> str:
    response = admin.post("/v1/gift-cards", {"initial_balance": money(cents)})
    assert response.status_code == 201, response.text
    code: str = response.json()["code"]
    return code


def balance(caller: Caller, code: str) -> int:
    response = caller.get(f"/v1/gift-cards/{code}")
    assert response.status_code == 200, response.text
    amount: int = response.json()["balance"]["amount_minor"]
    return amount


def invariants_healthy(admin: Caller, sku: str) -> bool:
    report = admin.get("/v1/inventory/invariants", skus=sku)
    assert report.status_code == 200, report.text
    return bool(report.json()["healthy"])


def test_a_walk_in_cash_sale_is_completed_taxed_at_the_store_and_printed(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    tax = region()
    put_rate(admin, tax, 800)
    store = make_store(admin, tax, LAT, LON)
    sku = make_product(admin, 1000)
    receive_stock(admin, store, sku, 5)
    till = associate_caller(stack, store)

    quote = guest.post(
        "/v1/quotes",
        {
            "channel": "pos",
            "lines": [{"sku": sku, "quantity": 2}],
            "fulfillment": {"type": "carry_out", "location_id": store},
        },
    )
    assert quote.status_code == 200, quote.text
    assert quote.json()["totals"]["total"] == money(2160)  # 2 x 10.00 + 8 %, no shipping

    key = unique("till")
    body = sale(store, sku, 2, [{"type": "cash", "amount_minor": 2500}])
    sold = till.post("/v1/orders", body, idempotency_key=key)
    assert sold.status_code == 201, sold.text
    order = sold.json()
    assert order["status"] == "completed"
    assert order["customer_id"] == ""
    assert order["channel"] == "pos"
    assert order["totals"]["total"] == money(2160)
    assert order["totals"]["shipping"] == money(0)
    assert [(f["type"], f["location_id"], f["status"]) for f in order["fulfillments"]] == [
        ("carry_out", store, "picked_up")
    ]
    # Cash records what was due; the 3.40 change is the till's business.
    assert [(p["tender_type"], p["status"], p["captured"]) for p in order["payments"]] == [
        ("cash", "captured", money(2160))
    ]
    assert order["store_id"] == store
    assert order["credited_associate_id"] == order["associate_id"] != ""
    assert till.get(f"/v1/orders/{order['order_id']}").json() == order

    # The same key again is the same sale, nothing sold twice.
    again = till.post("/v1/orders", body, idempotency_key=key)
    assert again.status_code == 201, again.text
    assert again.json()["order_id"] == order["order_id"]
    assert available_at(guest, sku, store, LAT, LON) == 3
    assert pos_sale_movements(stack, order["order_id"]) == [("pos_sale", store, -2)]
    assert invariants_healthy(admin, sku)

    receipt = till.get(f"/v1/orders/{order['order_id']}/receipt")
    assert receipt.status_code == 200, receipt.text
    printed = receipt.json()
    assert printed["store"] == {"location_id": store, "name": f"Store {store}"}
    assert printed["associate_id"] == order["associate_id"]
    assert [(ln["sku"], ln["quantity"]) for ln in printed["lines"]] == [(sku, 2)]
    assert [(t["tender_type"], t["amount"]) for t in printed["tenders"]] == [("cash", money(2160))]
    assert printed["totals"]["tax"] == money(160)

    # Staff credit covers till sales.
    report = till.get("/v1/reports/staff-sales", store_id=store)
    assert report.status_code == 200, report.text
    assert report.text.count(order["associate_id"]) >= 1
    assert "pos" in report.text


def test_a_card_present_sale_is_three_calls_and_lists_nothing(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """The till path's calls, from the sale's trace: the hold, one
    AuthorizePayment that sells the card at once (no CapturePayment), the
    pos_sale commit - and no ListPayments or read back of the order for the
    answer, which still equals GET's."""
    store = make_store(admin, region(), LAT, LON)
    sku = make_product(admin, 1200)
    receive_stock(admin, store, sku, 2)
    till = associate_caller(stack, store)
    sold = till.post(
        "/v1/orders", sale(store, sku, 1, [{"type": "card_present", "token": "tokp_approve"}])
    )
    assert sold.status_code == 201, sold.text
    order = sold.json()
    assert [(p["tender_type"], p["status"], p["captured"]) for p in order["payments"]] == [
        ("card_present", "captured", money(1200))
    ]
    assert till.get(f"/v1/orders/{order['order_id']}").json() == order

    def answered(spans: list[Span]) -> bool:
        return bool(gateway_done(spans) and find(spans, "omni-orders", "PlaceOrder"))

    spans = wait_for_spans(stack, trace_id_of(sold), answered)
    called = [
        s["name"].rsplit("/", 1)[-1]
        for s in sorted(spans, key=lambda s: s["start_ns"])
        if s["service"] == "omni-orders"
        and s["kind"] == "CLIENT"
        and s["name"].startswith(("/omni.payments", "/omni.inventory"))
    ]
    assert [c for c in called if c not in ("GetProducts", "GetLocation")] == [
        "ReserveStock",
        "AuthorizePayment",
        "CommitReservation",
    ], called
    assert find(spans, "omni-gateway", "ListPayments") == []
    # After the claim, the orders database is only written: the completed
    # row is built from what the statements returned.
    reads = [
        s["attributes"].get("db.statement", "")
        for s in find(spans, "omni-orders", "SELECT")
        if s["attributes"].get("db.statement", "").lstrip().startswith("SELECT orders.")
    ]
    assert reads == [], reads


def test_a_known_customers_split_sale_joins_their_history_and_returns_in_another_store(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_store(admin, region(), LAT, LON)
    other = make_store(admin, region(), LAT + 0.01, LON)
    sku = make_product(admin, 2000)
    receive_stock(admin, store, sku, 4)
    till = associate_caller(stack, store)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    code = gift_card(admin, 1500)

    tenders: list[dict[str, Any]] = [
        {"type": "gift_card", "code": code, "amount_minor": 1500},
        {"type": "card_present", "token": "tokp_approve"},
    ]
    sold = till.post("/v1/orders", sale(store, sku, 2, tenders, customer_id=customer_id))
    assert sold.status_code == 201, sold.text
    order = sold.json()
    order_id = order["order_id"]
    assert order["status"] == "completed"
    assert sorted((p["tender_type"], p["captured"]["amount_minor"]) for p in order["payments"]) == [
        ("card_present", 2500),
        ("gift_card", 1500),
    ]
    # The answer is the sale as written (orders reads nothing back, lists no
    # payments): what GET shows, payments in the same order included.
    assert till.get(f"/v1/orders/{order_id}").json() == order
    assert balance(admin, code) == 0

    orders = until(
        lambda: [
            o
            for o in customer.get(f"/v1/customers/{customer_id}/orders").json()["items"]
            if o.get("order_id") == order_id or o.get("reference_id") == order_id
        ],
        "the till sale in the customer's orders",
    )
    assert orders
    timeline = customer.get(f"/v1/customers/{customer_id}/timeline").json()["items"]
    assert any(
        e.get("kind") == "order_completed" and order_id in str(e.values()) for e in timeline
    ), timeline
    points = customer.get(f"/v1/customers/{customer_id}").json()["loyalty_points"]
    assert points == 40
    # Confirmed to the customer like every placed order, with its lines.
    until(
        lambda: [
            n
            for n in customer.get(f"/v1/customers/{customer_id}/notifications").json()["items"]
            if n.get("kind") == "order_confirmed" and sku in str(n)
        ],
        "the till sale's confirmation",
    )

    # Returned in another store by its associate: refunded to the tenders
    # (gift card first), restocked there.
    returner = associate_caller(stack, other)
    created = returner.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": other,
        },
    )
    assert created.status_code == 201, created.text
    refunded = _wait_for_return_status(returner, created.json()["return_id"], "refunded")
    assert sum(r["amount"]["amount_minor"] for r in refunded["refunds"]) == 2000
    assert available_at(guest, sku, other, LAT, LON) == 1

    # The other unit comes back by mail.
    mailed = customer.post(
        "/v1/returns",
        {
            "order_id": order_id,
            "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}],
            "method": "mail",
        },
    )
    assert mailed.status_code == 201, mailed.text
    _wait_for_return_status(customer, mailed.json()["return_id"], "awaiting_receipt")
    received = associate_caller(stack, store).post(
        f"/v1/returns/{mailed.json()['return_id']}/receive",
        {"location_id": store, "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}]},
    )
    assert received.status_code == 200, received.text
    assert received.json()["status"] == "refunded"
    assert invariants_healthy(admin, sku)


def test_a_declined_card_present_leaves_nothing_held_or_taken(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_store(admin, region(), LAT, LON)
    sku = make_product(admin, 1200)
    receive_stock(admin, store, sku, 2)
    till = associate_caller(stack, store)
    code = gift_card(admin, 500)
    tenders: list[dict[str, Any]] = [
        {"type": "gift_card", "code": code, "amount_minor": 500},
        {"type": "card_present", "token": "tokp_decline"},
    ]
    key = unique("declined")
    declined = till.post("/v1/orders", sale(store, sku, 1, tenders), idempotency_key=key)
    assert declined.status_code == 422, declined.text
    assert declined.json()["type"].endswith("payment-declined") or "declin" in declined.text
    assert available_at(guest, sku, store, LAT, LON) == 2
    assert balance(admin, code) == 500
    # Told the same again; still nothing taken.
    again = till.post("/v1/orders", sale(store, sku, 1, tenders), idempotency_key=key)
    assert again.status_code == 422, again.text
    assert available_at(guest, sku, store, LAT, LON) == 2
    assert invariants_healthy(admin, sku)

    short = till.post("/v1/orders", sale(store, sku, 1, [{"type": "cash", "amount_minor": 100}]))
    assert short.status_code in (400, 422), short.text
    assert [e["field"] for e in short.json()["errors"]] == ["tenders"]


def test_only_an_associate_of_that_store_sells_at_its_till(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_store(admin, region(), LAT, LON)
    elsewhere = make_store(admin, region(), LAT, LON + 0.01)
    sku = make_product(admin, 900)
    receive_stock(admin, store, sku, 3)
    customer_id = make_customer(guest)
    cash: list[dict[str, Any]] = [{"type": "cash", "amount_minor": 900}]
    body = sale(store, sku, 1, cash, customer_id=customer_id)

    for caller in (
        customer_caller(stack, customer_id),
        Caller(stack.gateway_url, token("agent", channel="call_center")),
        admin,
        associate_caller(stack, elsewhere),
    ):
        refused = caller.post("/v1/orders", body)
        assert refused.status_code == 403, refused.text
    assert available_at(guest, sku, store, LAT, LON) == 3

    till = associate_caller(stack, store)
    # A card number in any field is a 422 naming it, never echoed back.
    number = "4242424242424242"
    leaked = till.post(
        "/v1/orders", sale(store, sku, 1, [{"type": "card_present", "token": number}])
    )
    assert leaked.status_code == 422, leaked.text
    assert number not in leaked.text
    assert "payment.tenders[0].token" in [e["field"] for e in leaked.json()["errors"]]

    # Mass assignment: status, totals and payments in the body are ignored.
    sold = till.post(
        "/v1/orders",
        {
            **sale(store, sku, 1, [{"type": "cash", "amount_minor": 5000}]),
            "status": "cancelled",
            "totals": {"total": money(1)},
            "associate_id": "someone-else",
            "payments": [{"tender_type": "cash", "captured": money(1)}],
        },
    )
    assert sold.status_code == 201, sold.text
    order = sold.json()
    assert order["status"] == "completed"
    assert order["totals"]["total"] == money(900)
    assert order["associate_id"] != "someone-else"
    assert available_at(guest, sku, store, LAT, LON) == 2


def _post_at_once(bodies: list[tuple[Caller, dict[str, Any], str]]) -> list[httpx.Response]:
    """Sends every request at the same moment (a barrier, not a sleep)."""
    barrier = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def send(index: int) -> None:
        caller, body, key = bodies[index]
        barrier.wait()
        answers[index] = caller.post("/v1/orders", body, idempotency_key=key)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_races_one_key_twice_is_one_sale_and_the_last_unit_sells_once(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_store(admin, region(), LAT, LON)
    sku = make_product(admin, 700)
    receive_stock(admin, store, sku, 3)
    till = associate_caller(stack, store)
    body = sale(store, sku, 2, [{"type": "cash", "amount_minor": 1400}])
    key = str(uuid.uuid4())
    first, second = _post_at_once([(till, body, key), (till, body, key)])
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    assert first.json()["order_id"] == second.json()["order_id"]
    assert available_at(guest, sku, store, LAT, LON) == 1

    # Two tills, the last unit: one sells it, the other is told it is gone.
    other_till = associate_caller(stack, store)
    last = sale(store, sku, 1, [{"type": "cash", "amount_minor": 700}])
    answers = _post_at_once(
        [(till, last, str(uuid.uuid4())), (other_till, last, str(uuid.uuid4()))]
    )
    assert sorted(a.status_code for a in answers) == [201, 422], [a.text for a in answers]
    (lost,) = [a for a in answers if a.status_code == 422]
    assert "stock" in lost.text.lower()
    assert available_at(guest, sku, store, LAT, LON) == 0
    assert invariants_healthy(admin, sku)
