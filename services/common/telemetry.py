"""OpenTelemetry for every process, configured only by the standard OTEL_* variables.

`setup_telemetry(process)` installs the SDK tracer provider. Exporters come
from `OTEL_TRACES_EXPORTER` (comma-separated): `otlp` (production, to the
collector named by `OTEL_EXPORTER_OTLP_ENDPOINT`), `console`, `none` (the
default: ids but no export) and `omni_jsonl`, the development exporter that
appends one JSON object per span to the file named by `OMNI_TRACES_FILE`
(`omni up` sets `.omni/traces.jsonl`). `OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` and `OTEL_SDK_DISABLED` work
as the specification says.

Spans carry business keys (`omni.order_id`, `omni.store_id`, `omni.channel`)
and never personal data: no names, emails, phones, addresses or tokens.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote

import grpc
import orjson
from google.protobuf.message import Message
from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:  # SQLAlchemy is imported only by the processes that trace SQL
    from sqlalchemy.ext.asyncio import AsyncEngine

logger = logging.getLogger(__name__)

T = TypeVar("T")

TRACES_FILE_ENV = "OMNI_TRACES_FILE"
JSONL_EXPORTER = "omni_jsonl"
# How long a finished span may wait in memory before the JSON-lines file has it.
JSONL_FLUSH_MILLIS = 200

ORDER_ID = "omni.order_id"
STORE_ID = "omni.store_id"
CHANNEL = "omni.channel"
# Request/response fields whose values become span attributes, and nested
# messages looked into one level deep. Nothing here is personal data.
_KEY_FIELDS = {"order_id": ORDER_ID, "store_id": STORE_ID, "channel": CHANNEL}
_NESTED_FIELDS = ("order", "fulfillment")

_order_id: ContextVar[str] = ContextVar("omni_order_id", default="")
_propagator = TraceContextTextMapPropagator()
# Used when no SDK provider is installed (unit tests of the gateway), so
# spans still get real ids and a traceparent can be returned.
_fallback_provider = TracerProvider()


class JsonLinesSpanExporter(SpanExporter):
    """Appends finished spans to a file, one JSON object per line (development).

    The file stays open (opened again after a fork): opening and closing it
    for every span cost about half of the export (measured ~110 -> ~50 us of
    CPU per span, and a placement ends ~110 spans over its processes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._fd = -1
        self._pid = 0
        path.parent.mkdir(parents=True, exist_ok=True)

    def _open(self) -> int:
        if self._fd < 0 or self._pid != os.getpid():
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            self._pid = os.getpid()
        return self._fd

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        # orjson: ~1/10 of json.dumps per span, on every service's export thread.
        data = b"".join(orjson.dumps(span_record(span)) + b"\n" for span in spans)
        # One write per batch on an O_APPEND file: processes never interleave lines.
        with self._lock:
            os.write(self._open(), data)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._fd >= 0 and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = -1


def span_record(span: ReadableSpan) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None
    return {
        "name": span.name,
        "service": span.resource.attributes.get(SERVICE_NAME, ""),
        "kind": span.kind.name,
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
        "parent_span_id": f"{span.parent.span_id:016x}" if span.parent else None,
        "start_ns": span.start_time,
        "end_ns": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "links": [
            {"trace_id": f"{link.context.trace_id:032x}", "span_id": f"{link.context.span_id:016x}"}
            for link in span.links
        ],
    }


def _processor_for(name: str) -> Any:
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return BatchSpanProcessor(OTLPSpanExporter())
    if name == "console":
        return SimpleSpanProcessor(ConsoleSpanExporter())
    if name == JSONL_EXPORTER:
        path = Path(os.environ.get(TRACES_FILE_ENV, ".omni/traces.jsonl"))
        # Batched, as the OTLP exporter is: the export (~50 us a span) is off
        # the request's path, and a span is on disk within JSONL_FLUSH_MILLIS.
        # Every process flushes at exit (shutdown_telemetry, also before
        # os._exit); a SIGKILLed one loses at most its last interval's spans.
        return BatchSpanProcessor(
            JsonLinesSpanExporter(path), schedule_delay_millis=JSONL_FLUSH_MILLIS
        )
    raise ValueError(f"OTEL_TRACES_EXPORTER: unknown exporter {name!r}")


def setup_telemetry(process: str) -> None:
    """Installs the global tracer provider once per process."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    service_name = os.environ.get("OTEL_SERVICE_NAME") or f"omni-{process}"
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service_name}))
    names = os.environ.get("OTEL_TRACES_EXPORTER", "none")
    for name in (n.strip() for n in names.split(",")):
        if name and name != "none":
            provider.add_span_processor(_processor_for(name))
    trace.set_tracer_provider(provider)


def shutdown_telemetry() -> None:
    """Flushes spans still queued (call before os._exit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


# Tracers by name and provider: get_tracer builds a new one each time (~1 %
# of the gateway's CPU per request when asked per request).
_tracers: dict[tuple[str, object], trace.Tracer] = {}


def tracer(name: str) -> trace.Tracer:
    """The global tracer, or one that still makes real ids when none is installed."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = _fallback_provider
    made = _tracers.get((name, provider))
    if made is None:
        made = _tracers[(name, provider)] = provider.get_tracer(name)
    return made


# -- business keys and log context -------------------------------------------


def tag_span(
    span: trace.Span | None = None, *, order_id: str = "", store_id: str = "", channel: str = ""
) -> None:
    """Puts the business keys on a span (the current one by default); the
    order id also goes to the logs of this task."""
    span = span or trace.get_current_span()
    for attribute, value in ((ORDER_ID, order_id), (STORE_ID, store_id), (CHANNEL, channel)):
        if value:
            span.set_attribute(attribute, value)
    if order_id:
        _order_id.set(order_id)


@contextmanager
def carrying_order_id(order_id: str) -> Iterator[None]:
    """Tags the current span with `order_id` and carries it as baggage to the
    services called inside (their spans then carry it when their request does not)."""
    tag_span(order_id=order_id)
    token = otel_context.attach(baggage.set_baggage(ORDER_ID, order_id))
    try:
        yield
    finally:
        otel_context.detach(token)


def keys_of(message: Message) -> dict[str, str]:
    """The business keys a protobuf message carries, by span attribute."""
    found: dict[str, str] = {}
    fields = message.DESCRIPTOR.fields_by_name
    for name in _NESTED_FIELDS:
        if name in fields and fields[name].message_type is not None and message.HasField(name):
            found.update(keys_of(getattr(message, name)))
    for name, attribute in _KEY_FIELDS.items():
        value = getattr(message, name, None) if name in fields else None
        if name in fields and fields[name].enum_type is not None and isinstance(value, int):
            value = _enum_word(fields[name].enum_type, value)
        if isinstance(value, str) and value:
            found[attribute] = value
    return found


def _enum_word(enum: Any, number: int) -> str:
    """The word of an enum value (CHANNEL_WEB -> "web"); "" for UNSPECIFIED or unknown."""
    value = enum.values_by_number.get(number)
    if value is None or number == 0:
        return ""
    prefix = enum.values_by_number[0].name.removesuffix("UNSPECIFIED")
    return str(value.name).removeprefix(prefix).lower()


def tag_from_message(message: Any) -> None:
    if isinstance(message, Message):
        keys = keys_of(message)
        # An activity's calls carry the order id as baggage when the message does not.
        carried = baggage.get_baggage(ORDER_ID)
        tag_span(
            order_id=keys.get(ORDER_ID) or (carried if isinstance(carried, str) else ""),
            store_id=keys.get(STORE_ID, ""),
            channel=keys.get(CHANNEL, ""),
        )


def log_context() -> dict[str, str]:
    """trace_id, span_id and order_id of the code running now (for log lines)."""
    fields: dict[str, str] = {}
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        fields["trace_id"] = f"{context.trace_id:032x}"
        fields["span_id"] = f"{context.span_id:016x}"
    order_id = _order_id.get()
    if order_id:
        fields["order_id"] = order_id
    return fields


# -- links between a journey's traces ----------------------------------------


def current_traceparent() -> str:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent", "")


@contextmanager
def span_linked_to(
    name: str, traceparent: str, attributes: Mapping[str, str]
) -> Iterator[trace.Span]:
    """A span in the current trace with a link to the trace `traceparent` names
    (a store action on an order links to the trace that placed it); "" for
    none yet (`linked_once_known`)."""
    link = _link_to(traceparent)
    with trace.get_tracer("omni").start_as_current_span(
        name,
        kind=SpanKind.INTERNAL,
        links=[link] if link else [],
        attributes=dict(attributes),
    ) as span:
        yield span


def _link_to(traceparent: str) -> Link | None:
    if not traceparent:
        return None
    linked = trace.get_current_span(_propagator.extract({"traceparent": traceparent}))
    context = linked.get_span_context()
    return Link(context) if context.is_valid else None


def _add_link(span: trace.Span, traceparent: str) -> None:
    link = _link_to(traceparent)
    if link is not None:
        span.add_link(link.context)


async def linked_once_known(span: trace.Span, traceparent: Awaitable[str], work: Awaitable[T]) -> T:
    """Runs `work` while `traceparent` (the trace to link `span` to) is looked
    up, so the lookup adds no time of its own; links `span` once it is known,
    also when `work` fails."""
    looking_up = asyncio.ensure_future(traceparent)
    try:
        result = await work
    except asyncio.CancelledError:
        looking_up.cancel()
        raise
    except Exception:
        _add_link(span, await looking_up)
        raise
    _add_link(span, await looking_up)
    return result


# -- gRPC, SQL and Temporal --------------------------------------------------


_HEALTH_PREFIX = "/grpc.health.v1.Health/"
# A server's own failures; a refusal (NOT_FOUND, INVALID_ARGUMENT...) leaves
# the span's status unset, as OpenTelemetry's gRPC conventions say.
_SERVER_ERRORS = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def _not_health() -> Any:
    # Probes every few seconds would bury the journeys' spans.
    from opentelemetry.instrumentation.grpc import filters

    return filters.negate(filters.service_name("grpc.health.v1.Health"))


def _peer_attributes(peer: str) -> dict[str, str]:
    """net.peer.* from "ipv4:127.0.0.1:57284" or "ipv6:[::1]:57284"."""
    if peer.startswith("unix:") or ":" not in peer:
        return {}
    ip, _, port = peer.split(",", 1)[0].split(":", 1)[1].rpartition(":")
    ip = unquote(ip)
    found = {"net.peer.ip": ip, "net.peer.port": port}
    if ip in ("[::1]", "127.0.0.1"):
        found["net.peer.name"] = "localhost"
    return found


def _end_call(span: trace.Span, context: Any, error: BaseException | None) -> None:
    """The status code on the span; ERROR status for a server failure."""
    code = grpc.StatusCode.OK if error is None else (context.code() or grpc.StatusCode.UNKNOWN)
    if isinstance(code, grpc.StatusCode):
        span.set_attribute("rpc.grpc.status_code", code.value[0])
        if code in _SERVER_ERRORS:
            span.set_status(Status(StatusCode.ERROR, f"{code}:{context.details() or ''}"))
    # An abort is how a refusal travels, not a crash: no stack trace to record.
    if error is not None and not isinstance(error, grpc.aio.AbortError | grpc.RpcError):
        span.record_exception(error)


class ServerSpans:
    """A SERVER span per call of an Omni RPC, child of the caller's trace
    context (and carrying its baggage): the span, name and attributes that
    opentelemetry-instrumentation-grpc makes, but decided once per method
    (health probes get none) instead of rebuilding the handler, proxying the
    context and filtering on every call (services.common.interceptor)."""

    def __init__(self, provider: trace.TracerProvider | None = None) -> None:
        # None: the global provider (a no-op one when none is installed).
        self._provider = provider

    def _tracer(self) -> trace.Tracer:
        return trace.get_tracer("omni.grpc", tracer_provider=self._provider)

    def _attributes(self, method: str) -> dict[str, Any]:
        service, _, name = method.lstrip("/").partition("/")
        return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}

    def wrap_unary(self, method: str, behavior: Any) -> Any:
        if method.startswith(_HEALTH_PREFIX):
            return behavior
        base = self._attributes(method)
        spans = self._tracer()

        async def spanned(request: Any, context: Any) -> Any:
            with _server_span(spans, method, base, context) as span:
                try:
                    response = await behavior(request, context)
                except BaseException as error:
                    _end_call(span, context, error)
                    raise
                _end_call(span, context, None)
                return response

        return spanned

    def wrap_stream(self, method: str, behavior: Any) -> Any:
        if method.startswith(_HEALTH_PREFIX):
            return behavior
        base = self._attributes(method)
        spans = self._tracer()

        async def spanned(request: Any, context: Any) -> Any:
            with _server_span(spans, method, base, context) as span:
                try:
                    async for item in behavior(request, context):
                        yield item
                except BaseException as error:
                    _end_call(span, context, error)
                    raise
                _end_call(span, context, None)

        return spanned


@contextmanager
def _server_span(
    spans: trace.Tracer, method: str, base: dict[str, Any], context: Any
) -> Iterator[trace.Span]:
    metadata = context.invocation_metadata() or ()
    carrier = {key: value for key, value in metadata if isinstance(value, str)}
    attributes = {**base, **_peer_attributes(context.peer() or "")}
    if "user-agent" in carrier:
        attributes["rpc.user_agent"] = carrier["user-agent"]
    token = otel_context.attach(propagate.extract(carrier))
    try:
        with spans.start_as_current_span(
            method,
            kind=SpanKind.SERVER,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            yield span
    finally:
        otel_context.detach(token)


def grpc_stream_client_interceptors() -> list[Any]:
    """OpenTelemetry's client spans for server-streaming calls (long watches,
    where a call's fixed cost does not matter); unary calls: `client_span`."""
    from opentelemetry.instrumentation.grpc import _aio_client

    return [
        _aio_client.UnaryStreamAioClientInterceptor(
            trace.get_tracer("omni.grpc"), filter_=_not_health()
        )
    ]


# Proxies: each resolves to the process's tracer provider once it is
# installed (a get_tracer per call cost ~17 us, once per statement and call).
_grpc_tracer = trace.get_tracer("omni.grpc")
SQL_TRACER = trace.get_tracer("omni.sql")


def client_span(method: str, provider: trace.TracerProvider | None = None) -> trace.Span | None:
    """A CLIENT span for one unary call of `method`, child of the current span,
    named and attributed as opentelemetry-instrumentation-grpc's; None for
    health probes. End it with `end_client_span`."""
    if method.startswith(_HEALTH_PREFIX):
        return None
    service, _, name = method.lstrip("/").partition("/")
    tracer = _grpc_tracer if provider is None else provider.get_tracer("omni.grpc")
    return tracer.start_span(
        method,
        kind=SpanKind.CLIENT,
        attributes={
            "rpc.system": "grpc",
            "rpc.service": service,
            "rpc.method": name,
            "rpc.grpc.status_code": 0,
        },
    )


def trace_headers(span: trace.Span) -> list[tuple[str, str]]:
    """traceparent (and the current baggage) naming `span` as the caller."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return list(carrier.items())


def end_client_span(span: trace.Span, code: grpc.StatusCode, details: str) -> None:
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code != grpc.StatusCode.OK:
        span.set_status(Status(StatusCode.ERROR, details))
    span.end()


def sql_span_details(statement: str, database: str) -> tuple[str, dict[str, str]]:
    """A statement's client span: its name and attributes (the SQL text with
    placeholders, never the values). SQLAlchemy's statements (`trace_sql`) and
    plain asyncpg's (plain_sql.sql_span) are described alike."""
    operation = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "SQL"
    attributes = {
        "db.system": "postgresql",
        "db.name": database,
        "db.operation": operation,
        "db.statement": statement,
    }
    return f"{operation} {database}", attributes


def trace_sql(engine: AsyncEngine) -> None:
    """A client span per statement: the SQL text with placeholders, never the values.

    (opentelemetry-instrumentation-sqlalchemy pins SQLAlchemy < 2.1 and an older
    SDK, so these few event hooks stand in for it.)"""
    from sqlalchemy import event

    sync_engine = engine.sync_engine
    database = sync_engine.url.database or ""

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _started(
        connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if context is None:
            return
        name, attributes = sql_span_details(statement, database)
        span = SQL_TRACER.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        context._omni_span = span

    @event.listens_for(sync_engine, "after_cursor_execute")
    def _finished(
        connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        span = getattr(context, "_omni_span", None)
        if span is not None:
            span.end()
            context._omni_span = None

    @event.listens_for(sync_engine, "handle_error")
    def _failed(exception_context: Any) -> None:
        context = exception_context.execution_context
        span = getattr(context, "_omni_span", None)
        if span is not None:
            error_type = type(exception_context.original_exception).__name__
            span.set_status(Status(StatusCode.ERROR, error_type))
            span.end()
            context._omni_span = None


def order_id_of_workflow(workflow_id: str) -> str:
    return workflow_id.removeprefix("order-") if workflow_id.startswith("order-") else ""


def temporal_interceptors() -> list[Any]:
    """The worker's interceptors: Temporal's OpenTelemetry spans (start,
    update, workflow, each activity) plus the order id on every activity.
    A process that is only a client uses temporal_client_tracing instead."""
    import temporalio.client
    import temporalio.worker
    from temporalio import activity
    from temporalio.contrib.opentelemetry import TracingInterceptor

    class _OrderActivityInbound(temporalio.worker.ActivityInboundInterceptor):
        async def execute_activity(self, input: temporalio.worker.ExecuteActivityInput) -> Any:
            order_id = order_id_of_workflow(activity.info().workflow_id or "")
            if not order_id:
                return await self.next.execute_activity(input)
            # The services the activity calls learn the order id too.
            with carrying_order_id(order_id):
                return await self.next.execute_activity(input)

    # Also a client interceptor (a no-op one), so the list goes to Client.connect
    # and the worker inherits it from the client.
    class _OrderInterceptor(temporalio.client.Interceptor, temporalio.worker.Interceptor):
        def intercept_activity(
            self, next: temporalio.worker.ActivityInboundInterceptor
        ) -> temporalio.worker.ActivityInboundInterceptor:
            return _OrderActivityInbound(next)

    return [TracingInterceptor(trace.get_tracer("omni.temporal")), _OrderInterceptor()]
