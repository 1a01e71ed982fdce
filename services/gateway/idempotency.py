"""Idempotency-Key on mutating POSTs, scoped to the token's `sub`.

The first request with a key claims it in one short call to the key store
(no connection or transaction is held while it runs) and finishes it in
another with its answer; a concurrent request with the same key polls the
store until the first finishes, then replays its answer. Same key, different
body (or path): 409. Only final answers are kept — 2xx and definitive 4xx;
never a 5xx, a 429, or anything carrying Retry-After (a "try again") — and a
replay carries the first answer's headers. POST /v1/orders and /v1/returns
require a key (400 without one). A key store that cannot answer is, before
anything downstream runs, a 429 with Retry-After when its connection pool is
exhausted (load: the request is shed) and a 503 with Retry-After when its
database is unreachable (an outage).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Protocol

import sqlalchemy.exc
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.auth import authentication_of
from services.gateway.card_numbers import checked_body
from services.gateway.problems import RETRY_AFTER_SECONDS, Problem

HEADER = "idempotency-key"
logger = logging.getLogger(__name__)
# What the key store raises when it cannot answer now: its pool is exhausted
# (TimeoutError) or its database is unreachable.
_STORE_UNAVAILABLE = (sqlalchemy.exc.TimeoutError, sqlalchemy.exc.DBAPIError, OSError)
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = b"idempotent-replayed"
# Where a client's retry could buy twice: a key is required (API.md).
KEY_REQUIRED_PATHS = frozenset({"/v1/orders", "/v1/returns"})
# Per-request headers a replay gets afresh, never from the first answer.
_NOT_REPLAYED = frozenset({b"content-length", b"traceparent", b"date", b"server"})
# How often a duplicate asks whether the first request has finished.
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: bytes
    # (name, value) of the first answer's headers, as sent (latin-1).
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class PreviousUse:
    """An earlier use of a key: its answer, or None while it is still running."""

    fingerprint: str
    response: StoredResponse | None


class IdempotencyStore(Protocol):
    async def begin(
        self, owner: str, key: str, fingerprint: str, customer_id: str
    ) -> PreviousUse | None:
        """None: the caller claimed the key and must `finish` or `release`
        it. Otherwise the earlier use (running, or with its answer). A claim
        older than the store's lease is taken over (its gateway died)."""
        ...

    async def finish(self, owner: str, key: str, response: StoredResponse) -> None: ...

    async def release(self, owner: str, key: str) -> None: ...

    async def purge_older_than(self, hours: float) -> int: ...

    async def erase_customer(self, customer_id: str) -> int:
        """Forgets every kept answer of (or naming) the customer."""
        ...


def is_final(status: int, headers: list[tuple[str, str]]) -> bool:
    """2xx, or a 4xx that says the request itself was wrong: never a 5xx, a
    429, a 408, or any answer telling the client to try again."""
    if any(name.lower() == "retry-after" for name, _ in headers):
        return False
    return 200 <= status < 300 or (400 <= status < 500 and status not in (408, 425, 429))


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Same request → same hash, whatever the JSON's key order or spacing."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def downstream_key(request: Request, sub: str) -> str:
    """The idempotency key for gRPC calls: from (sub, Idempotency-Key), or fresh."""
    key = request.headers.get(HEADER)
    if not key:
        return str(uuid.uuid4())
    return "gw-" + hashlib.sha256(f"{sub}\x00{key}".encode()).hexdigest()[:48]


def action_key(request: Request, sub: str) -> str:
    """The key an action (pick, handover, cancel, receive...) forwards so the
    journey sees a retry as the same update: from (sub, Idempotency-Key), or
    "" without the header (nothing derived: a repeat is a new action)."""
    return downstream_key(request, sub) if request.headers.get(HEADER) else ""


class _Recorder:
    """Holds the downstream response until it is stored, then sends it."""

    def __init__(self) -> None:
        self.start: Message | None = None
        self.chunks: list[bytes] = []

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.start = message
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))

    @property
    def status(self) -> int:
        return int(self.start["status"]) if self.start else 500

    def stored(self) -> StoredResponse:
        content_type = ""
        headers: list[tuple[str, str]] = []
        for name, value in (self.start or {}).get("headers", []):
            if name.lower() == b"content-type":
                content_type = value.decode("latin-1")
            elif name.lower() not in _NOT_REPLAYED:
                headers.append((name.decode("latin-1"), value.decode("latin-1")))
        return StoredResponse(self.status, content_type, b"".join(self.chunks), headers)

    async def replay(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.chunks)})


