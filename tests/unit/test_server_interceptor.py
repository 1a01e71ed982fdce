"""The one interceptor every service runs (services/common/server.service_interceptor)
on an in-process server: the server span as the caller's trace continues it,
domain errors as statuses, metrics, identity and the card-number guard, each
still doing its job when composed once per method."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from opentelemetry import baggage, propagate, trace
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common.access import AccessTable, allow
from services.common.channels import open_channel
from services.common.errors import NotFound
from services.common.identity import KEY_ENV, CallerIdentity, Role, always, current_caller
from services.common.server import service_interceptor
from services.common.telemetry import ORDER_ID, ServerSpans
from tests.support.identity import TEST_IDENTITY_KEY, trusted_channel

SERVICE = "omni.inventory.v1.InventoryService"
METHOD = f"/{SERVICE}/GetLocation"
ALICE = CallerIdentity("alice", Role.CUSTOMER, customer_id="C-A", channel="web")
INVENTORY = inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"]


class _Locations(inventory_pb2_grpc.InventoryServiceServicer):
    """Answers with the caller's name; "missing" is NotFound, "boom" a crash."""

    def __init__(self) -> None:
        self.calls = 0

    async def GetLocation(self, request: Any, context: Any) -> Any:
        self.calls += 1
        if request.location_id == "missing":
            raise NotFound("no such location", resource_type="location", ids=["missing"])
        if request.location_id == "boom":
            raise RuntimeError("a bug")
        return inventory_pb2.GetLocationResponse(
            location=inventory_pb2.Location(
                location_id=request.location_id, name=current_caller().sub
            )
        )

    async def WatchAvailability(self, request: Any, context: Any) -> AsyncIterator[Any]:
        yield inventory_pb2.WatchAvailabilityResponse()
        raise NotFound("gone", resource_type="location", ids=["L1"])


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
async def served(exporter: InMemorySpanExporter) -> AsyncIterator[tuple[str, _Locations]]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    table = AccessTable(
        INVENTORY,
        {"GetLocation": allow(Role.CUSTOMER), "WatchAvailability": allow(Role.CUSTOMER)},
    )
    interceptor = service_interceptor(
        table, (TEST_IDENTITY_KEY.encode(),), spans=ServerSpans(provider)
    )
    server = grpc.aio.server(interceptors=[interceptor])
    servicer = _Locations()
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}", servicer
    finally:
        await server.stop(None)


def _server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [s for s in exporter.get_finished_spans() if s.kind == SpanKind.SERVER]


def _count(code: str, method: str = "GetLocation") -> float:
    labels = {"grpc_service": SERVICE, "grpc_method": method, "grpc_code": code}
    return REGISTRY.get_sample_value("omni_rpc_server_duration_seconds_count", labels) or 0.0


@pytest.fixture
def client_span() -> Iterator[trace.SpanContext]:
    """A caller's span and baggage, as the gateway's would be."""
    span = TracerProvider().get_tracer("caller").start_span("caller")
    parent = trace.set_span_in_context(span)
    token = otel_context.attach(baggage.set_baggage(ORDER_ID, "ord_7", parent))
    try:
        yield span.get_span_context()
    finally:
        otel_context.detach(token)


def _propagated() -> tuple[tuple[str, str], ...]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return tuple(carrier.items())


async def test_a_call_is_one_server_span_continuing_the_callers_trace(
    served: tuple[str, _Locations],
    exporter: InMemorySpanExporter,
    client_span: trace.SpanContext,
) -> None:
    address, _ = served
    before = _count("OK")
    async with trusted_channel(address, ALICE) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        for _ in range(2):
            reply = await stub.GetLocation(
                inventory_pb2.GetLocationRequest(location_id="L1"), metadata=_propagated()
            )
            assert reply.location.name == "alice"
    spans = _server_spans(exporter)
    assert len(spans) == 2
    span = spans[0]
    assert span.name == METHOD
    assert span.parent is not None and span.parent.span_id == client_span.span_id
    context = span.get_span_context()
    assert context is not None and context.trace_id == client_span.trace_id
    attributes = dict(span.attributes or {})
    assert attributes["rpc.system"] == "grpc"
    assert attributes["rpc.service"] == SERVICE
    assert attributes["rpc.method"] == "GetLocation"
    assert attributes["rpc.grpc.status_code"] == 0
    assert attributes["net.peer.ip"] == "127.0.0.1"
    # The order id came as baggage (the request has none) and tags the span.
    assert attributes[ORDER_ID] == "ord_7"
    assert span.status.status_code == StatusCode.UNSET
    assert _count("OK") == before + 2


