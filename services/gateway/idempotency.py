"""Idempotency-Key on mutating POSTs, scoped to the token's `sub`.

The first request with a key claims it (its row stays uncommitted while the
work runs); a concurrent request with the same key waits on that claim and
then replays the stored response. Same key, different body (or path): 409.
5xx answers are not kept, so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from contextlib import AbstractAsyncContextManager
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
# What the key store raises when it cannot take a claim now: its pool is
# exhausted (TimeoutError) or its database is unreachable.
_STORE_UNAVAILABLE = (sqlalchemy.exc.TimeoutError, sqlalchemy.exc.DBAPIError, OSError)
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = b"idempotent-replayed"


@dataclass(frozen=True)
class StoredResponse:
    status: int
    content_type: str
    body: bytes


@dataclass(frozen=True)
class PreviousUse:
    fingerprint: str
    response: StoredResponse


@dataclass
class Claim:
    """What `IdempotencyStore.claim` yields: either an earlier use of the key,
    or the right to run the request and `save` its response."""

    previous: PreviousUse | None
    saved: StoredResponse | None = field(default=None)

    def save(self, response: StoredResponse) -> None:
        self.saved = response


class IdempotencyStore(Protocol):
    def claim(self, owner: str, key: str, fingerprint: str) -> AbstractAsyncContextManager[Claim]:
        """Yields the earlier use, or holds the key while the caller works;
        keeps the response saved on the claim, releases the key otherwise."""
        ...

    async def purge_older_than(self, hours: float) -> int: ...


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
        for name, value in (self.start or {}).get("headers", []):
            if name.lower() == b"content-type":
                content_type = value.decode("latin-1")
        return StoredResponse(self.status, content_type, b"".join(self.chunks))

    async def replay(self, send: Send) -> None:
        assert self.start is not None
        await send(self.start)
        await send({"type": "http.response.body", "body": b"".join(self.chunks)})


async def send_stored(response: StoredResponse, send: Send) -> None:
    headers = [(REPLAYED_HEADER, b"true")]
    if response.content_type:
        headers.append((b"content-type", response.content_type.encode("latin-1")))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, HEADER)
        if scope["type"] != "http" or scope["method"] != "POST" or key is None:
            await self.app(scope, receive, send)
            return
        sub = _subject(scope)
        if sub is None:  # the route answers 401
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
        recorder = _Recorder()
        try:
            async with store.claim(sub, key, print_) as claim:
                if claim.previous is None:
                    await self.app(scope, receive, recorder)
                    if recorder.status < 500:
                        claim.save(recorder.stored())
        except _STORE_UNAVAILABLE:
            # Every claim holds a connection while its request runs: a burst
            # beyond the pool (or the database restarting) is "try again",
            # never a 500. Nothing was sent yet; a retry with the key is safe
            # (downstream calls carry the same derived key).
            logger.warning("idempotency store unavailable for POST %s", scope["path"])
            await Problem(
                503,
                "too many requests in flight, retry later",
                slug="dependency-unavailable",
                headers={"Retry-After": RETRY_AFTER_SECONDS},
            ).response()(scope, receive, send)
            return
        if claim.previous is None:
            await recorder.replay(send)
        elif claim.previous.fingerprint != print_:
            problem = Problem(
                409,
                "this Idempotency-Key was already used with a different request",
                slug="idempotency-key-reused",
                reason="IDEMPOTENCY_KEY_REUSED",
            )
            await problem.response()(scope, receive, send)
        else:
            await send_stored(claim.previous.response, send)


def _header(scope: Scope, name: str) -> str | None:
    wanted = name.encode("latin-1")
    for header, value in scope.get("headers", []):
        if header.lower() == wanted:
            return str(value.decode("latin-1")).strip()
    return None


def _subject(scope: Scope) -> str | None:
    principal = authentication_of(scope).principal
    return None if principal is None else principal.sub
