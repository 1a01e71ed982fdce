"""Every route x every caller (issue 12), generated from the app's own route
table: a route without an entry in EXPECTED fails the suite, and so does an
entry for a route nobody serves.

Each entry gives the exact status for anonymous, a guest, customer A (on
their own things), an agent, the associate of S1 (on S1's things) and an
admin, against a small world of fake services (tests/security/world.py).
A refused request changes nothing: no service is asked to write anything.
Anonymous callers and guests are refused before any service is called at all.

OBJECT_CASES then aim the other caller at those things: customer B at
customer A's order, fulfillment, return, cart, profile, payments and store
credit; the associate of S2 at S1's fulfillment, tasks, return and stock —
each the exact 403/404 API.md gives (404 "also for a resource the caller may
not see"), with nothing written."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.bodies import BODIES, concrete
from tests.security.routes import operations
from tests.security.world import CALLERS, World
from tests.unit.gateway_fakes import FakeStub, bearer, fake_clients, make_app

ROLES = ("anonymous", "guest", "customer_a", "agent", "associate_s1", "admin")

PUBLIC = "public"  # no token needed; not a /v1 route
STREAM = "stream"  # SSE: its callers are tests/security/test_sse.py's


def only(ok: int, *roles: str, guest: int = 403) -> dict[str, int]:
    """`ok` for `roles`; anonymous 401; everyone else 403 (a guest `guest`)."""
    row = {role: 403 for role in ROLES}
    row["anonymous"] = 401
    row["guest"] = guest
    for role in roles:
        row[role] = ok
    return row


def anyone(ok: int = 200) -> dict[str, int]:
    """Any token, a guest's included (API.md: availability, locations, products, quotes)."""
    return only(ok, *ROLES[1:], guest=ok)


OWNER = ("customer_a", "agent", "admin")  # the customer's own record, and staff for them
STORE = ("associate_s1", "admin")  # store work at the associate's own store

