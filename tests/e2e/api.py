"""A channel's view of the gateway: tokens and calls, as a frontend makes them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from stack.harness import token

__all__ = ["Caller", "money", "token", "unique"]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


@dataclass
class Caller:
    """One authenticated caller (a channel app, an associate, an admin)."""

    base_url: str
    bearer: str

    def _headers(self, idempotency_key: str | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.bearer}"}
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(
            self.base_url + path, params=params, headers=self._headers(None), timeout=60
        )

    def post(self, path: str, body: Any, idempotency_key: str | None = None) -> httpx.Response:
        return httpx.post(
            self.base_url + path,
            json=body,
            headers=self._headers(idempotency_key or str(uuid.uuid4())),
            timeout=60,
        )

    def put(self, path: str, body: Any) -> httpx.Response:
        return httpx.put(self.base_url + path, json=body, headers=self._headers(None), timeout=60)


def money(cents: int, currency: str = "USD") -> dict[str, Any]:
    return {"amount_minor": cents, "currency": currency}
