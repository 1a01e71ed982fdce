"""A real order's history on the real stack (issue 10, defect 10, and
docs/tracing-an-order.md): stored encrypted, readable only with the key
through the codec server, and findable by its search attributes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.client import Client

from services.common.temporal_codec import data_converter
from stack.harness import E2E_CODEC_TOKEN, StackProcess
from stack.temporal import temporal_binary
from tests.e2e.api import Caller, money, token, unique
from tests.e2e.test_journeys import (
    _payload_texts,
    associate_caller,
    customer_caller,
    make_location,
    make_product,
    receive_stock,
)

LAT, LON = 40.7128, -74.0060
DEADLINE_SECONDS = 30.0
UI_ORIGIN = "http://127.0.0.1"


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


def codec_url(stack: StackProcess) -> str:
    return f"http://127.0.0.1:{stack.env['CODEC_SERVER_PORT']}"


def ready_order(stack: StackProcess, admin: Caller, guest: Caller) -> dict[str, str]:
    """A pickup paid by gift card and card, picked: ready for pickup."""
    store = make_location(admin, LAT, LON)
    sku = make_product(admin, 2000)
    receive_stock(admin, store, sku, 3)
    email = f"{unique('secret-shopper').lower()}@example.com"
    created = guest.post("/v1/customers", {"email": email, "phone": "", "name": "Sam Secret"})
    assert created.status_code == 201, created.text
    customer_id = created.json()["customer_id"]
    issued = admin.post("/v1/gift-cards", {"initial_balance": money(500)})
    assert issued.status_code == 201, issued.text
    gift_code = issued.json()["code"]
    customer = customer_caller(stack, customer_id)
    placed = customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "channel": "web",
            "lines": [{"sku": sku, "quantity": 1}],
            "fulfillment": {"type": "pickup", "location_id": store},
            "payment": {
                "tenders": [
                    {"type": "gift_card", "code": gift_code, "amount_minor": 500},
                    {"type": "card", "token": "tok_approve"},
                ]
            },
        },
    )
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["order_id"]
    fulfillment_id = placed.json()["fulfillments"][0]["fulfillment_id"]
    picked = associate_caller(stack, store).post(
        f"/v1/fulfillments/{fulfillment_id}/pick",
        {"lines": [{"sku": sku, "quantity_picked": 1}]},
    )
    assert picked.status_code == 200, picked.text
    order = customer.get(f"/v1/orders/{order_id}").json()
    assert order["status"] == "ready_for_pickup", order
    return {
        "order_id": order_id,
        "store": store,
        "fulfillment_id": fulfillment_id,
        "email": email,
        "gift_code": gift_code,
        "token": "tok_approve",
        "pickup_code": order["fulfillments"][0]["pickup_code"],
    }


async def find(client: Client, query: str, wanted: str) -> list[str]:
    """Workflow ids the query finds, once `wanted` is among them (visibility
    follows a moment behind) or the deadline passes."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        found = await find_now(client, query)
        if wanted in found or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def find_now(client: Client, query: str) -> list[str]:
    """Workflow ids the query finds at once: for what must NOT be found, asked
    after `find` saw the workflow's current record (waiting for something that
    never comes would only spend the deadline)."""
    return [execution.id async for execution in client.list_workflows(query)]


