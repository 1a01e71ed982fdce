"""An in-process gRPC server with one servicer behind the real ErrorInterceptor,
for tests of the callers' side (activities reading real status details)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from services.common.grpc_errors import ErrorInterceptor
from tests.support.ports import free_port


@asynccontextmanager
async def serving(
    add: Callable[[Any, grpc.aio.Server], None], servicer: Any
) -> AsyncIterator[grpc.aio.Channel]:
    """Serves `servicer` (added by its generated `add_..._to_server`) on a free
    port; yields a channel to it; stops both."""
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    add(servicer, server)
    port = free_port()
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield channel
    finally:
        await channel.close()
        await server.stop(None)
