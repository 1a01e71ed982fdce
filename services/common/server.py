"""gRPC server bootstrap shared by every service.

Health (grpc.health.v1), reflection (so grpcurl works), the error interceptor,
and a graceful stop on SIGTERM/SIGINT: health turns NOT_SERVING first, then
in-flight calls get `shutdown_grace_seconds` to finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common.db import Database
from services.common.grpc_errors import ErrorInterceptor
from services.common.settings import ServiceSettings

logger = logging.getLogger(__name__)

Register = Callable[[grpc.aio.Server], None]


async def serve(
    *,
    settings: ServiceSettings,
    database: Database,
    register: Register,
    service_names: Sequence[str],
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Runs the server until SIGTERM or SIGINT, then stops it gracefully."""
    server = grpc.aio.server(interceptors=[ErrorInterceptor()])
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    if server.add_insecure_port(address) == 0:
        raise RuntimeError(f"cannot listen on {address}")
    await database.ping()
    await server.start()
    for name in ["", *service_names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("listening on %s", address)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    logger.info("stopping")
    await health_servicer.enter_graceful_shutdown()
    await server.stop(settings.shutdown_grace_seconds)
    if on_stop is not None:
        await on_stop()
    await database.dispose()
    logger.info("stopped")