async def send_stored(response: StoredResponse, send: Send) -> None:
    headers = [(REPLAYED_HEADER, b"true")]
    if response.content_type:
        headers.append((b"content-type", response.content_type.encode("latin-1")))
    headers += [(n.encode("latin-1"), v.encode("latin-1")) for n, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


def _unavailable() -> Problem:
    return Problem(
        503,
        "the idempotency key store is unavailable, retry later",
        slug="dependency-unavailable",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def _store_busy() -> Problem:
    # Every connection is taken by other requests: load, not an outage.
    return Problem(
        429,
        "the gateway is at capacity, retry later",
        slug="overloaded",
        reason="OVERLOADED",
        headers={"Retry-After": RETRY_AFTER_SECONDS},
    )


def _reused() -> Problem:
    return Problem(
        409,
        "this Idempotency-Key was already used with a different request",
        slug="idempotency-key-reused",
        reason="IDEMPOTENCY_KEY_REUSED",
    )


def _missing_key() -> Problem:
    return Problem(
        400,
        "an Idempotency-Key header is required",
        slug="validation-error",
        errors=[("Idempotency-Key", "is required")],
    )


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        key = _header(scope, HEADER)
        principal = authentication_of(scope).principal
        if principal is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        if key is None:
            if scope["path"] in KEY_REQUIRED_PATHS:
                await _missing_key().response()(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if not key or len(key) > MAX_KEY_LENGTH:
            problem = Problem(
                400,
                f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} characters",
                slug="validation-error",
                errors=[("Idempotency-Key", f"must be 1-{MAX_KEY_LENGTH} characters")],
            )
            await problem.response()(scope, receive, send)
            return
        body, receive = await checked_body(scope, receive)
        store: IdempotencyStore = scope["app"].state.idempotency
        print_ = fingerprint(scope["method"], scope["path"], body)
        owner = principal.sub
        wait = float(scope["app"].state.settings.journey_timeout_seconds) + 5.0
        deadline = time.monotonic() + wait
        while True:
            try:
                previous = await store.begin(owner, key, print_, principal.customer_id)
            except _STORE_UNAVAILABLE as error:
                if isinstance(error, sqlalchemy.exc.TimeoutError):
                    logger.warning("idempotency store pool exhausted for POST %s", scope["path"])
                    await _store_busy().response()(scope, receive, send)
                    return
                logger.warning("idempotency store unavailable for POST %s", scope["path"])
                await _unavailable().response()(scope, receive, send)
                return
            if previous is None:
                break
            if previous.fingerprint != print_:
                await _reused().response()(scope, receive, send)
                return
            if previous.response is not None:
                await send_stored(previous.response, send)
                return
            if time.monotonic() > deadline:
                # Still running: "try again" (with Retry-After, so never kept).
                await Problem(
                    409,
                    "a request with this Idempotency-Key is still running; retry later",
                    slug="idempotency-key-in-use",
                    reason="IDEMPOTENCY_KEY_IN_USE",
                    headers={"Retry-After": RETRY_AFTER_SECONDS},
                ).response()(scope, receive, send)
                return
            await asyncio.sleep(POLL_SECONDS)
        recorder = _Recorder()
        try:
            await self.app(scope, receive, recorder)
        except BaseException:
            await _forget(store, owner, key)
            raise
        stored = recorder.stored()
        try:
            if is_final(stored.status, stored.headers):
                await store.finish(owner, key, stored)
            else:
                await store.release(owner, key)
        except _STORE_UNAVAILABLE:
            # The answer stands; the claim expires with the store's lease.
            logger.warning("could not record the answer to POST %s", scope["path"])
        await recorder.replay(send)


async def _forget(store: IdempotencyStore, owner: str, key: str) -> None:
    try:
        await store.release(owner, key)
    except _STORE_UNAVAILABLE:
        logger.warning("could not release an idempotency key")


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for header, value in scope.get("headers", []):
        if header.lower() == wanted:
            return str(value.decode("latin-1")).strip()
    return None
