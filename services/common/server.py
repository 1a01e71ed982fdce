"""gRPC server bootstrap shared by every service.

Health (grpc.health.v1), reflection (so grpcurl works), the tracing, error,
metrics, identity (the caller, signed, checked against the service's access
table: identity.py, access.py) and card-number interceptors, TLS when
certificates are configured (channels.py), /metrics on METRICS_PORT, and a graceful stop on
SIGTERM/SIGINT: health turns NOT_SERVING first, then in-flight calls get
`shutdown_grace_seconds` to finish.

Health has two names. "" (and each service name) is readiness: NOT_SERVING
while the database does not answer and from the moment shutdown begins.
`omni.liveness` is liveness: SERVING while the process runs, whatever the
database does, so a database outage never restarts pods.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any, NoReturn

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common import event_loop
from services.common.access import AccessTable
from services.common.card_numbers import CardNumberInterceptor
from services.common.channels import TlsFiles, server_credentials, tls_from_env
from services.common.db import Database
from services.common.grpc_errors import ErrorInterceptor
from services.common.identity import IdentityInterceptor, verification_keys
from services.common.interceptor import ChainInterceptor
from services.common.logs import setup_logging
from services.common.metrics import MetricsInterceptor, start_metrics_server
from services.common.settings import ServiceSettings
from services.common.telemetry import ServerSpans, shutdown_telemetry

logger = logging.getLogger(__name__)

Register = Callable[[grpc.aio.Server], None]

LIVENESS_SERVICE = "omni.liveness"


async def _watch_database(
    database: Database,
    health_servicer: health.aio.HealthServicer,
    names: Sequence[str],
    settings: ServiceSettings,
) -> None:
    """Flips readiness with the database's answers to a periodic ping."""
    serving = True
    while True:
        await asyncio.sleep(settings.db_check_interval_seconds)
        try:
            await asyncio.wait_for(database.ping(), settings.db_check_timeout_seconds)
            reachable = True
        except Exception as error:
            reachable = False
            if serving:
                logger.warning("database unreachable (%s): not ready", type(error).__name__)
        if reachable != serving:
            serving = reachable
            if serving:
                logger.info("database reachable again: ready")
            status = (
                health_pb2.HealthCheckResponse.SERVING
                if serving
                else health_pb2.HealthCheckResponse.NOT_SERVING
            )
            for name in names:
                await health_servicer.set(name, status)


def service_interceptor(
    access: AccessTable, keys: tuple[bytes, ...], spans: ServerSpans | None = None
) -> ChainInterceptor:
    """What every service's server runs around each call, as one interceptor
    composing the concerns once per method (interceptor.py). Outermost first:
    the server span, then domain errors → status, then metrics, then who is
    calling (refused before any request is read), then the card-number guard
    every service applies to every request."""
    return ChainInterceptor(
        [
            spans or ServerSpans(),
            ErrorInterceptor(),
            MetricsInterceptor(),
            IdentityInterceptor(access, keys),
            CardNumberInterceptor(),
        ]
    )


async def serve(
    *,
    settings: ServiceSettings,
    database: Database,
    register: Register,
    service_names: Sequence[str],
    access: AccessTable,
    on_stop: Callable[[], Awaitable[None]] | None = None,
    on_stopping: Callable[[], Awaitable[None]] | None = None,
    tls: TlsFiles | None = None,
) -> None:
    """Runs the server until SIGTERM or SIGINT, then stops it gracefully.

    `access` is the service's table of who may call what (services/<name>/access.py).
    `on_stopping` runs before in-flight calls get their grace (to end
    long-lived streams); `on_stop` after the server has stopped. `tls`
    (else OMNI_TLS_* in the environment): listen with TLS only."""
    server = grpc.aio.server(interceptors=[service_interceptor(access, verification_keys())])
    register(server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        [*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
    )
    address = f"{settings.grpc_host}:{settings.grpc_port}"
    files = tls or tls_from_env()
    if files is None:
        port = server.add_insecure_port(address)
    else:
        port = server.add_secure_port(address, server_credentials(files))
    if port == 0:
        raise RuntimeError(f"cannot listen on {address}")
    health_server = None
    if files is not None and settings.health_port is not None:
        # Only grpc.health.v1 on this port, in plaintext, for the kubelet's probes.
        health_server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, health_server)
        if health_server.add_insecure_port(f"{settings.grpc_host}:{settings.health_port}") == 0:
            raise RuntimeError(f"cannot listen on health port {settings.health_port}")
    await database.ping()
    await server.start()
    if health_server is not None:
        await health_server.start()
    readiness_names = ["", *service_names]
    for name in [*readiness_names, LIVENESS_SERVICE]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    logger.info("listening on %s (%s)", address, "plaintext" if files is None else "TLS")
    freeze_start_up()
    stop_metrics = None
    if settings.metrics_port is not None:
        stop_metrics = start_metrics_server(settings.grpc_host, settings.metrics_port)
        logger.info("metrics on %s:%d/metrics", settings.grpc_host, settings.metrics_port)
    watch = asyncio.create_task(
        _watch_database(database, health_servicer, readiness_names, settings)
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()

    logger.info("stopping")
    watch.cancel()
    await health_servicer.enter_graceful_shutdown()
    if on_stopping is not None:
        await on_stopping()
    await server.stop(settings.shutdown_grace_seconds)
    if health_server is not None:
        await health_server.stop(None)
    if on_stop is not None:
        await on_stop()
    await database.dispose()
    if stop_metrics is not None:
        stop_metrics()
    shutdown_telemetry()
    logger.info("stopped")


def freeze_start_up() -> None:
    """What start-up built (modules, protobuf descriptors, the engine, the
    routes) lives as long as the process: out of the collector's reach, full
    collections walk only what the calls allocate (a shorter pause in the
    tail of every answer)."""
    gc.collect()
    gc.freeze()


def run_then_exit(
    process_name: str,
    log_level: str,
    run: Callable[[], Coroutine[Any, Any, None]],
    process_logger: logging.Logger,
) -> NoReturn:
    """A service process's main: JSON logs, `run` until it ends, exit status 1
    if it failed; leaves with os._exit because temporalio can crash the
    interpreter at exit (DESIGN.md, known traps)."""
    setup_logging(process_name, log_level)
    status = 0
    try:
        event_loop.run(run())
    except Exception:
        process_logger.exception("%s service failed", process_name)
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