def show(stack: StackProcess, workflow_id: str, *codec: str) -> str:
    shown = subprocess.run(
        [
            temporal_binary(),
            "workflow",
            "show",
            "--workflow-id",
            workflow_id,
            "--address",
            stack.temporal_address,
            "--output",
            "json",
            *codec,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return shown.stdout + "\n".join(_payload_texts(json.loads(shown.stdout)))


def ui_settings(stack: StackProcess) -> dict[str, Any]:
    ui = f"{UI_ORIGIN}:{stack.env['TEMPORAL_UI_PORT']}"
    with urllib.request.urlopen(f"{ui}/api/v1/settings", timeout=10) as response:
        settings: dict[str, Any] = json.loads(response.read())
    return settings


def post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


async def test_a_real_order_s_history_keeps_its_secrets_and_the_key_gives_them_back(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    order = ready_order(stack, admin, guest)
    workflow_id = f"order-{order['order_id']}"
    handed = associate_caller(stack, order["store"]).post(
        f"/v1/fulfillments/{order['fulfillment_id']}/handover",
        {"pickup_code": order["pickup_code"]},
    )
    assert handed.status_code == 200, handed.text
    secrets = [order[k] for k in ("email", "gift_code", "token", "pickup_code")]

    # As stored: no client codec, every payload raw (the bytes Temporal holds).
    raw_client = await Client.connect(stack.temporal_address)
    history = await raw_client.get_workflow_handle(workflow_id).fetch_history()
    stored = b"".join(event.SerializeToString() for event in history.events)
    assert order["order_id"].encode() in stored  # the search attributes, in clear
    for secret in secrets:
        assert secret.encode() not in stored, f"{secret!r} readable in the stored history"
    raw_text = show(stack, workflow_id)
    assert "binary/encrypted" in raw_text or "YmluYXJ5L2VuY3J5cHRlZA" in raw_text
    for secret in secrets:
        assert secret not in raw_text

    # Through the codec server with its token: the history reads in clear again.
    endpoint = codec_url(stack)
    decoded = show(
        stack,
        workflow_id,
        "--codec-endpoint",
        endpoint,
        "--codec-auth",
        f"Bearer {E2E_CODEC_TOKEN}",
    )
    assert order["pickup_code"] in decoded  # the handover's argument
    assert order["gift_code"] in decoded and order["token"] in decoded  # the tenders
    assert order["email"] not in decoded  # never sent to the journey at all

    # Without the token the codec server decodes nothing; the dev UI's own
    # origin (which cannot send one) is trusted on this development stack.
    [first] = [
        e for e in history.events if e.HasField("workflow_execution_started_event_attributes")
    ]
    started = first.workflow_execution_started_event_attributes.input
    body = json_format.MessageToDict(started)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Origin": "http://evil.test"}):
        status, answer = post(f"{endpoint}/decode", body, headers)
        assert status == 401, headers
        assert order["gift_code"] not in json.dumps(answer)
    ui = f"{UI_ORIGIN}:{stack.env['TEMPORAL_UI_PORT']}"
    status, answer = post(f"{endpoint}/decode", body, {"Origin": ui})
    assert status == 200
    assert order["gift_code"] in "\n".join(_payload_texts(answer))


async def test_an_order_is_found_by_status_and_store_and_shows_its_summary(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    order = ready_order(stack, admin, guest)
    workflow_id = f"order-{order['order_id']}"
    client = await Client.connect(stack.temporal_address, data_converter=data_converter())
    query = f'OrderStatus="ready_for_pickup" AND StoreId="{order["store"]}"'
    assert await find(client, query, workflow_id) == [workflow_id]
    # Not at another store, and not in another status.
    # Visibility now holds the record as ready_for_pickup at this store.
    assert await find_now(client, 'OrderStatus="ready_for_pickup" AND StoreId="nowhere"') == []
    placed_query = f'OrderStatus="placed" AND StoreId="{order["store"]}"'
    assert workflow_id not in await find_now(client, placed_query)
    by_customer = await find(client, f'OrderId="{order["order_id"]}"', workflow_id)
    assert by_customer == [workflow_id]

    # The dev server's UI decodes through the stack's codec server.
    assert ui_settings(stack)["Codec"]["Endpoint"] == codec_url(stack)

    described = await client.get_workflow_handle(workflow_id).describe()
    assert await described.static_summary() == f"BOPIS · 1 item · store {order['store']} · web"
    attributes = {pair.key.name: pair.value for pair in described.typed_search_attributes}
    assert attributes["FulfillmentType"] == "pickup" and attributes["Channel"] == "web"
    assert order["email"] not in json.dumps(attributes, default=str)
