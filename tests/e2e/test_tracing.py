"""One trace per order journey, and /metrics, on the real stack.

`omni up` makes every process write its spans to OMNI_HOME/traces.jsonl; the
tests read that file the way an engineer following an order would.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from stack.harness import StackProcess
from tests.e2e.api import Caller, token, unique
from tests.e2e.test_journeys import (
    associate_caller,
    customer_caller,
    make_location,
    make_product,
    place_bopis,
    receive_stock,
)

Span = dict[str, Any]
DEADLINE_SECONDS = 30.0


def trace_id_of(response: httpx.Response) -> str:
    _version, trace_id, _span_id, _flags = response.headers["traceparent"].split("-")
    return trace_id


def read_spans(stack: StackProcess) -> list[Span]:
    path: Path = stack.home / "traces.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_for_spans(
    stack: StackProcess, trace_id: str, complete: Callable[[list[Span]], bool]
) -> list[Span]:
    """The spans of one trace, once `complete` says all expected ones are written."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    spans: list[Span] = []
    while time.monotonic() < deadline:
        spans = [s for s in read_spans(stack) if s["trace_id"] == trace_id]
        if complete(spans):
            return spans
        time.sleep(0.2)
    names = sorted(f"{s['service']}: {s['name']}" for s in spans)
    raise AssertionError(f"trace {trace_id} incomplete after {DEADLINE_SECONDS}s: {names}")


def gateway_done(spans: list[Span]) -> bool:
    """The gateway writes its request span after the response has gone out."""
    return any(s["service"] == "omni-gateway" and s["kind"] == "SERVER" for s in spans)


def ancestors(span: Span, spans: list[Span]) -> list[Span]:
    by_id = {s["span_id"]: s for s in spans}
    chain = []
    parent = by_id.get(span["parent_span_id"] or "")
    while parent is not None:
        chain.append(parent)
        parent = by_id.get(parent["parent_span_id"] or "")
    return chain


def find(spans: list[Span], service: str, name_part: str) -> list[Span]:
    return [s for s in spans if s["service"] == service and name_part in s["name"]]


def descends_from(span: Span, spans: list[Span], service: str, name_part: str) -> bool:
    return any(a["service"] == service and name_part in a["name"] for a in ancestors(span, spans))


@pytest.fixture
def bopis_world(stack: StackProcess) -> dict[str, Any]:
    admin = Caller(stack.gateway_url, token("admin"))
    guest = Caller(stack.gateway_url, token("guest", channel="web"))
    store = make_location(admin, 47.61, -122.33)
    sku = make_product(admin, 1200)
    receive_stock(admin, store, sku, 4)
    email = f"{unique('traced').lower()}@example.com"
    name = f"Tracy {unique('Private')}"
    phone = "+1415555" + str(uuid.uuid4().int)[-4:]
    created = guest.post("/v1/customers", {"email": email, "phone": phone, "name": name})
    assert created.status_code == 201, created.text
    customer_id = created.json()["customer_id"]
    customer = customer_caller(stack, customer_id)
    return {
        "store": store,
        "sku": sku,
        "customer_id": customer_id,
        "customer": customer,
        "associate": associate_caller(stack, store),
        "personal": [email, name, phone, customer.bearer, guest.bearer, "tok_approve"],
    }


