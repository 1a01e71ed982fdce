"""Mass assignment (issue 12, API.md: "Unknown fields are ignored, never
applied"): every POST/PUT/PATCH body sent with fields its caller may not set
— status, totals, prices, refunds, captures, someone else's customer_id, a
channel, an actor, a store — reaches the services exactly as the same body
without them (byte for byte), and answers the same status."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.bodies import BODIES, concrete
from tests.security.test_route_matrix import EXPECTED, ROUTES
from tests.security.world import CALLERS, World

MONEY = {"amount_minor": 1, "currency": "USD"}
# What no body may set (unless the route's own model takes it, checked elsewhere).
PLANTED: dict[str, Any] = {
    "status": "completed",
    "totals": {"total": MONEY, "subtotal": MONEY},
    "total": MONEY,
    "amount": MONEY,
    "refund": MONEY,
    "refunds": [{"amount": MONEY, "status": "refunded"}],
    "captured": MONEY,
    "authorized": MONEY,
    "unit_price": MONEY,
    "discount": MONEY,
    "tax": MONEY,
    "loyalty_points": 1_000_000,
    "balance": MONEY,
    "customer_id": "C-B",
    "channel": "marketplace",
    "actor": "someone-else",
    "associate_id": "A2",
    "store_id": "S2",
    "credited_associate_id": "A2",
    "workflow_id": "order-O-B",
    "role": "admin",
    "on_hand": 1_000_000,
    "reserved": 0,
    "identities": [{"kind": "email", "value": "bob@example.com"}],
    "events": [{"type": "completed"}],
}

# The least trusted caller each route answers with success, first found.
PREFERENCE = ("customer_a", "associate_s1", "agent", "admin", "guest")


def _caller(row: dict[str, int]) -> str:
    return next(role for role in PREFERENCE if row.get(role, 500) < 300)


def _model_fields(method: str, path: str) -> set[str]:
    from tests.security.routes import api_routes

    for route in api_routes(World().app):
        if (
            route.path == path
            and method in (route.methods or set())
            and route.body_field is not None
        ):
            annotation = route.body_field.field_info.annotation
            models = getattr(annotation, "__args__", (annotation,))
            return {name for model in models for name in getattr(model, "model_fields", {})}
    return set()


CASES = [
    (method, path)
    for method, path in ROUTES
    if method in ("POST", "PUT", "PATCH")
    and isinstance(EXPECTED.get((method, path)), dict)
    and isinstance(BODIES.get((method, path), {}), dict)
]


def _sent(body: Any, method: str, path: str, caller: str) -> tuple[int, list[tuple[str, bytes]]]:
    world = World()
    headers = {**CALLERS[caller], "Idempotency-Key": "the-same-key"}
    answer = TestClient(world.app, raise_server_exceptions=False).request(
        method, concrete(path), json=body, headers=headers
    )
    sent = [
        (name, request.SerializeToString(deterministic=True))
        for stub in world.stubs()
        for name, request in stub.calls
    ]
    return answer.status_code, sent


@pytest.mark.parametrize(("method", "path"), CASES)
def test_fields_the_caller_may_not_set_change_nothing(method: str, path: str) -> None:
    row = EXPECTED[(method, path)]
    assert isinstance(row, dict)
    caller = _caller(row)
    body = dict(BODIES.get((method, path), {}))
    own = _model_fields(method, path)
    planted = {k: v for k, v in PLANTED.items() if k not in own}
    assert planted, "nothing to plant"
    plain_status, plain = _sent(body, method, path, caller)
    status, sent = _sent({**body, **planted}, method, path, caller)
    assert plain_status == row[caller]
    assert status == plain_status
    assert sent == plain, "a planted field reached a service"


# Body routes outside /v1 with their own planted-field test.
COVERED_ELSEWHERE = {
    # tests/unit/test_console_sign_in.py::test_fields_planted_in_a_sign_in_change_nothing
    ("POST", "/console/sign-in"),
}


def test_the_suite_covers_every_body_route() -> None:
    bodies = {op for op in ROUTES if op[0] in ("POST", "PUT", "PATCH")}
    assert bodies - set(CASES) - COVERED_ELSEWHERE == set()


def test_an_exchange_takes_only_its_lines_and_fulfillment() -> None:
    """Issue 11: the replacement's price, payment, customer, channel and ids
    come from the original order and the pricing function, never the body."""
    path = "/v1/returns"
    row = EXPECTED[("POST", path)]
    assert isinstance(row, dict)
    caller = _caller(row)
    body = dict(BODIES[("POST", path)])
    exchange = dict(body["exchange"])
    planted = {
        **exchange,
        **{k: v for k, v in PLANTED.items() if k not in exchange},
        "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        "order_id": "O-B",
        "replacement_order_id": "O-B",
        "exchange_for": "ret-B",
        "difference": MONEY,
    }
    plain_status, plain = _sent(body, "POST", path, caller)
    status, sent = _sent({**body, "exchange": planted}, "POST", path, caller)
    assert plain_status == row[caller]
    assert status == plain_status
    assert sent == plain, "a planted exchange field reached a service"
