"""Readiness follows the database; spans and log lines carry business keys, not people."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from grpc_health.v1 import health, health_pb2
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from omni.orders.v1 import orders_pb2
from omni.words import Channel, OrderStatus
from services.common.logs import JsonFormatter
from services.common.server import _watch_database
from services.common.settings import ServiceSettings
from services.common.telemetry import (
    ORDER_ID,
    JsonLinesSpanExporter,
    keys_of,
    linked_once_known,
    span_linked_to,
    tag_span,
)


class SwitchableDatabase:
    """Answers pings while `reachable`; the health logic under test is real."""

    def __init__(self) -> None:
        self.reachable = True

    async def ping(self) -> None:
        if not self.reachable:
            raise ConnectionRefusedError("database down")


async def _status(servicer: health.aio.HealthServicer, name: str) -> int:
    reply = await servicer.Check(health_pb2.HealthCheckRequest(service=name), None)
    return int(reply.status)


async def _wait_for(servicer: health.aio.HealthServicer, name: str, status: int) -> None:
    deadline = time.monotonic() + 5
    while await _status(servicer, name) != status:
        assert time.monotonic() < deadline, f"{name!r} never became {status}"
        await asyncio.sleep(0.01)


async def test_readiness_follows_the_database_and_liveness_does_not() -> None:
    servicer = health.aio.HealthServicer()
    names = ["", "omni.orders.v1.OrdersService"]
    for name in [*names, "omni.liveness"]:
        await servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    database = SwitchableDatabase()
    settings = ServiceSettings(
        database_url="postgresql://unused/db", grpc_port=1, db_check_interval_seconds=0.01
    )
    watch = asyncio.create_task(_watch_database(database, servicer, names, settings))  # type: ignore[arg-type]
    try:
        database.reachable = False
        for name in names:
            await _wait_for(servicer, name, health_pb2.HealthCheckResponse.NOT_SERVING)
        assert await _status(servicer, "omni.liveness") == health_pb2.HealthCheckResponse.SERVING
        database.reachable = True
        for name in names:
            await _wait_for(servicer, name, health_pb2.HealthCheckResponse.SERVING)
    finally:
        watch.cancel()


def test_business_keys_come_from_requests_and_nested_messages() -> None:
    request = orders_pb2.PlaceOrderRequest(
        channel=Channel.WEB.to_proto(), store_id="S1", customer_id="cus_1"
    )
    assert keys_of(request) == {"omni.channel": "web", "omni.store_id": "S1"}
    progress = orders_pb2.RecordOrderProgressRequest(
        order_id="ord_1", status=OrderStatus.PLACED.to_proto()
    )
    assert keys_of(progress) == {ORDER_ID: "ord_1"}


def test_jsonl_spans_link_and_log_lines_carry_ids(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesSpanExporter(path)))
    tracer = provider.get_tracer("test")
    formatter = JsonFormatter("test")

    with tracer.start_as_current_span("place") as placed:
        context = placed.get_span_context()
        traceparent = f"00-{context.trace_id:032x}-{context.span_id:016x}-01"
    with tracer.start_as_current_span("request"):
        with span_linked_to("order.pick", traceparent, {ORDER_ID: "ord_9"}):
            tag_span(order_id="ord_9")
            record = logging.LogRecord("t", logging.INFO, __file__, 1, "picked", None, None)
            line = json.loads(formatter.format(record))
    assert line["order_id"] == "ord_9"
    assert len(line["trace_id"]) == 32 and len(line["span_id"]) == 16

    spans = [json.loads(raw) for raw in path.read_text().splitlines()]
    assert [s["name"] for s in spans] == ["place", "request"]
    assert spans[0]["trace_id"] == f"{context.trace_id:032x}"
    assert spans[1]["trace_id"] != spans[0]["trace_id"]


def test_the_jsonl_exporter_appends_across_exports_and_after_shutdown(tmp_path: Path) -> None:
    """The file stays open between exports; shutdown closes it and a later
    export opens it again, appending (never truncating) what was there."""
    path = tmp_path / "spans" / "traces.jsonl"
    path.parent.mkdir()
    path.write_text('{"name": "earlier"}\n')
    exporter = JsonLinesSpanExporter(path)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("first"):
        pass
    exporter.shutdown()
    exporter.shutdown()  # twice is harmless
    with tracer.start_as_current_span("second"):
        pass
    names = [json.loads(raw)["name"] for raw in path.read_text().splitlines()]
    assert names == ["earlier", "first", "second"]


def _traceparent_of(span: Any) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-01"


async def test_a_store_action_reads_the_placing_trace_while_it_runs() -> None:
    """The lookup and the work are in flight together: the lookup answers
    only once the work has begun (one after the other, it waits it out)."""
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("place") as placed:
        placing = _traceparent_of(placed)
    work_begun = asyncio.Event()

    async def lookup() -> str:
        await asyncio.wait_for(work_begun.wait(), 5)
        return placing

    async def work() -> str:
        work_begun.set()
        await asyncio.sleep(0)
        return "picked"

    with tracer.start_as_current_span("order.pick") as span:
        assert await linked_once_known(span, lookup(), work()) == "picked"
    assert isinstance(span, ReadableSpan)
    assert [link.context.span_id for link in span.links] == [placed.get_span_context().span_id]


async def test_a_failed_action_is_still_linked_and_its_error_raised() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("place") as placed:
        placing = _traceparent_of(placed)

    async def lookup() -> str:
        return placing

    async def refused() -> str:
        raise LookupError("the pickup code does not match")

    with tracer.start_as_current_span("order.handover") as span:
        with pytest.raises(LookupError):
            await linked_once_known(span, lookup(), refused())
    assert isinstance(span, ReadableSpan)
    assert len(span.links) == 1


async def test_an_unknown_placing_trace_links_nothing() -> None:
    tracer = TracerProvider().get_tracer("test")

    async def lookup() -> str:
        return ""

    async def work() -> int:
        return 1

    with tracer.start_as_current_span("order.pick") as span:
        assert await linked_once_known(span, lookup(), work()) == 1
    assert isinstance(span, ReadableSpan)
    assert list(span.links) == []


async def test_a_cancelled_action_stops_its_lookup() -> None:
    tracer = TracerProvider().get_tracer("test")
    lookup_cancelled = asyncio.Event()
    never = asyncio.Event()

    async def lookup() -> str:
        try:
            await never.wait()
        except asyncio.CancelledError:
            lookup_cancelled.set()
            raise
        return ""

    async def work() -> None:
        await never.wait()

    with tracer.start_as_current_span("order.pick") as span:
        action = asyncio.ensure_future(linked_once_known(span, lookup(), work()))
        await asyncio.sleep(0)
        action.cancel()
        with pytest.raises(asyncio.CancelledError):
            await action
    await asyncio.wait_for(lookup_cancelled.wait(), 5)