def test_bopis_journey_is_one_trace_from_gateway_to_sql(
    stack: StackProcess, bopis_world: dict[str, Any]
) -> None:
    world = bopis_world
    placed = place_bopis(
        world["customer"], world["customer_id"], world["store"], world["sku"], 1, "tok_approve"
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    trace_id = trace_id_of(placed)

    def journey_written(spans: list[Span]) -> bool:
        return bool(
            gateway_done(spans)
            and find(spans, "omni-inventory", "ReserveStock")
            and find(spans, "omni-payments", "AuthorizePayment")
            and find(spans, "omni-worker", "RunWorkflow:")
            and [s for s in spans if s["service"] == "omni-payments" and s["kind"] == "CLIENT"]
            # Every span the checks below look for: a service's exporter
            # writes in batches, so its statements may come a batch later.
            and all(
                any(
                    s["service"] == service and s["attributes"].get("db.system") == "postgresql"
                    for s in spans
                )
                for service in ("omni-inventory", "omni-payments")
            )
        )

    spans = wait_for_spans(stack, trace_id, journey_written)

    (gateway,) = [s for s in spans if s["service"] == "omni-gateway" and s["kind"] == "SERVER"]
    assert gateway["name"] == "POST /v1/orders" and gateway["parent_span_id"] is None
    (place_order,) = find(spans, "omni-orders", "OrdersService/PlaceOrder")
    assert place_order["kind"] == "SERVER"
    assert descends_from(place_order, spans, "omni-gateway", "POST /v1/orders")
    assert place_order["attributes"]["omni.order_id"] == order_id
    assert place_order["attributes"]["omni.store_id"] == world["store"]
    assert place_order["attributes"]["omni.channel"] == "web"

    # The journey the orders service starts runs in the worker, inside the same trace.
    (run_workflow, *_) = find(spans, "omni-worker", "RunWorkflow:")
    assert descends_from(run_workflow, spans, "omni-orders", "PlaceOrder")

    # The orders service holds the stock and authorizes itself (issue 10's
    # placement), and each call's SQL hangs under it.
    for service, method in (("omni-inventory", "ReserveStock"), ("omni-payments", "Authorize")):
        (server,) = [s for s in find(spans, service, method) if s["kind"] == "SERVER"]
        assert descends_from(server, spans, "omni-orders", "PlaceOrder")
        assert server["attributes"]["omni.order_id"] == order_id
        sql = [
            s
            for s in spans
            if s["service"] == service and s["attributes"].get("db.system") == "postgresql"
        ]
        assert sql, f"no SQL spans from {service}"
        # Statements hang under the service call that ran them (calls still in
        # flight when the file was read have not written their span yet).
        calls = []
        for statement in sql:
            servers = [a for a in ancestors(statement, spans) if a["kind"] == "SERVER"]
            if servers:
                assert servers[0]["service"] == service
                assert servers[-1]["service"] == "omni-gateway"
                calls.append(servers[0])
        assert any(descends_from(c, spans, "omni-orders", "PlaceOrder") for c in calls)
    payment_sql = [
        s
        for s in find(spans, "omni-payments", "omni_payments")
        if descends_from(s, spans, "omni-payments", "AuthorizePayment")
    ]
    assert payment_sql, "authorizing wrote nothing to the payments database"

    assert_no_personal_data(spans, world["personal"])


def test_pick_links_to_the_trace_that_placed_the_order(
    stack: StackProcess, bopis_world: dict[str, Any]
) -> None:
    world = bopis_world
    placed = place_bopis(
        world["customer"], world["customer_id"], world["store"], world["sku"], 1, "tok_approve"
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    placed_trace = trace_id_of(placed)
    order = world["customer"].get(f"/v1/orders/{order_id}").json()
    (fulfillment,) = order["fulfillments"]

    picked = world["associate"].post(
        f"/v1/fulfillments/{fulfillment['fulfillment_id']}/pick",
        {"lines": [{"sku": world["sku"], "quantity_picked": 1}]},
    )
    assert picked.status_code == 200, picked.text
    pick_trace = trace_id_of(picked)
    assert pick_trace != placed_trace

    # The associate's request is its own trace; its action span links to the order's.
    spans = wait_for_spans(
        stack,
        pick_trace,
        lambda spans: gateway_done(spans) and bool(find(spans, "omni-orders", "order.pick")),
    )
    (action,) = find(spans, "omni-orders", "order.pick")
    assert action["attributes"]["omni.order_id"] == order_id
    assert [link["trace_id"] for link in action["links"]] == [placed_trace]
    assert descends_from(action, spans, "omni-gateway", "/pick")
    (update,) = find(spans, "omni-orders", "StartWorkflowUpdate:pick")
    assert descends_from(update, spans, "omni-orders", "order.pick")
    assert_no_personal_data(spans, world["personal"])

    # The workflow handles the update inside the order's own trace, linked back.
    order_spans = wait_for_spans(
        stack, placed_trace, lambda spans: bool(find(spans, "omni-worker", "HandleUpdate:pick"))
    )
    (handled,) = find(order_spans, "omni-worker", "HandleUpdate:pick")
    assert pick_trace in [link["trace_id"] for link in handled["links"]]


def test_log_lines_carry_trace_and_order_ids(
    stack: StackProcess, bopis_world: dict[str, Any]
) -> None:
    world = bopis_world
    placed = place_bopis(
        world["customer"], world["customer_id"], world["store"], world["sku"], 1, "tok_approve"
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    fetched = world["customer"].get(f"/v1/orders/{order_id}")
    assert fetched.status_code == 200
    trace_id = trace_id_of(fetched)

    deadline = time.monotonic() + DEADLINE_SECONDS
    matching: list[dict[str, Any]] = []
    while not matching and time.monotonic() < deadline:
        lines = (stack.home / "logs" / "gateway.log").read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        matching = [e for e in entries if e.get("trace_id") == trace_id]
        time.sleep(0.1)
    assert matching, "no gateway log line with the request's trace id"
    assert matching[-1]["order_id"] == order_id
    assert len(matching[-1]["span_id"]) == 16


def assert_no_personal_data(spans: list[Span], personal: list[str]) -> None:
    for span in spans:
        text = json.dumps(span["attributes"]) + span["name"]
        for value in personal:
            assert value not in text, f"{value!r} in span {span['service']}: {span['name']}"


def metrics_text(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200
    return response.text


def test_metrics_expose_rpc_http_and_temporal_histograms(
    stack: StackProcess, bopis_world: dict[str, Any]
) -> None:
    world = bopis_world
    placed = place_bopis(
        world["customer"], world["customer_id"], world["store"], world["sku"], 1, "tok_approve"
    )
    assert placed.status_code == 201, placed.text

    inventory = metrics_text(f"http://127.0.0.1:{stack.env['INVENTORY_METRICS_PORT']}/metrics")
    assert (
        'omni_rpc_server_duration_seconds_bucket{grpc_code="OK",'
        'grpc_method="ReserveStock",grpc_service="omni.inventory.v1.InventoryService"'
    ) in inventory
    assert "omni_inventory_reservations_total" in inventory

    payments = metrics_text(f"http://127.0.0.1:{stack.env['PAYMENTS_METRICS_PORT']}/metrics")
    assert 'omni_payment_operations_total{operation="authorize",outcome="authorized"}' in payments

    # Issue 12: the gateway's /metrics is on its own port, not the public one.
    assert httpx.get(f"{stack.gateway_url}/metrics").status_code == 404
    gateway = metrics_text(f"http://127.0.0.1:{stack.env['GATEWAY_METRICS_PORT']}/metrics")
    assert (
        'omni_http_server_duration_seconds_bucket{le="0.005",method="POST",route="/v1/orders",'
        'status="201"}'
    ) in gateway

    worker = metrics_text(f"http://127.0.0.1:{stack.env['WORKER_METRICS_PORT']}/metrics")
    assert "temporal_activity_execution_latency_seconds_bucket" in worker
    assert "temporal_workflow_task_execution_latency_seconds_bucket" in worker
