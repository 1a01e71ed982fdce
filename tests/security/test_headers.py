"""Security headers on every response, a strict CSP on the console, CORS only
for configured origins, gift cards never for guests (issue 12)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2
from services.gateway.console import page_html
from tests.unit.gateway_fakes import FakeStub, bearer, fake_clients, make_app

PATHS = ["/healthz", "/v1/orders/O1", "/console", "/openapi.json", "/nowhere"]


@pytest.mark.parametrize("path", PATHS)
def test_every_response_carries_the_security_headers(path: str) -> None:
    client = TestClient(make_app(fake_clients()))
    answer = client.get(path)
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    # Plain http (a test client, a dev machine): no HSTS.
    assert "strict-transport-security" not in answer.headers


def test_hsts_behind_tls() -> None:
    client = TestClient(make_app(fake_clients()), base_url="https://gateway.test")
    answer = client.get("/healthz")
    assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_the_console_has_a_strict_csp_and_cannot_be_framed() -> None:
    client = TestClient(make_app(fake_clients()))
    answer = client.get("/console")
    assert answer.status_code == 200
    csp = dict(
        [*part.split(" ", 1), ""][:2]
        for part in answer.headers["content-security-policy"].split("; ")
    )
    assert csp["frame-ancestors"] == "'none'"
    assert csp["default-src"] == "'none'"
    assert "'unsafe-inline'" not in answer.headers["content-security-policy"]
    assert "'unsafe-eval'" not in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    # Only the gateway's own script and stylesheet: no inline script, style
    # or handler at all, so no hash or nonce is needed.
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    page = page_html()
    assert re.findall(r"<script(?![^>]*\ssrc=)[^>]*>", page) == []
    assert "<style" not in page and " style=" not in page
    assert re.findall(r"\son[a-z]+=", page) == []
    for asset, media_type in (("console.js", "text/javascript"), ("console.css", "text/css")):
        served = client.get(f"/console/{asset}")
        assert served.status_code == 200
        assert served.headers["content-type"].startswith(media_type)
        assert served.headers["x-content-type-options"] == "nosniff"
        assert f"/console/{asset}" in page


def test_cors_only_for_configured_origins() -> None:
    client = TestClient(make_app(fake_clients(), cors_allowed_origins=["https://shop.example"]))
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = client.options("/v1/orders", headers={"Origin": "https://shop.example", **preflight})
    assert allowed.headers["access-control-allow-origin"] == "https://shop.example"
    refused = client.options("/v1/orders", headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    plain = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers


def test_no_cors_at_all_by_default() -> None:
    client = TestClient(make_app(fake_clients()))
    answer = client.get("/healthz", headers={"Origin": "https://shop.example"})
    assert "access-control-allow-origin" not in answer.headers


def gift_cards() -> FakeStub:
    return FakeStub(
        GetGiftCard=lambda r: payments_pb2.GetGiftCardResponse(
            gift_card=payments_pb2.GiftCard(
                code=r.code, balance=common_pb2.Money(amount_minor=500, currency="USD")
            )
        )
    )


def test_a_guest_cannot_read_a_gift_card() -> None:
    payments = gift_cards()
    client = TestClient(make_app(fake_clients(payments=payments)))
    answer = client.get("/v1/gift-cards/GC-1234", headers=bearer("guest"))
    assert answer.status_code == 403
    assert payments.calls == []
    customer = client.get("/v1/gift-cards/GC-1234", headers=bearer("customer", customer_id="C1"))
    assert customer.status_code == 200, customer.text
