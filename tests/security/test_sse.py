"""The availability stream (issue 12): the token may come as ?access_token=
(EventSource sends no headers), the stream ends when the token expires, each
caller has a cap on open streams, and a service that never answers the first
message is a 503, not a hung request."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import grpc
import httpx

from omni.inventory.v1 import inventory_pb2
from services.gateway.auth import mint_token
from tests.unit.gateway_fakes import SECRET, fake_clients, make_app

PATH = "/v1/availability/stream?skus=SKU-MUG"


class FakeWatch:
    """A server-streaming call: `read()` answers from a queue; cancel ends it."""

    def __init__(self, first: bool = True) -> None:
        self.messages: asyncio.Queue[Any] = asyncio.Queue()
        if first:
            self.messages.put_nowait(
                inventory_pb2.WatchAvailabilityResponse(
                    sku="SKU-MUG", location_id="S1", available=3
                )
            )
        self.cancelled = False

    async def read(self) -> Any:
        return await self.messages.get()

    def cancel(self) -> None:
        self.cancelled = True
        self.messages.put_nowait(grpc.aio.EOF)

    async def __aiter__(self) -> Any:
        while (message := await self.read()) is not grpc.aio.EOF:
            yield message


class Inventory:
    def __init__(self, *, first: bool = True) -> None:
        self.first = first
        self.watches: list[FakeWatch] = []

    def WatchAvailability(self, request: Any, **_options: Any) -> FakeWatch:
        watch = FakeWatch(self.first)
        self.watches.append(watch)
        return watch


def guest_token(ttl: float = 3600, sub: str = "guest-1") -> str:
    return mint_token(SECRET, sub, "guest", channel="web", ttl=ttl)


def app_with(inventory: Inventory, **settings: Any) -> Any:
    return make_app(fake_clients(inventory=inventory), **settings)  # type: ignore[arg-type]


async def test_the_token_may_come_as_access_token() -> None:
    inventory = Inventory()
    transport = httpx.ASGITransport(app=app_with(inventory, jwt_leeway_seconds=0))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        # A short-lived token: the stream ends at its expiry (httpx's ASGI
        # transport reads the whole body).
        async with asyncio.timeout(10):
            answer = await client.get(f"{PATH}&access_token={guest_token(ttl=2)}")
        assert answer.status_code == 200
        assert '"available": 3' in answer.text
        refused = await client.get(f"{PATH}&access_token=not-a-token")
        assert refused.status_code == 401


class LateWatch(FakeWatch):
    """Answers the first read only once the caller's token has run out."""

    def __init__(self, expires_at: int) -> None:
        super().__init__(first=False)
        self.expires_at = expires_at

    async def read(self) -> Any:
        # The token's expiry is a wall-clock instant: waiting for it is the point.
        await asyncio.sleep(max(0.0, self.expires_at - time.time()) + 0.05)
        self.read = super().read  # type: ignore[method-assign]
        return inventory_pb2.WatchAvailabilityResponse(sku="SKU-MUG", location_id="S1", available=3)


async def test_the_current_value_is_sent_even_when_the_token_runs_out_first() -> None:
    """The first value was read under a valid token: the stream carries it,
    then says expired (a loaded gateway once sent only `expired`)."""
    token = guest_token(ttl=2)
    expires_at = int(time.time()) + 2
    inventory = Inventory()
    inventory.WatchAvailability = lambda request, **_: LateWatch(expires_at)  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=app_with(inventory, jwt_leeway_seconds=0))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        async with asyncio.timeout(10):
            answer = await client.get(f"{PATH}&access_token={token}")
    assert answer.status_code == 200
    assert answer.text.index('"available": 3') < answer.text.index("event: expired")


async def test_access_token_is_only_for_the_stream() -> None:
    transport = httpx.ASGITransport(app=app_with(Inventory()))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        answer = await client.get(f"/v1/orders/O1?access_token={guest_token()}")
        assert answer.status_code == 401


async def test_the_stream_ends_when_the_token_expires() -> None:
    inventory = Inventory()
    transport = httpx.ASGITransport(app=app_with(inventory, jwt_leeway_seconds=0))
    token = guest_token(ttl=2)
    started = time.monotonic()
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        async with asyncio.timeout(10):
            answer = await client.get(f"{PATH}&access_token={token}")
    # It ended by itself (no change ever came), at the token's expiry.
    assert answer.status_code == 200
    assert time.monotonic() - started < 8
    assert "event: availability" in answer.text and "event: expired" in answer.text
    assert inventory.watches[0].cancelled


async def test_each_caller_has_a_cap_on_open_streams() -> None:
    inventory = Inventory()
    app = app_with(inventory, sse_streams_per_caller=2, jwt_leeway_seconds=0)
    transport = httpx.ASGITransport(app=app)
    app.state.open_streams["guest-1"] = 2  # two streams of guest-1 are open
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        third = await client.get(PATH, headers={"Authorization": f"Bearer {guest_token()}"})
        assert third.status_code == 429
        assert third.headers["retry-after"]
        assert inventory.watches == []
        # Another caller is not held back, and a closed stream gives its slot back.
        other = guest_token(ttl=2, sub="guest-2")
        async with asyncio.timeout(10):
            theirs = await client.get(PATH, headers={"Authorization": f"Bearer {other}"})
        assert theirs.status_code == 200
    assert app.state.open_streams == {"guest-1": 2}


async def test_a_silent_service_is_a_503_not_a_hung_stream() -> None:
    inventory = Inventory(first=False)
    transport = httpx.ASGITransport(app=app_with(inventory, read_timeout_seconds=0.2))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        async with asyncio.timeout(5):
            answer = await client.get(PATH, headers={"Authorization": f"Bearer {guest_token()}"})
    assert answer.status_code == 503
    assert answer.headers["retry-after"]
    assert inventory.watches[0].cancelled