EXPECTED: dict[tuple[str, str], str | dict[str, int]] = {
    ("GET", "/console"): PUBLIC,
    # The console's own script and stylesheet, and its development sign-in
    # (404 on a production gateway: tests/unit/test_console_sign_in.py).
    ("GET", "/console/console.css"): PUBLIC,
    ("GET", "/console/console.js"): PUBLIC,
    ("GET", "/console/sign-in"): PUBLIC,
    ("POST", "/console/sign-in"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # Associates registry (issue 14): admin manages; an associate lists their store.
    ("GET", "/v1/associates"): only(200, *STORE),
    ("POST", "/v1/associates"): only(201, "admin"),
    ("POST", "/v1/associates/{associate_id}/deactivate"): only(200, "admin"),
    ("GET", "/v1/availability"): anyone(),
    ("GET", "/v1/availability/stream"): STREAM,
    # A guest (and anyone) may create or match a customer: 200 here, a match.
    ("POST", "/v1/customers"): anyone(200),
    # Exact-match lookup for the till and the call centre (issue 14).
    ("GET", "/v1/customers"): only(200, "agent", "associate_s1", "admin"),
    ("GET", "/v1/customers/{customer_id}"): only(200, *OWNER),
    ("GET", "/v1/customers/{customer_id}/cart"): only(200, *OWNER),
    ("PUT", "/v1/customers/{customer_id}/cart"): only(200, *OWNER),
    ("POST", "/v1/customers/{customer_id}/cart/merge"): only(200, *OWNER),
    ("POST", "/v1/customers/{customer_id}/erase"): only(200, *OWNER),
    ("GET", "/v1/customers/{customer_id}/export"): only(200, *OWNER),
    ("GET", "/v1/customers/{customer_id}/loyalty"): only(200, *OWNER),
    ("POST", "/v1/customers/{customer_id}/merge"): only(200, "agent", "admin"),
    ("GET", "/v1/customers/{customer_id}/notifications"): only(200, *OWNER),
    ("GET", "/v1/customers/{customer_id}/orders"): only(200, *OWNER),
    ("PUT", "/v1/customers/{customer_id}/preferences"): only(200, *OWNER),
    ("GET", "/v1/customers/{customer_id}/timeline"): only(200, *OWNER),
    ("GET", "/v1/dev/provider/operations"): only(200, "admin"),
    # Curbside: the customer (an agent for them) says they are outside.
    ("POST", "/v1/fulfillments/{fulfillment_id}/arrived"): only(200, "customer_a", "agent"),
    ("POST", "/v1/fulfillments/{fulfillment_id}/handover"): only(200, *STORE),
    ("POST", "/v1/fulfillments/{fulfillment_id}/pick"): only(200, *STORE),
    # A new pickup code: the customer or an agent, never the store.
    ("POST", "/v1/fulfillments/{fulfillment_id}/pickup-code"): only(200, *OWNER),
    ("POST", "/v1/fulfillments/{fulfillment_id}/reject"): only(200, *STORE),
    ("POST", "/v1/fulfillments/{fulfillment_id}/ship"): only(200, *STORE),
    ("POST", "/v1/gift-cards"): only(201, "admin"),
    # Anyone holding the code spends it; not guests (finding 9).
    ("GET", "/v1/gift-cards/{code}"): only(200, "customer_a", "agent", "associate_s1", "admin"),
    # An associate: cycle_count and damage at their own store (the body's).
    ("POST", "/v1/inventory/adjustments"): only(201, *STORE),
    ("GET", "/v1/inventory/invariants"): only(200, "admin"),
    ("PUT", "/v1/inventory/safety-stock"): only(200, "admin"),
    ("GET", "/v1/locations"): anyone(),
    ("POST", "/v1/locations"): only(201, "admin"),
    ("PATCH", "/v1/locations/{location_id}"): only(200, "admin"),
    ("POST", "/v1/orders"): only(201, "customer_a", "agent", "associate_s1", "admin"),
    # Order lookup (issue 14): an associate only their own store's.
    ("GET", "/v1/orders"): only(200, "agent", "associate_s1", "admin"),
    ("GET", "/v1/orders/{order_id}"): only(200, *OWNER, "associate_s1"),
    # What a till prints (issue 14): whoever may see the order.
    ("GET", "/v1/orders/{order_id}/receipt"): only(200, *OWNER, "associate_s1"),
    # Associates do not cancel whole orders (finding 6).
    ("POST", "/v1/orders/{order_id}/cancel"): only(200, *OWNER),
    # Line cancels (issue 11): as the whole cancel, associates 403.
    ("POST", "/v1/orders/{order_id}/lines/cancel"): only(200, *OWNER),
    # A shipment's new address (issue 11): the customer, an agent (admin).
    ("PUT", "/v1/orders/{order_id}/shipping-address"): only(200, *OWNER),
    # A new tender after a declined re-authorization (issue 11): the customer, an agent.
    ("POST", "/v1/orders/{order_id}/payment"): only(200, *OWNER),
    ("GET", "/v1/products"): anyone(),
    ("POST", "/v1/products"): only(201, "admin"),
    ("GET", "/v1/products/{sku}"): anyone(),
    ("PATCH", "/v1/products/{sku}"): only(200, "admin"),
    ("DELETE", "/v1/products/{sku}/prices/{channel}"): only(200, "admin"),
    ("PUT", "/v1/products/{sku}/prices/{channel}"): only(200, "admin"),
    # The call centre reads promotions to explain a price.
    ("GET", "/v1/promotions"): only(200, "agent", "admin"),
    ("POST", "/v1/promotions"): only(201, "admin"),
    ("POST", "/v1/promotions/{promotion_id}/end"): only(200, "admin"),
    ("POST", "/v1/quotes"): anyone(),
    ("GET", "/v1/reports/staff-sales"): only(200, *STORE),
    ("POST", "/v1/returns"): only(201, *OWNER, "associate_s1"),
    ("GET", "/v1/returns/{return_id}"): only(200, *OWNER, "associate_s1"),
    ("POST", "/v1/returns/{return_id}/receive"): only(200, *STORE),
    # A storefront shows the shipping options before any sign-in (issue 13's route).
    ("GET", "/v1/shipping-methods"): anyone(),
    ("POST", "/v1/shipping-methods"): only(201, "admin"),
    ("GET", "/v1/stores/{store_id}/tasks"): only(200, *STORE),
    # The store outbox (issue 11): the store's associates, admins.
    ("GET", "/v1/stores/{store_id}/notifications"): only(200, *STORE),
    ("PUT", "/v1/tax-regions/{region}"): only(200, "admin"),
}

# (method, path, caller, path ids, body changes, status): the other customer,
# the other store's associate, aimed at customer A's / store S1's things.
OBJECT_CASES: list[tuple[str, str, str, dict[str, str], dict[str, Any], int]] = [
    # Customer B at customer A's profile, records, cart, store credit.
    *[
        (method, path, "customer_b", {}, {}, 404)
        for (method, path), row in EXPECTED.items()
        if "{customer_id}" in path and isinstance(row, dict) and row["customer_a"] == 200
    ],
    # ... at A's order (and its payments), its pickup and A's return.
    ("GET", "/v1/orders/{order_id}", "customer_b", {}, {}, 404),
    ("POST", "/v1/orders/{order_id}/cancel", "customer_b", {}, {}, 404),
    ("POST", "/v1/orders/{order_id}/lines/cancel", "customer_b", {}, {}, 404),
    ("PUT", "/v1/orders/{order_id}/shipping-address", "customer_b", {}, {}, 404),
    ("POST", "/v1/orders/{order_id}/payment", "customer_b", {}, {}, 404),
    ("POST", "/v1/fulfillments/{fulfillment_id}/arrived", "customer_b", {}, {}, 404),
    ("POST", "/v1/fulfillments/{fulfillment_id}/pickup-code", "customer_b", {}, {}, 404),
    ("GET", "/v1/returns/{return_id}", "customer_b", {}, {}, 404),
    ("POST", "/v1/returns", "customer_b", {}, {"method": "mail"}, 404),
    # An order in A's name: a customer orders only for themselves.
    ("POST", "/v1/orders", "customer_b", {}, {"customer_id": "C-A"}, 403),
    # The associate of S2 at S1's pickup, tasks, return and stock.
    *[
        ("POST", f"/v1/fulfillments/{{fulfillment_id}}/{action}", "associate_s2", {}, {}, 404)
        for action in ("pick", "handover", "ship", "reject")
    ],
    ("GET", "/v1/stores/{store_id}/tasks", "associate_s2", {}, {}, 404),
    ("GET", "/v1/stores/{store_id}/notifications", "associate_s2", {}, {}, 404),
    ("GET", "/v1/orders/{order_id}", "associate_s2", {}, {}, 404),
    ("GET", "/v1/returns/{return_id}", "associate_s2", {}, {}, 404),
    ("POST", "/v1/returns/{return_id}/receive", "associate_s2", {}, {}, 404),
    ("POST", "/v1/inventory/adjustments", "associate_s2", {}, {}, 404),
    # An associate's stock changes are counts and damage only.
    ("POST", "/v1/inventory/adjustments", "associate_s1", {}, {"reason": "receipt"}, 403),
    ("POST", "/v1/inventory/adjustments", "associate_s1", {}, {"delta": 1000}, 400),
    ("POST", "/v1/inventory/adjustments", "admin", {}, {"delta": 1000}, 400),
    ("POST", "/v1/inventory/adjustments", "associate_s1", {}, {"reason": "cycle_count"}, 201),
]

WORLD = World()
ROUTES = sorted(operations(WORLD.app), key=lambda op: (op[1], op[0]))


def test_every_route_has_an_expected_access_entry() -> None:
    assert {op for op in ROUTES if op not in EXPECTED} == set()
    assert {op for op in EXPECTED if op not in ROUTES} == set()


def _ask(
    world: World, method: str, path: str, caller: str, ids: dict[str, str], body: dict[str, Any]
) -> Any:
    payload = BODIES.get((method, path))
    if isinstance(payload, dict):
        payload = {**payload, **body}
    headers = {**CALLERS[caller], "Idempotency-Key": uuid.uuid4().hex}
    client = TestClient(world.app, raise_server_exceptions=False)
    return client.request(method, concrete(path, **ids), json=payload, headers=headers)


CASES = [
    (method, path, role, row[role])
    for (method, path), row in EXPECTED.items()
    if isinstance(row, dict)
    for role in ROLES
]


@pytest.mark.parametrize(("method", "path", "caller", "status"), CASES)
def test_route_x_caller(method: str, path: str, caller: str, status: int) -> None:
    logging.disable(logging.WARNING)
    try:
        world = WORLD.reset()
        answer = _ask(world, method, path, caller, {}, {})
    finally:
        logging.disable(logging.NOTSET)
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert world.writes() == [], "a refused request changed something"
    if caller in ("anonymous", "guest") and status in (401, 403):
        assert world.calls() == [], "refused before any service is asked"


@pytest.mark.parametrize(("method", "path", "caller", "ids", "body", "status"), OBJECT_CASES)
def test_object_level(
    method: str, path: str, caller: str, ids: dict[str, str], body: dict[str, Any], status: int
) -> None:
    world = WORLD.reset()
    answer = _ask(world, method, path, caller, ids, body)
    assert answer.status_code == status, answer.text
    if status >= 400:
        assert answer.headers["content-type"] == "application/problem+json"
        assert world.writes() == [], "a refused request changed something"
        # Nothing of customer A's shows in a refusal.
        assert "alice@example.com" not in answer.text
        assert "314159" not in answer.text


class Recording(FakeStub):
    """Answers nothing: any call reaching it is recorded, then fails."""

    def __getattr__(self, name: str) -> Any:
        async def method(request: Any, **_options: Any) -> Any:
            self.calls.append((name, request))
            raise AssertionError(f"{name} reached a service")

        return method


@pytest.mark.parametrize(
    ("method", "path"), [op for op in ROUTES if op[1].startswith("/v1") and op in EXPECTED]
)
def test_anonymous_is_401_even_with_no_service_behind(method: str, path: str) -> None:
    stubs = [Recording() for _ in range(4)]
    inventory, orders, customers, payments = stubs
    app = make_app(
        fake_clients(inventory=inventory, orders=orders, customers=customers, payments=payments)
    )
    answer = TestClient(app).request(
        method, concrete(path), json={}, headers={"Idempotency-Key": "k"}
    )
    assert answer.status_code == 401, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [s.calls for s in stubs] == [[], [], [], []]


def test_a_guest_token_is_a_guest_whatever_else_it_claims() -> None:
    """A guest token naming a customer is still a guest: 403 on their record."""
    world = WORLD.reset()
    headers = bearer("guest", customer_id="C-A", store_id="S1", channel="web")
    client = TestClient(world.app)
    for path in ("/v1/customers/C-A", "/v1/orders/O-A", "/v1/stores/S1/tasks"):
        assert client.get(path, headers=headers).status_code == 403
    assert world.calls() == []
