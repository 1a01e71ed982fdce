"""An httpx client for a thousand requests in flight from one process.

httpcore's connection pool re-plans every queued request against every
connection each time a request starts or ends (and counts its idle
connections once per connection while doing so), so one pool of 1,000-2,000
connections costs the load generator O(connections²) per request: a
flash-sale of 5,000 orders through one such pool spent minutes in
`_assign_requests_to_connections` while the gateway sat idle (py-spy,
docs/capacity.md). Small pools, each request given to the next in turn, keep
that bookkeeping to a few dozen connections.
"""

from __future__ import annotations

import itertools

import httpx

# Connections per pool: enough for keep-alive reuse, small enough that a
# pool's per-request scan stays cheap.
PER_POOL = 16


class SpreadTransport(httpx.AsyncBaseTransport):
    """Requests handed round-robin to `pools` transports of `per_pool` connections."""

    def __init__(self, connections: int, per_pool: int = PER_POOL) -> None:
        per_pool = max(1, min(per_pool, connections))
        pools = max(1, -(-connections // per_pool))
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        self._pools = [httpx.AsyncHTTPTransport(limits=limits) for _ in range(pools)]
        self._next = itertools.cycle(self._pools)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await next(self._next).handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def spread_client(connections: int, timeout: float = 120) -> httpx.AsyncClient:
    """An AsyncClient with up to `connections` connections over small pools."""
    return httpx.AsyncClient(timeout=timeout, transport=SpreadTransport(connections))
