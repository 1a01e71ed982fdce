"""The client-only Temporal tracing header is the one the worker's
TracingInterceptor reads: the workflow's spans keep the placement as parent."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import INVALID_SPAN, get_current_span
from temporalio.contrib.opentelemetry import TracingInterceptor

from services.common.temporal_client_tracing import HEADER_KEY, with_trace_context


def test_the_worker_side_reads_the_client_header_as_its_parent() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("PlaceOrder") as placing:
        headers = with_trace_context({})
    assert set(headers) == {HEADER_KEY}
    context = TracingInterceptor()._context_from_headers(headers)
    assert context is not None
    parent = get_current_span(context).get_span_context()
    assert parent.trace_id == placing.get_span_context().trace_id
    assert parent.span_id == placing.get_span_context().span_id


def test_without_a_span_the_headers_are_left_alone() -> None:
    assert with_trace_context({}) == {}
    assert get_current_span() is INVALID_SPAN
