"""429 rate limiting: one token bucket per caller, in this gateway process.

A caller is the verified token's `sub`, or the client address for requests
without a valid token (uvicorn's proxy headers give the real address behind
a trusted proxy, FORWARDED_ALLOW_IPS). Each bucket holds up to `burst`
requests and refills at `rate_per_second`; an empty bucket answers 429 with
`Retry-After`. Buckets live in memory, so the limit holds per gateway
replica (production also limits per client at the ingress). /healthz is never
limited: probes must see the gateway even when a caller floods it (/metrics is
on its own port, METRICS_PORT).
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.auth import authentication_of
from services.gateway.problems import Problem

EXEMPT_PATHS = frozenset({"/healthz"})
# Enough callers for any single replica; the least recently seen go first.
# A bucket idle long enough to be dropped would have refilled anyway.
MAX_TRACKED_CALLERS = 100_000


@dataclass
class _Bucket:
    tokens: float
    updated_at: float


class RateLimiter:
    """Token buckets by caller key. `clock` returns seconds (monotonic)."""

    def __init__(
        self,
        rate_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = MAX_TRACKED_CALLERS,
    ) -> None:
        self.rate_per_second = rate_per_second
        # A burst below one request would refuse everything.
        self.burst = max(burst, 1)
        self._clock = clock
        self._max_callers = max_callers
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self.rate_per_second > 0

    def take(self, caller: str) -> float:
        """Spends one request of `caller`'s bucket: 0 when allowed, otherwise
        the seconds until the next request would be."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.pop(caller, None)
        if bucket is None:
            tokens = float(self.burst)
        else:
            elapsed = max(now - bucket.updated_at, 0.0)
            tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate_per_second)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate_per_second
        self._buckets[caller] = _Bucket(tokens, now)
        if len(self._buckets) > self._max_callers:
            self._buckets.popitem(last=False)
        return wait


def caller_key(scope: Scope) -> str:
    """`sub:<sub>` for a verified token, else `ip:<client address>`: an invalid
    token cannot pick a fresh bucket for each request."""
    key = authentication_of(scope).caller_key
    if key is not None:
        return key
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


def too_many_requests(wait_seconds: float) -> Problem:
    retry_after = max(1, math.ceil(wait_seconds))
    return Problem(
        429,
        f"too many requests; retry after {retry_after} s",
        slug="rate-limited",
        reason="RATE_LIMITED",
        headers={"Retry-After": str(retry_after)},
    )


class RateLimitMiddleware:
    """Reads the limiter from `app.state.rate_limiter` (tests swap in one with a clock)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        limiter: RateLimiter = scope["app"].state.rate_limiter
        if limiter.enabled:
            wait = limiter.take(caller_key(scope))
            if wait > 0:
                await too_many_requests(wait).response()(scope, receive, send)
                return
        await self.app(scope, receive, send)
