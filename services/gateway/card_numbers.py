"""Card numbers stop at the edge: any request field that looks like one is a
422 naming the field. The value is never logged, stored or echoed."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.pan import looks_like_card_number
from services.gateway.problems import Problem

# API.md: request bodies over 1 MiB are a 413, refused before they are buffered.
MAX_BODY_BYTES = 1024 * 1024
# Where the guard leaves the (checked) body for the idempotency middleware.
_BODY_STATE_KEY = "request_body"


class BodyTooLarge(Exception):
    """The request body is over MAX_BODY_BYTES."""


def card_number_fields(value: Any, path: str = "") -> list[str]:
    """Paths (`payment.tenders[0].token`) of every value that looks like a card
    number. `value` is any parsed JSON (an object, a list, a scalar)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            found += card_number_fields(item, f"{path}.{key}" if path else str(key))
        # A card number used as a key is as bad as one used as a value.
        found += [path or "body" for key in value if looks_like_card_number(str(key))]
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += card_number_fields(item, f"{path}[{index}]")
    elif isinstance(value, str | int) and not isinstance(value, bool):
        if looks_like_card_number(str(value)):
            found.append(path or "body")
    return found


def card_number_problem(fields: list[str]) -> Problem:
    return Problem(
        422,
        "card numbers are not accepted; send the payment provider's token instead",
        slug="card-number-rejected",
        reason="CARD_NUMBER_REJECTED",
        errors=[(field, "looks like a card number; send a provider token") for field in fields],
    )


async def read_body(receive: Receive, limit: int | None = None) -> tuple[bytes, list[Message]]:
    """The whole request body, and the messages to replay it downstream.
    BodyTooLarge as soon as more than `limit` bytes have arrived."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    size = 0
    more = True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks), messages


def body_too_large() -> Problem:
    return Problem(
        413,
        f"request bodies are limited to {MAX_BODY_BYTES} bytes",
        slug="payload-too-large",
        reason="PAYLOAD_TOO_LARGE",
    )


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def checked_body(scope: Scope, receive: Receive) -> tuple[bytes, Receive]:
    """The body the guard already read (and the receive that replays it),
    or reads it now."""
    state = scope.setdefault("state", {})
    if _BODY_STATE_KEY in state:
        body: bytes = state[_BODY_STATE_KEY]
    else:
        body, messages = await read_body(receive, MAX_BODY_BYTES)
        state[_BODY_STATE_KEY] = body
        receive = replaying(messages, receive)
        return body, receive
    return body, _replaying_body(body, receive)


def _replaying_body(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class CardNumberGuard:
    """413 for a body over MAX_BODY_BYTES (by its Content-Length before
    reading anything, else as soon as the limit is passed), then 422 for a card
    number anywhere in the query or the body. The body is read once: the
    idempotency middleware and the route get it replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        fields = [name for name, value in parse_qsl(query) if looks_like_card_number(value)]
        if scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            length = declared_length(scope)
            if length is not None and length > MAX_BODY_BYTES:
                await body_too_large().response()(scope, receive, send)
                return
            try:
                body, receive = await checked_body(scope, receive)
            except BodyTooLarge:
                await body_too_large().response()(scope, receive, send)
                return
            if body:
                try:
                    fields += card_number_fields(json.loads(body))
                except ValueError:
                    pass  # not JSON: the route answers 400
        if fields:
            await card_number_problem(fields).response()(scope, receive, send)
            return
        await self.app(scope, receive, send)
