"""Admission control: a bounded number of requests in flight per gateway
replica; past it, a short bounded queue; past that, 429 with Retry-After.

A flash sale offers more orders than the journeys can place within their
deadline. Without a bound every one of them is started, they queue behind
each other in the services and Temporal, and the last ones run out of time
as 503s (bench flash-sale: 153 of 300). With a bound, the ones the stack can
take now are taken, a few wait briefly for a slot (first come, first served),
and the rest are told at once to come back (429 + Retry-After; API.md: 429 is
"rate limited", 503 is "dependency down"). A refused request never reached
the idempotency store or a service, so its key is free for the retry.

Two gates: `placement` for the routes that start a journey (each holds a
workflow, a reservation and an authorization while it runs), `general` for
everything else. /healthz is never gated (probes must see an overloaded
gateway as alive) and neither is the availability stream (open for minutes;
it has its own per-caller cap, SSE_STREAMS_PER_CALLER).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

from prometheus_client import Counter, Gauge
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.problems import Problem

UNGATED_PATHS = frozenset({"/healthz", "/v1/availability/stream"})
# Routes whose request starts a journey (POST only).
PLACEMENT_PATHS = frozenset({"/v1/orders", "/v1/returns"})

SHED = Counter("omni_gateway_shed_total", "Requests answered 429 by admission control.", ["gate"])
IN_FLIGHT = Gauge("omni_gateway_in_flight", "Requests admitted and not yet answered.", ["gate"])


class AdmissionGate:
    """At most `limit` holders; up to `max_queued` more wait at most
    `queue_seconds` each for a slot, handed over in arrival order."""

    def __init__(self, name: str, *, limit: int, max_queued: int, queue_seconds: float) -> None:
        self.name = name
        self.limit = max(limit, 1)
        self.max_queued = max(max_queued, 0)
        self.queue_seconds = max(queue_seconds, 0.0)
        self.in_flight = 0
        self.refused = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._gauge = IN_FLIGHT.labels(name)

    @property
    def queued(self) -> int:
        return len(self._waiters)

    async def enter(self) -> bool:
        """True: the caller holds a slot and must `leave()`. False: refused."""
        if self.in_flight < self.limit and not self._waiters:
            self._take()
            return True
        if len(self._waiters) >= self.max_queued or self.queue_seconds <= 0:
            return self._refuse()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            # asyncio.wait does not cancel `waiter`: afterwards it is either
            # resolved (the slot was handed to us) or still pending.
            await asyncio.wait((waiter,), timeout=self.queue_seconds)
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.leave()  # handed over as we were cancelled: pass it on
            else:
                self._forget(waiter)
            raise
        if waiter.done():
            return True
        self._forget(waiter)
        return self._refuse()

    def leave(self) -> None:
        """Gives the slot to the longest waiter, or frees it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # in_flight unchanged: the slot moves
                return
        self.in_flight -= 1
        self._gauge.dec()

    def _take(self) -> None:
        self.in_flight += 1
        self._gauge.inc()

    def _refuse(self) -> bool:
        self.refused += 1
        SHED.labels(self.name).inc()
        return False

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        waiter.cancel()
        try:
            self._waiters.remove(waiter)
        except ValueError:
            pass


@dataclass
class Admission:
    placement: AdmissionGate
    general: AdmissionGate
    retry_after_seconds: int = 1


def gate_for(admission: Admission, method: str, path: str) -> AdmissionGate | None:
    if path in UNGATED_PATHS:
        return None
    if method == "POST" and path in PLACEMENT_PATHS:
        return admission.placement
    return admission.general


def overloaded(retry_after_seconds: int) -> Problem:
    return Problem(
        429,
        f"the gateway is at capacity; retry after {retry_after_seconds} s",
        slug="overloaded",
        reason="OVERLOADED",
        headers={"Retry-After": str(retry_after_seconds)},
    )


class AdmissionMiddleware:
    """Reads the gates from `app.state.admission` (create_app builds them from settings)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        admission: Admission = scope["app"].state.admission
        gate = gate_for(admission, scope["method"], scope["path"])
        if gate is None:
            await self.app(scope, receive, send)
            return
        if not await gate.enter():
            problem = overloaded(admission.retry_after_seconds)
            await problem.response()(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            gate.leave()
