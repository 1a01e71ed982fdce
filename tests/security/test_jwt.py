"""JWT negatives and production's refusal to run on the development secret
(issue 12): every bad token is a 401 (or 403) and reaches no service."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from services.gateway.app import create_app
from services.gateway.auth import InvalidToken, TokenVerifier
from services.gateway.settings import DEV_JWT_SECRET, GatewaySettings
from tests.unit.gateway_fakes import (
    MemoryIdempotencyStore,
    fake_clients,
    orders_stub,
    payments_stub,
)

ISSUER = "https://id.example.test/"
AUDIENCE = "omni-gateway"
KID = "key-1"

_private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PRIVATE_PEM = _private.private_bytes(
    serialization.Encoding.PEM,
    serialization.PrivateFormat.PKCS8,
    serialization.NoEncryption(),
).decode()
PUBLIC_PEM = (
    _private.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)
_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "sub": "C1-sub",
        "role": "customer",
        "customer_id": "C1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 3600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(payload: dict[str, Any], *, kid: str = KID, key: Any = PRIVATE_PEM) -> str:
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(payload: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64(json.dumps(payload).encode())}."


def hs256_with_public_key(payload: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    body = _b64(json.dumps(payload).encode())
    import hashlib
    import hmac

    mac = hmac.new(PUBLIC_PEM.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(mac)}"


def tampered(token: str) -> str:
    header, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=="))
    payload["role"] = "admin"
    return f"{header}.{_b64(json.dumps(payload).encode())}.{signature}"


def prod_settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "omni_env": "production",
        "jwt_public_key": PUBLIC_PEM,
        "jwt_issuer": ISSUER,
        "jwt_audience": AUDIENCE,
        "database_url": "",
    }
    values.update(overrides)
    return GatewaySettings(**values)


def app_with(settings: GatewaySettings) -> tuple[Any, Any, Any]:
    orders, payments = orders_stub(), payments_stub()
    app = create_app(
        settings,
        clients=fake_clients(orders=orders, payments=payments),
        idempotency=MemoryIdempotencyStore(),
    )
    return app, orders, payments


# ------------------------------------------------------------ production refuses to start


@pytest.mark.parametrize(
    "missing",
    [
        {"jwt_public_key": "", "jwt_jwks_url": ""},
        {"jwt_issuer": ""},
        {"jwt_audience": ""},
    ],
    ids=["no key", "no issuer", "no audience"],
)
def test_production_refuses_to_start_without_key_issuer_and_audience(
    missing: dict[str, str],
) -> None:
    with pytest.raises(RuntimeError, match="production"):
        app_with(prod_settings(**missing))


def test_production_is_the_default_and_the_dev_secret_is_refused() -> None:
    settings = GatewaySettings(database_url="", jwt_secret=DEV_JWT_SECRET)
    assert settings.omni_env == "production"
    with pytest.raises(RuntimeError, match="JWT_JWKS_URL or JWT_PUBLIC_KEY"):
        app_with(settings)


def test_development_may_use_the_hs256_secret() -> None:
    app, _, _ = app_with(GatewaySettings(omni_env="development", database_url=""))
    token = jwt.encode(claims(iss=None, aud=None), DEV_JWT_SECRET, algorithm="HS256")
    answer = TestClient(app).get("/v1/orders/O1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text


def test_production_accepts_a_good_token() -> None:
    app, orders, _ = app_with(prod_settings())
    answer = TestClient(app).get(
        "/v1/orders/O1", headers={"Authorization": f"Bearer {signed(claims())}"}
    )
    assert answer.status_code == 200, answer.text
    assert orders.called("GetOrder")


def test_the_dev_secret_is_not_accepted_in_production() -> None:
    app, orders, _ = app_with(prod_settings())
    token = jwt.encode(claims(), DEV_JWT_SECRET, algorithm="HS256")
    answer = TestClient(app).get("/v1/orders/O1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert orders.calls == []


# ------------------------------------------------------------ every bad token

NOW = int(time.time())
BAD_TOKENS: dict[str, str | None] = {
    "no token": None,
    "malformed": "not.a.jwt",
    "alg none": unsigned(claims(role="admin")),
    "HS256 signed with the public key": hs256_with_public_key(claims(role="admin")),
    "wrong issuer": signed(claims(iss="https://evil.example/")),
    "wrong audience": signed(claims(aud="someone-else")),
    "no audience": signed(claims(aud=None)),
    "expired": signed(claims(iat=NOW - 7200, exp=NOW - 3600)),
    "not yet valid": signed(claims(nbf=NOW + 3600, exp=NOW + 7200)),
    "too long-lived": signed(claims(exp=NOW + 3 * 24 * 3600)),
    "no iat": signed(claims(iat=None)),
    "another key": signed(claims(), key=_other),
    "tampered signature": tampered(signed(claims())),
    "unknown role": signed(claims(role="superuser")),
    "unknown channel": signed(claims(channel="tv")),
}


@pytest.mark.parametrize("name", list(BAD_TOKENS))
def test_a_bad_token_is_401_and_reaches_no_service(name: str) -> None:
    app, orders, payments = app_with(prod_settings())
    token = BAD_TOKENS[name]
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    client = TestClient(app)
    for method, path in (("get", "/v1/orders/O1"), ("post", "/v1/orders/O1/cancel")):
        answer = client.request(method.upper(), path, headers=headers, json={})
        assert answer.status_code == 401, (name, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
    assert orders.calls == [] and payments.calls == []


def test_the_maximum_lifetime_is_configurable() -> None:
    app, _, _ = app_with(prod_settings(jwt_max_lifetime_seconds=600))
    token = signed(claims(exp=NOW + 3600))
    answer = TestClient(app).get("/v1/orders/O1", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "token lives too long"


# ------------------------------------------------------------ JWKS


class _Jwks:
    """A JWKS endpoint on a thread; `gate` holds its answers back."""

    def __init__(self) -> None:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_private.public_key()))
        jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
        self.document = json.dumps({"keys": [jwk]}).encode()
        self.gate = threading.Event()
        self.gate.set()
        self.requests = 0
        self.on_request: Any = None
        self.released_in_time = True
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests += 1
                if outer.on_request is not None:
                    outer.on_request()
                # False when nothing released the gate in time: the loop was blocked.
                outer.released_in_time = outer.gate.wait(timeout=3)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(outer.document)

            def log_message(self, *_args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def jwks() -> Iterator[_Jwks]:
    server = _Jwks()
    try:
        yield server
    finally:
        server.close()


def test_jwks_tokens_verify_and_an_unknown_kid_is_401(jwks: _Jwks) -> None:
    app, orders, _ = app_with(prod_settings(jwt_public_key="", jwt_jwks_url=jwks.url))
    client = TestClient(app)
    good = client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {signed(claims())}"})
    assert good.status_code == 200, good.text
    calls = len(orders.calls)
    unknown = signed(claims(), kid="who-knows", key=_other)
    answer = client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {unknown}"})
    assert answer.status_code == 401
    assert len(orders.calls) == calls


async def test_fetching_the_jwks_does_not_block_the_event_loop(jwks: _Jwks) -> None:
    verifier = TokenVerifier(prod_settings(jwt_public_key="", jwt_jwks_url=jwks.url))
    jwks.gate.clear()  # the endpoint answers only once the loop has run
    loop = asyncio.get_running_loop()
    asked = asyncio.Event()
    jwks.on_request = lambda: loop.call_soon_threadsafe(asked.set)
    released: list[bool] = []

    async def release() -> None:
        # Runs only if the loop is free while the key is being fetched.
        await asked.wait()
        released.append(True)
        jwks.gate.set()

    releaser = asyncio.create_task(release())
    principal = await asyncio.wait_for(verifier.authenticate(signed(claims())), timeout=8)
    await releaser
    assert principal.sub == "C1-sub" and released == [True]
    assert jwks.released_in_time


# ------------------------------------------------------------ verified tokens kept


class _Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_verified_token_is_refused_once_it_expires() -> None:
    clock = _Clock()
    verifier = TokenVerifier(prod_settings(jwt_leeway_seconds=5), clock=clock)
    token = signed(claims(exp=int(clock.now) + 60))
    assert verifier.verify(token).sub == "C1-sub"
    assert verifier.verify(token).sub == "C1-sub"  # served from the verified ones
    clock.now += 66
    with pytest.raises(InvalidToken, match="token expired"):
        verifier.verify(token)


def test_a_tampered_copy_of_a_verified_token_is_refused() -> None:
    app, orders, _ = app_with(prod_settings())
    client = TestClient(app)
    good = signed(claims())
    assert client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {good}"}).is_success
    calls = len(orders.calls)
    forged = tampered(good)
    answer = client.get("/v1/orders/O1", headers={"Authorization": f"Bearer {forged}"})
    assert answer.status_code == 401
    assert answer.json()["detail"] == "token invalid"
    assert len(orders.calls) == calls


def test_refused_tokens_are_not_kept() -> None:
    verifier = TokenVerifier(prod_settings())
    for n in range(50):
        with pytest.raises(InvalidToken):
            verifier.verify(signed(claims(sub=f"forged-{n}"), key=_other))
    assert len(verifier._verified) == 0


async def test_a_withdrawn_jwks_key_stops_tokens_verified_with_it(jwks: _Jwks) -> None:
    verifier = TokenVerifier(
        prod_settings(jwt_public_key="", jwt_jwks_url=jwks.url, jwt_jwks_refresh_seconds=0.0)
    )
    token = signed(claims())
    assert (await verifier.authenticate(token)).sub == "C1-sub"
    # The identity provider replaces key-1 with another key of the same kid.
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_other.public_key()))
    jwk.update({"kid": KID, "use": "sig", "alg": "RS256"})
    jwks.document = json.dumps({"keys": [jwk]}).encode()
    with pytest.raises(InvalidToken, match="token invalid"):
        await verifier.authenticate(token)
    fresh = signed(claims(), key=_other)
    assert (await verifier.authenticate(fresh)).sub == "C1-sub"


async def test_requests_racing_with_one_new_token_are_all_verified_and_kept_once(
    jwks: _Jwks,
) -> None:
    # Twenty requests of one caller arrive together, the keys not yet fetched:
    # one JWKS fetch, every one verified, the token kept once.
    verifier = TokenVerifier(prod_settings(jwt_public_key="", jwt_jwks_url=jwks.url))
    token = signed(claims())
    callers = await asyncio.gather(*(verifier.authenticate(token) for _ in range(20)))
    assert {caller.sub for caller in callers} == {"C1-sub"}
    assert jwks.requests == 1
    assert len(verifier._verified) == 1