async def test_refusals_and_crashes_keep_their_status_span_and_metric(
    served: tuple[str, _Locations], exporter: InMemorySpanExporter
) -> None:
    address, _ = served
    not_found, crashes = _count("NOT_FOUND"), _count("UNKNOWN")
    async with trusted_channel(address, ALICE) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetLocation(inventory_pb2.GetLocationRequest(location_id="missing"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
        assert missing.value.details() == "no such location"
        with pytest.raises(grpc.aio.AioRpcError) as crashed:
            await stub.GetLocation(inventory_pb2.GetLocationRequest(location_id="boom"))
        assert crashed.value.code() == grpc.StatusCode.INTERNAL
        assert crashed.value.details() == "internal error"
        stream = stub.WatchAvailability(inventory_pb2.WatchAvailabilityRequest())
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            _ = [m async for m in stream]
        assert ended.value.code() == grpc.StatusCode.NOT_FOUND
    refused, failed, watched = _server_spans(exporter)
    # A refusal is an answer, not a server failure; a crash is.
    assert dict(refused.attributes or {})["rpc.grpc.status_code"] == 5
    assert refused.status.status_code == StatusCode.UNSET
    assert dict(failed.attributes or {})["rpc.grpc.status_code"] == 13
    assert failed.status.status_code == StatusCode.ERROR
    assert watched.name == f"/{SERVICE}/WatchAvailability"
    assert dict(watched.attributes or {})["rpc.grpc.status_code"] == 5
    assert _count("NOT_FOUND") == not_found + 1
    # Metrics sit inside the error mapping: a crash counts as UNKNOWN there.
    assert _count("UNKNOWN") == crashes + 1


async def test_no_identity_or_a_card_number_is_refused_before_the_servicer_runs(
    served: tuple[str, _Locations], exporter: InMemorySpanExporter
) -> None:
    address, servicer = served
    async with grpc.aio.insecure_channel(address) as plain:
        stub = inventory_pb2_grpc.InventoryServiceStub(plain)
        with pytest.raises(grpc.aio.AioRpcError) as anonymous:
            await stub.GetLocation(inventory_pb2.GetLocationRequest(location_id="L1"))
        assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    async with trusted_channel(address, ALICE) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as pan:
            await stub.GetLocation(
                inventory_pb2.GetLocationRequest(location_id="4111 1111 1111 1111")
            )
        assert pan.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert servicer.calls == 0
    codes = [dict(s.attributes or {})["rpc.grpc.status_code"] for s in _server_spans(exporter)]
    assert codes == [16, 3]


async def test_health_probes_make_no_spans(
    served: tuple[str, _Locations], exporter: InMemorySpanExporter
) -> None:
    address, _ = served
    async with grpc.aio.insecure_channel(address) as plain:
        reply = await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest())
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    assert _server_spans(exporter) == []


async def test_a_channels_call_is_a_client_span_the_server_span_continues(
    served: tuple[str, _Locations],
    exporter: InMemorySpanExporter,
    client_span: trace.SpanContext,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """open_channel's one unary interceptor: client span, trace context and
    baggage, and the signed caller, all on the same call."""
    address, _ = served
    monkeypatch.setenv(KEY_ENV, TEST_IDENTITY_KEY)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with open_channel(address, always(ALICE), tracer_provider=provider) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        reply = await stub.GetLocation(inventory_pb2.GetLocationRequest(location_id="L1"))
        assert reply.location.name == "alice"
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetLocation(inventory_pb2.GetLocationRequest(location_id="missing"))
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    finished = exporter.get_finished_spans()
    clients = [s for s in finished if s.kind == SpanKind.CLIENT]
    servers = _server_spans(exporter)
    assert [c.name for c in clients] == [METHOD, METHOD]
    for client, server in zip(clients, servers, strict=True):
        assert client.parent is not None and client.parent.span_id == client_span.span_id
        client_context = client.get_span_context()
        assert client_context is not None
        assert server.parent is not None and server.parent.span_id == client_context.span_id
        assert dict(server.attributes or {})[ORDER_ID] == "ord_7"
    ok, refused = clients
    assert dict(ok.attributes or {})["rpc.grpc.status_code"] == 0
    assert ok.status.status_code == StatusCode.UNSET
    assert dict(refused.attributes or {})["rpc.grpc.status_code"] == 5
    assert refused.status.status_code == StatusCode.ERROR
