"""Availability for every channel: a batched lookup, a live stream (Server-Sent
Events over InventoryService.WatchAvailability), and the admin invariant check."""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import AsyncIterable, AsyncIterator
from typing import Annotated

import grpc
import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from omni.inventory.v1 import inventory_pb2
from omni.words import Channel
from services.gateway import mapping
from services.gateway.auth import Caller, require_role
from services.gateway.clients import call
from services.gateway.models import AvailabilityOut, InvariantsOut
from services.gateway.problems import RETRY_AFTER_SECONDS, Problem, problem_from_rpc_error
from services.gateway.routes.deps import clients_of, parse_list, parse_near, settings_of
from services.gateway.tracing import outgoing_metadata

router = APIRouter(tags=["availability"])

# A comment line this often keeps proxies and load balancers from closing a quiet stream.
HEARTBEAT_SECONDS = 15.0
SkuList = Annotated[str, Query(description="comma-separated SKUs", examples=["SKU-MUG,SKU-CAP"])]
ChannelQuery = Annotated[Channel | None, Query(description="default: the token's channel")]


@router.get("/v1/availability", response_model=AvailabilityOut)
async def get_availability(
    request: Request,
    principal: Caller,
    skus: SkuList,
    near: Annotated[str | None, Query(description="LAT,LON")] = None,
    radius_km: Annotated[float, Query(gt=0, le=20_000)] = 25.0,
    channel: ChannelQuery = None,
) -> Response:
    """Any role, guest included. Read-your-writes: straight from inventory.

    The hottest read of every product page: the body (built from the reply's
    typed fields) goes out as JSON directly. Checking it again against
    `AvailabilityOut`, which stays for the OpenAPI schema, took a quarter of
    the gateway's CPU per lookup (bench/README.md)."""
    grpc_request = inventory_pb2.GetAvailabilityRequest(
        skus=parse_list(skus, "skus"),
        radius_km=radius_km,
        channel=mapping.channel(channel or principal.home_channel),
    )
    point = parse_near(near)
    if point is not None:
        grpc_request.near.CopyFrom(point)
    reply = await call(
        clients_of(request).inventory.GetAvailability,
        grpc_request,
        deadline=settings_of(request).read_timeout_seconds,
    )
    return Response(orjson.dumps(mapping.availability(reply)), media_type="application/json")


def _sse_event(change: inventory_pb2.WatchAvailabilityResponse) -> bytes:
    body = json.dumps(mapping.availability_change(change))
    return f"event: availability\ndata: {body}\n\n".encode()


async def _relay(
    stream: AsyncIterable[inventory_pb2.WatchAvailabilityResponse],
    queue: asyncio.Queue[bytes | None],
) -> None:
    """Copies the gRPC stream into the queue; None marks its end."""
    try:
        async for change in stream:
            await queue.put(_sse_event(change))
    except grpc.RpcError:
        pass  # the service went away: end the event stream, the browser reconnects
    finally:
        await queue.put(None)


@router.get(
    "/v1/availability/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_availability(
    request: Request,
    principal: Caller,
    skus: SkuList,
    location_ids: Annotated[
        str | None, Query(description="comma-separated location ids; default: all")
    ] = None,
    channel: ChannelQuery = None,
) -> StreamingResponse:
    """Any role, guest included. Server-Sent Events: first one `availability`
    event per (sku, location) with the current value (`current: true`), then
    one per change, `{sku, location_id, available, at}`."""
    settings = settings_of(request)
    open_streams: dict[str, int] = request.app.state.open_streams
    if open_streams.get(principal.sub, 0) >= settings.sse_streams_per_caller:
        raise Problem(
            429,
            f"at most {settings.sse_streams_per_caller} open streams per caller",
            slug="rate-limited",
            reason="TOO_MANY_STREAMS",
            headers={"Retry-After": "5"},
        )
    stream = clients_of(request).inventory.WatchAvailability(
        inventory_pb2.WatchAvailabilityRequest(
            skus=parse_list(skus, "skus"),
            location_ids=parse_list(location_ids, "location_ids") if location_ids else [],
            channel=mapping.channel(channel or principal.home_channel),
        ),
        metadata=outgoing_metadata(),
    )
    try:
        # The first message proves the watch is valid (unknown SKUs are a 404 here,
        # not an error inside a 200 stream) and that the service is listening;
        # a service that never answers is a 503, not a request hung forever.
        first = await asyncio.wait_for(stream.read(), settings.read_timeout_seconds)
    except grpc.RpcError as error:
        raise problem_from_rpc_error(error) from None
    except TimeoutError:
        stream.cancel()
        raise Problem(
            503,
            "inventory did not answer the watch in time",
            slug="dependency-unavailable",
            headers={"Retry-After": RETRY_AFTER_SECONDS},
        ) from None
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    sub = principal.sub
    open_streams[sub] = open_streams.get(sub, 0) + 1

    async def events() -> AsyncIterator[bytes]:
        relay = asyncio.create_task(_relay(stream, queue))
        try:
            # The current value was read while the token was valid: it is sent
            # even when the token runs out before the body starts.
            if first is not grpc.aio.EOF:
                yield _sse_event(first)
            while True:
                # The stream ends when the token expires: the client reconnects
                # with a fresh one.
                left = principal.expires_at - time.time() if principal.expires_at else math.inf
                if left <= 0:
                    yield b"event: expired\ndata: {}\n\n"
                    return
                try:
                    event = await asyncio.wait_for(queue.get(), min(HEARTBEAT_SECONDS, left))
                except TimeoutError:
                    if principal.expires_at and time.time() >= principal.expires_at:
                        continue
                    yield b": keep-alive\n\n"
                    continue
                if event is None:
                    return
                yield event
        finally:
            stream.cancel()
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
            open_streams[sub] -= 1
            if open_streams[sub] <= 0:
                del open_streams[sub]

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/v1/inventory/invariants", tags=["stock"], response_model=InvariantsOut)
async def check_invariants(
    request: Request,
    principal: Caller,
    skus: Annotated[str | None, Query(description="comma-separated SKUs; default: all")] = None,
) -> InvariantsOut:
    """Admin only. On hand = ledger sum, reserved = active holds, nothing
    negative: `healthy` with an empty `violations` list when all hold."""
    require_role(principal, "admin")
    reply = await call(
        clients_of(request).inventory.CheckInvariants,
        inventory_pb2.CheckInvariantsRequest(skus=parse_list(skus, "skus") if skus else []),
        deadline=settings_of(request).read_timeout_seconds * 10,
    )
    return mapping.invariants(reply)
