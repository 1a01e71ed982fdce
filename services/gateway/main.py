"""`python -m services.gateway.main`: uvicorn on GATEWAY_HOST:GATEWAY_PORT.

SIGTERM/SIGINT stop it gracefully: no new connections, in-flight requests get
`shutdown_grace_seconds`. Leaves with os._exit because temporalio (used for the
health check) can crash the interpreter at exit (DESIGN.md, known traps).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator

import uvicorn

from services.common import event_loop
from services.common.logs import setup_logging
from services.common.metrics import start_metrics_server
from services.common.server import freeze_start_up
from services.common.telemetry import shutdown_telemetry
from services.gateway.app import create_app
from services.gateway.settings import GatewaySettings

logger = logging.getLogger("services.gateway")


class _Server(uvicorn.Server):
    """Stops gracefully on SIGTERM/SIGINT, then returns normally (exit 0)
    instead of re-raising the signal as uvicorn does by default."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        with super().capture_signals():
            yield
            self._captured_signals.clear()


async def run(settings: GatewaySettings) -> None:
    if settings.is_development and settings.uses_dev_secret:
        logger.warning(
            "OMNI_ENV=development with the built-in JWT_SECRET: anyone can mint tokens. "
            "Production (any other OMNI_ENV) needs JWT_PUBLIC_KEY or JWT_JWKS_URL, "
            "JWT_ISSUER and JWT_AUDIENCE, and refuses to start without them."
        )
    config = uvicorn.Config(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        log_config=None,
        # The gateway logs each request itself, without query strings.
        access_log=False,
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        proxy_headers=True,
        # The C parser (a dependency), named so a missing wheel fails at start
        # rather than falling back to the slower h11.
        http="httptools",
    )
    server = _Server(config)
    # The process's policy, not the app's (tests build many apps in one process).
    freeze_start_up()
    # Prometheus scrapes its own port: the public port serves no /metrics.
    stop_metrics = (
        start_metrics_server(settings.gateway_host, settings.metrics_port)
        if settings.metrics_port
        else None
    )
    try:
        await server.serve()
    finally:
        if stop_metrics is not None:
            stop_metrics()
    if not server.started:
        raise RuntimeError(f"could not serve on {settings.gateway_host}:{settings.gateway_port}")


def main() -> int:
    settings = GatewaySettings()
    setup_logging("gateway", settings.log_level)
    try:
        event_loop.run(run(settings))
    except Exception:
        logger.exception("gateway failed")
        return 1
    finally:
        shutdown_telemetry()
    logger.info("stopped")
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
