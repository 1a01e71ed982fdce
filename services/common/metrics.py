"""Prometheus metrics: RPC rate, errors and latency per method, and the
business events an SRE alerts on, read off the RPCs that cause them.

gRPC services serve `/metrics` on METRICS_PORT (`start_metrics_server`); the
gateway mounts `metrics_app()` on its own app; the worker's come from the
Temporal SDK runtime (workflows/worker.py).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import grpc
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    generate_latest,
    start_http_server,
)

from omni.words import OrderStatus, PaymentStatus
from services.common.errors import DomainError
from services.common.grpc_errors import WrappingInterceptor, status_code_for
from services.common.telemetry import tag_from_message

if TYPE_CHECKING:  # starlette only where /metrics is served over ASGI
    from starlette.requests import Request
    from starlette.responses import Response

# Up to 60 s: PlaceOrder waits for the journey (stock + payment).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

RPC_DURATION = Histogram(
    "omni_rpc_server_duration_seconds",
    "gRPC server calls by method and status code: rate, errors and latency.",
    ["grpc_service", "grpc_method", "grpc_code"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_DURATION = Histogram(
    "omni_http_server_duration_seconds",
    "Gateway HTTP requests by route template and status.",
    ["method", "route", "status"],
    buckets=_LATENCY_BUCKETS,
)
ORDER_STATUS_CHANGES = Counter(
    "omni_order_status_changes_total", "Orders entering each status.", ["status"]
)
RESERVATIONS = Counter(
    "omni_inventory_reservations_total", "Stock reservations made (one per order and location)."
)
RELEASES = Counter("omni_inventory_releases_total", "Stock reservations released.")
OVERSELL_ATTEMPTS = Counter(
    "omni_inventory_oversell_attempts_total",
    "Reservations refused with INSUFFICIENT_STOCK (stock is never oversold).",
)
PAYMENT_OUTCOMES = Counter(
    "omni_payment_operations_total",
    "Payment operations by operation and outcome (payment status or error reason).",
    ["operation", "outcome"],
)

_PAYMENT_OPERATIONS = {
    "AuthorizePayment": "authorize",
    "CapturePayment": "capture",
    "VoidPayment": "void",
    "RefundPayment": "refund",
}


def record_business_event(method: str, request: Any, response: Any, reason: str) -> None:
    """Counts what one finished RPC did to orders, stock or money.

    `reason` is the ErrorInfo reason of a refused call, or "" when it succeeded."""
    ok = response is not None
    new_status = (
        OrderStatus.from_proto(getattr(request, "status", 0))
        if method == "RecordOrderProgress"
        else None
    )
    if new_status is not None and ok:
        ORDER_STATUS_CHANGES.labels(new_status.value).inc()
    elif method == "ReserveStock":
        if ok:
            RESERVATIONS.inc()
        elif reason == "INSUFFICIENT_STOCK":
            OVERSELL_ATTEMPTS.inc()
    elif method == "ReleaseReservation" and ok:
        RELEASES.inc()
    elif method in _PAYMENT_OPERATIONS:
        number = getattr(getattr(response, "payment", None), "status", 0) if ok else 0
        status = PaymentStatus.from_proto(number)
        outcome = status.value if status is not None else reason.lower() or "error"
        PAYMENT_OUTCOMES.labels(_PAYMENT_OPERATIONS[method], outcome).inc()


def _split(full_method: str) -> tuple[str, str]:
    service, _, method = full_method.lstrip("/").partition("/")
    return service, method


Handler = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


def _durations(service: str, method: str) -> Callable[[grpc.StatusCode], Any]:
    """The method's histogram child for a status code, looked up once each
    (`labels()` takes a lock and builds its key on every call)."""
    children: dict[grpc.StatusCode, Any] = {}

    def child(code: grpc.StatusCode) -> Any:
        found = children.get(code)
        if found is None:
            found = children[code] = RPC_DURATION.labels(service, method, code.name)
        return found

    return child


def _observe_unary(full_method: str, behavior: Handler) -> Handler:
    service, method = _split(full_method)
    duration = _durations(service, method)

    async def observed(request: Any, context: grpc.aio.ServicerContext) -> Any:
        started = time.perf_counter()
        tag_from_message(request)
        code = grpc.StatusCode.OK
        reason = ""
        response = None
        try:
            response = await behavior(request, context)
            tag_from_message(response)
            return response
        except DomainError as error:
            code, reason = status_code_for(error), str(getattr(error, "reason", ""))
            raise
        except BaseException:
            code = context.code() or grpc.StatusCode.UNKNOWN
            raise
        finally:
            duration(code).observe(time.perf_counter() - started)
            record_business_event(method, request, response, reason)

    return observed


def _observe_stream(full_method: str, behavior: Callable[..., AsyncIterator[Any]]) -> Any:
    service, method = _split(full_method)
    duration = _durations(service, method)

    async def observed(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        started = time.perf_counter()
        tag_from_message(request)
        code = grpc.StatusCode.OK
        try:
            async for item in behavior(request, context):
                yield item
        except DomainError as error:
            code = status_code_for(error)
            raise
        except BaseException:
            code = context.code() or grpc.StatusCode.CANCELLED
            raise
        finally:
            duration(code).observe(time.perf_counter() - started)

    return observed


class MetricsInterceptor(WrappingInterceptor):
    """Innermost interceptor: sees domain errors before they become statuses,
    so a refusal is counted with its reason (INSUFFICIENT_STOCK, ...)."""

    def wrap_unary(self, method: str, behavior: Handler) -> Handler:
        return _observe_unary(method, behavior)

    def wrap_stream(self, method: str, behavior: Callable[..., Any]) -> Callable[..., Any]:
        return _observe_stream(method, behavior)


def start_metrics_server(host: str, port: int) -> Callable[[], None]:
    """Serves /metrics on host:port in a thread; returns its stop function."""
    server, thread = start_http_server(port, addr=host)

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop


async def metrics_endpoint(request: Request) -> Response:
    """GET /metrics for an ASGI app (the gateway)."""
    from starlette.responses import Response

    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def temporal_runtime(host: str, port: int | None) -> Any:
    """A Temporal SDK runtime serving its metrics (workflow task and activity
    latencies, in seconds, with `temporal_` names) on host:port/metrics, or None."""
    if port is None:
        return None
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"{host}:{port}",
                counters_total_suffix=True,
                unit_suffix=True,
                durations_as_seconds=True,
            )
        )
    )
