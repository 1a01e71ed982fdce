"""Temporal client spans for processes that only start and update workflows.

The orders service is a Temporal client, not a worker. Temporal's
`TracingInterceptor` (temporalio.contrib.opentelemetry) serves both sides, so
importing it loads the whole worker machinery (worker, sandbox, replayer,
pydantic, multiprocessing): ~5.6 MiB of the client's resident memory that a
client never runs (measured: RssAnon after importing temporalio.client, then
the contrib). This interceptor does the client half the same way: the same
span names ("StartWorkflow:BopisWorkflow", "StartWorkflowUpdate:pick", ...),
and the trace context in the same `_tracer-data` header (a JSON payload of
the W3C trace-context and baggage carrier), which the worker's
TracingInterceptor reads to parent the workflow's and activities' spans.
`tests/e2e/test_tracing.py` follows one order from the gateway through these
spans into the worker's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import temporalio.client
import temporalio.converter
from opentelemetry import trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio.api.common.v1 import Payload

# What the worker's TracingInterceptor reads (temporalio.contrib.opentelemetry).
HEADER_KEY = "_tracer-data"
_PROPAGATOR = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
_tracer = trace.get_tracer("omni.temporal")


def with_trace_context(headers: Mapping[str, Payload]) -> Mapping[str, Payload]:
    """`headers` with the current trace context added (unchanged when none)."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    if not carrier:
        return headers
    payload = temporalio.converter.PayloadConverter.default.to_payloads([carrier])[0]
    return {**headers, HEADER_KEY: payload}


@contextmanager
def _client_span(name: str, attributes: dict[str, str]) -> Iterator[None]:
    with _tracer.start_as_current_span(
        name, kind=SpanKind.CLIENT, attributes=attributes, set_status_on_exception=False
    ) as span:
        try:
            yield
        except Exception as error:
            span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__}: {error}"))
            raise


class _Outbound(temporalio.client.OutboundInterceptor):
    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        prefix = "SignalWithStartWorkflow" if input.start_signal else "StartWorkflow"
        with _client_span(f"{prefix}:{input.workflow}", {"temporalWorkflowID": input.id}):
            input.headers = with_trace_context(input.headers)
            return await super().start_workflow(input)

    async def query_workflow(self, input: temporalio.client.QueryWorkflowInput) -> Any:
        with _client_span(f"QueryWorkflow:{input.query}", {"temporalWorkflowID": input.id}):
            input.headers = with_trace_context(input.headers)
            return await super().query_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        with _client_span(f"SignalWorkflow:{input.signal}", {"temporalWorkflowID": input.id}):
            input.headers = with_trace_context(input.headers)
            return await super().signal_workflow(input)

    async def start_workflow_update(
        self, input: temporalio.client.StartWorkflowUpdateInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        name = f"StartWorkflowUpdate:{input.update}"
        with _client_span(name, {"temporalWorkflowID": input.id}):
            input.headers = with_trace_context(input.headers)
            return await super().start_workflow_update(input)

    async def start_update_with_start_workflow(
        self, input: temporalio.client.StartWorkflowUpdateWithStartInput
    ) -> temporalio.client.WorkflowUpdateHandle[Any]:
        start, update = input.start_workflow_input, input.update_workflow_input
        attributes = {"temporalWorkflowID": start.id}
        if update.update_id is not None:
            attributes["temporalUpdateID"] = update.update_id
        with _client_span(f"StartUpdateWithStartWorkflow:{start.workflow}", attributes):
            start.headers = with_trace_context(start.headers)
            if HEADER_KEY in start.headers:
                update.headers = {**update.headers, HEADER_KEY: start.headers[HEADER_KEY]}
            return await super().start_update_with_start_workflow(input)


class ClientTracing(temporalio.client.Interceptor):
    """Pass as `interceptors=[ClientTracing()]` to Client.connect (clients only)."""

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _Outbound(next)
