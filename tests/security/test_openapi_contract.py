"""OpenAPI = API.md, both ways (issue 12): every `METHOD /path` API.md names
is served and published in /openapi.json, and every published operation is
in API.md or listed in docs/api.md's "Served beyond the contract" with its
reason. Validation errors are 400 problem+json (API.md Conventions), never
FastAPI's default 422, and the published document says so."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.security.world import CALLERS, World

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT.parent / "shared" / "API.md"
if not CONTRACT.exists():  # a checkout carrying its own copy
    CONTRACT = ROOT / "docs" / "API.md"
STATUS = ROOT / "docs" / "api.md"

METHODS = "GET|POST|PUT|PATCH|DELETE"
_OPERATION = re.compile(rf"`({METHODS}) (/[^`\s?]*)[^`]*`")
# "`PUT /v1/products/{sku}/prices/{channel}` `{price: Money}` / `DELETE`"
_SAME_PATH = re.compile(rf"`({METHODS}) (/[^`\s?]*)[^`]*`(?:[^`\n]*`[^`\n]*`)?\s*/\s*`({METHODS})`")


def normal(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", path.rstrip("/") or "/")


def named_in(text: str) -> set[tuple[str, str]]:
    found = {(m.group(1), normal(m.group(2))) for m in _OPERATION.finditer(text)}
    found |= {(m.group(3), normal(m.group(2))) for m in _SAME_PATH.finditer(text)}
    return found


def contract() -> set[tuple[str, str]]:
    return named_in(CONTRACT.read_text())


def extras() -> set[tuple[str, str]]:
    """docs/api.md's "Served beyond the contract" section, one `METHOD /path` per item."""
    text = STATUS.read_text()
    section = text.split("## Served beyond the contract", 1)
    assert len(section) == 2, "docs/api.md lists no 'Served beyond the contract' section"
    body = section[1].split("\n## ", 1)[0]
    return named_in(body)


WORLD = World()
SCHEMA: dict[str, Any] = TestClient(WORLD.app).get("/openapi.json").json()


def published() -> set[tuple[str, str]]:
    return {
        (method.upper(), normal(path))
        for path, operations in SCHEMA["paths"].items()
        for method in operations
        if method.upper() in METHODS.split("|")
    }


# Served outside the OpenAPI document on purpose (the docs pages themselves,
# the console page, the health probe, the SSE stream's own format).
UNPUBLISHED = {
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/docs/oauth2-redirect"),
    ("GET", "/redoc"),
    # The console page's script and stylesheet, and its development-only
    # sign-in (routes/console.py): part of GET /console, not API.
    ("GET", "/console/console.js"),
    ("GET", "/console/console.css"),
    ("GET", "/console/sign-in"),
    ("POST", "/console/sign-in"),
}


def served() -> set[tuple[str, str]]:
    from tests.security.routes import operations

    return {(m, normal(p)) for m, p in operations(WORLD.app)}


def test_the_contract_is_read() -> None:
    names = contract()
    # A parse that finds little would pass anything.
    assert len(names) > 55, sorted(names)
    assert ("DELETE", "/v1/products/{}/prices/{}") in names
    assert ("POST", "/v1/fulfillments/{}/pickup-code") in names


# API.md routes not served yet, each named so that serving it fails this
# list (remove it then). Owners: issue 10/11 (line cancels, new tender).
NOT_YET_SERVED: set[tuple[str, str]] = set()


def test_every_route_in_api_md_is_served_and_published() -> None:
    missing = contract() - served()
    assert missing == NOT_YET_SERVED & contract(), f"in API.md, not served: {sorted(missing)}"
    unpublished = (
        contract() - published() - NOT_YET_SERVED - {("GET", "/console"), ("GET", "/healthz")}
    )
    assert unpublished == set(), f"served, missing from /openapi.json: {sorted(unpublished)}"


def test_every_served_route_is_in_api_md_or_a_listed_extra() -> None:
    beyond = served() - contract() - UNPUBLISHED
    unlisted = beyond - extras()
    assert unlisted == set(), f"served, in neither API.md nor docs/api.md: {sorted(unlisted)}"
    stale = extras() - served()
    assert stale == set(), f"docs/api.md lists extras nobody serves: {sorted(stale)}"
    # Extras stay few: each one is a proposal for API.md.
    assert len(extras()) <= 8, sorted(extras())


def test_no_operation_documents_fastapis_422_for_validation() -> None:
    """422 is a business rule in API.md; a malformed request is a 400."""
    wrong = []
    for path, operations in SCHEMA["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            schema = str(responses.get("422", {}))
            if "HTTPValidationError" in schema:
                wrong.append(f"{method.upper()} {path}")
            validated = operation.get("requestBody") or [
                p for p in operation.get("parameters", []) if p.get("in") != "header"
            ]
            if validated and "400" not in responses:
                wrong.append(f"{method.upper()} {path}: no 400")
    assert wrong == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/v1/locations", {"location_id": "S9", "kind": "castle"}),
        ("POST", "/v1/orders", {"lines": "many"}),
        ("POST", "/v1/inventory/adjustments", {"delta": "lots"}),
        ("GET", "/v1/products?limit=100000", None),
        ("POST", "/v1/gift-cards", {"initial_balance": {"amount_minor": 1.5}}),
        ("POST", "/v1/quotes", "not json at all"),
    ],
)
def test_a_malformed_request_is_a_400_problem_naming_the_field(
    method: str, path: str, body: Any
) -> None:
    client = TestClient(WORLD.reset().app)
    headers = {**CALLERS["admin"], "Idempotency-Key": uuid.uuid4().hex}
    if isinstance(body, str):
        answer = client.request(
            method, path, content=body, headers={**headers, "content-type": "application/json"}
        )
    else:
        answer = client.request(method, path, json=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 400 and problem["title"] and problem["type"]
    if not isinstance(body, str):  # not JSON at all: no field to name
        assert problem["errors"]
        assert all({"field", "message"} <= set(e) for e in problem["errors"])
    assert WORLD.writes() == []
