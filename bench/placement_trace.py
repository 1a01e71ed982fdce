"""`placement-trace`: where one placement's time goes, from its trace.

Places BENCH_TRACE_ORDERS pickup orders one at a time on the whole stack and
reads every process's spans from the stack's `traces.jsonl`: for each span of
the synchronous path (and the journey's first steps after the answer), the
median start relative to the gateway's request span and the median duration.
A profile, not a goal: it says which step the idle p50 of `placement` is made
of, so the next cut is chosen from figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.http_pool import spread_client
from bench.results import record
from bench.stack_scenarios import Shop, stack_home, whole_stack

ORDERS = int(os.environ.get("BENCH_TRACE_ORDERS", "40"))
WARM_UP_ORDERS = 5
Span = dict[str, Any]


async def _place_one_at_a_time(shop: Shop, count: int) -> tuple[list[str], list[float]]:
    """The trace ids and client latencies of `count` orders after a warm-up."""
    await shop.open(8)
    sku = await shop.product(10_000)
    trace_ids: list[str] = []
    latencies: list[float] = []
    for n in range(WARM_UP_ORDERS + count):
        began = time.perf_counter()
        response = await shop.order(sku, n)
        if response.status_code != 201:
            raise RuntimeError(f"placement answered {response.status_code}: {response.text}")
        if n >= WARM_UP_ORDERS:
            latencies.append(time.perf_counter() - began)
            trace_ids.append(response.headers["traceparent"].split("-")[1])
    return trace_ids, latencies


def _read_spans(path: Path) -> dict[str, list[Span]]:
    by_trace: dict[str, list[Span]] = defaultdict(list)
    for line in path.read_text().splitlines():
        if line.strip():
            span = json.loads(line)
            by_trace[span["trace_id"]].append(span)
    return by_trace


def _breakdown(by_trace: dict[str, list[Span]], trace_ids: list[str]) -> list[dict[str, Any]]:
    """Per span (service, name, nth of that name in its trace): median start
    after the gateway's request began and median duration, in ms."""
    starts: dict[str, list[float]] = defaultdict(list)
    durations: dict[str, list[float]] = defaultdict(list)
    for trace_id in trace_ids:
        spans = by_trace.get(trace_id, [])
        roots = [s for s in spans if s["service"] == "omni-gateway" and not s["parent_span_id"]]
        if not roots:
            continue
        began = roots[0]["start_ns"]
        seen: dict[str, int] = defaultdict(int)
        for span in sorted(spans, key=lambda s: s["start_ns"]):
            name = f"{span['service']} {span['name']}"
            seen[name] += 1
            key = f"{name} #{seen[name]}"
            starts[key].append((span["start_ns"] - began) / 1e6)
            durations[key].append((span["end_ns"] - span["start_ns"]) / 1e6)
    rows = [
        {
            "span": key,
            "start_ms": round(statistics.median(starts[key]), 2),
            "duration_ms": round(statistics.median(durations[key]), 2),
            "traces": len(starts[key]),
        }
        for key in starts
    ]
    return sorted(rows, key=lambda row: row["start_ms"])


def run(_home: object) -> bool:
    with stack_home() as home, whole_stack(home) as stack:

        async def place() -> tuple[list[str], list[float]]:
            async with spread_client(8) as http:
                return await _place_one_at_a_time(Shop(stack, http), ORDERS)

        trace_ids, latencies = asyncio.run(place())
        # The gateway writes its request span after the answer has gone out.
        deadline = time.monotonic() + 30
        by_trace = _read_spans(home / "traces.jsonl")
        while any(t not in by_trace for t in trace_ids) and time.monotonic() < deadline:
            time.sleep(0.2)
            by_trace = _read_spans(home / "traces.jsonl")
    rows = _breakdown(by_trace, trace_ids)
    p50 = statistics.median(latencies) * 1000
    print(f"placement-trace: {len(trace_ids)} pickup orders one at a time; client p50 {p50:.1f} ms")
    print(f"{'start ms':>9} {'took ms':>8}  span (median over traces)")
    for row in rows:
        print(f"{row['start_ms']:9.2f} {row['duration_ms']:8.2f}  {row['span']}")
    record(
        "placement-trace",
        {"orders": len(trace_ids), "client_p50_ms": round(p50, 1), "spans": rows},
    )
    return len(rows) > 0 and all(t in by_trace for t in trace_ids)
