"""A server span per request and a W3C `traceparent` on every response.

A request that carries a valid traceparent continues that trace; the same
context goes on to the gRPC calls as metadata, so one trace id follows an
order through the services.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.metrics import HTTP_DURATION
from services.common.telemetry import tag_span, tracer
from services.gateway.problems import Problem

logger = logging.getLogger("services.gateway.access")

_propagator = TraceContextTextMapPropagator()


def traceparent_of(span: trace.Span) -> str:
    context = span.get_span_context()
    flags = "01" if context.trace_flags.sampled else "00"
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags}"


def outgoing_metadata() -> tuple[tuple[str, str], ...]:
    """The current trace context as gRPC metadata."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return tuple(carrier.items())


def _headers_of(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}


@dataclass
class _Answer:
    """The response status as it went out (500 until one did)."""

    code: int = 500
    sent: bool = False


class TracingMiddleware:
    """Outermost layer: span, traceparent header, access log, last-resort 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        parent = _propagator.extract(_headers_of(scope))
        method = scope["method"]
        path = scope["path"]
        started = time.monotonic()
        status = _Answer()
        with tracer("omni.gateway").start_as_current_span(
            f"{method} {path}", context=parent, kind=SpanKind.SERVER
        ) as span:
            header = traceparent_of(span).encode("latin-1")

            async def send_traced(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status.code = message["status"]
                    status.sent = True
                    headers = [
                        (k, v) for k, v in message.get("headers", []) if k.lower() != b"traceparent"
                    ]
                    message = {**message, "headers": [*headers, (b"traceparent", header)]}
                await send(message)

            try:
                await self.app(scope, receive, send_traced)
            except Exception:
                logger.exception("unhandled error on %s %s", method, path)
                if status.sent:
                    raise
                await Problem(500, "internal error", slug="internal-error").response()(
                    scope, receive, send_traced
                )
            span.set_attribute("http.request.method", method)
            span.set_attribute("url.path", path)
            span.set_attribute("http.response.status_code", status.code)
            if status.code >= 500:
                span.set_status(Status(StatusCode.ERROR))
            # The route template (/v1/orders/{order_id}), never the ids in the path.
            route = getattr(scope.get("route"), "path", "unmatched")
            span.set_attribute("http.route", route)
            tag_span(span, order_id=scope.get("path_params", {}).get("order_id", ""))
            HTTP_DURATION.labels(method, route, str(status.code)).observe(
                time.monotonic() - started
            )
            # Path only: a query string could carry something a caller should not have sent.
            logger.info(
                "%s %s %s %.1fms trace=%032x",
                method,
                path,
                status.code,
                (time.monotonic() - started) * 1000,
                span.get_span_context().trace_id,
            )
