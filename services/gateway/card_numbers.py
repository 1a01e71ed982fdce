"""Card numbers stop at the edge: any request field that looks like one is a
422 naming the field. The value is never logged, stored or echoed."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.pan import looks_like_card_number
from services.gateway.problems import Problem

MAX_BODY_BYTES = 1_000_000


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


async def read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole request body, and the messages to replay it downstream."""
    chunks: list[bytes] = []
    messages: list[Message] = []
    more = True
    while more:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks), messages


def replaying(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class CardNumberGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        fields = [name for name, value in parse_qsl(query) if looks_like_card_number(value)]
        if scope["method"] in ("POST", "PUT", "PATCH"):
            body, messages = await read_body(receive)
            receive = replaying(messages, receive)
            if body and len(body) <= MAX_BODY_BYTES:
                try:
                    fields += card_number_fields(json.loads(body))
                except ValueError:
                    pass  # not JSON: the route answers 400
        if fields:
            await card_number_problem(fields).response()(scope, receive, send)
            return
        await self.app(scope, receive, send)
