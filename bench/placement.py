"""`placement`: POST /v1/orders through the gateway on the real stack, beside
the bare-Temporal floors measured in the same run on the same dev server.

Omni: p50/p99 with one order in flight, then orders/s and p50/p99 sustained at
4, 8 and 32 in flight (BENCH_SECONDS each, default 60; BENCH_CONCURRENCY, e.g.
"4,8", to run fewer levels). Two placement paths (BENCH_PLACEMENT_PATHS,
default both, each on its own stack): `orders` (the orders service holds,
authorizes and starts the journey: services/orders/placement.py) and
`journey` (PLACEMENT_BY_ORDERS=false: the journey's `place` update reserves and
authorizes, the path before issue 10). Floors, on the first path's stack: a
bare workflow whose update-with-start runs K trivial activities (K=6 regular,
the shape placement had; K=2 local), and a bare start (no update) of a
workflow that then runs one local activity, the Temporal share of the
`orders` path. CPU milliseconds per placement of the Temporal server, the
worker, orders and the gateway come from /proc over the sustained runs.
Every order must answer 201 (the stock is ample); anything else counts as
failed and makes the scenario fail.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio.client import Client

from bench.floor_workflow import FloorInput, place, start_only
from bench.load import Outcome, drive
from bench.processes import running
from bench.results import record
from stack.harness import StackProcess, stack_env, start_stack, stop_stack, token

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
IDLE_ORDERS = int(os.environ.get("BENCH_IDLE_ORDERS", "40"))
CONCURRENCY = tuple(int(n) for n in os.environ.get("BENCH_CONCURRENCY", "4,8,32").split(","))
# BENCH_FLOORS=0: Omni only (e.g. comparing WORKFLOW_SANDBOX settings).
FLOORS = os.environ.get("BENCH_FLOORS", "1") != "0"
PATHS = tuple(os.environ.get("BENCH_PLACEMENT_PATHS", "orders,journey").split(","))
# The goals of issue 10 (2-core machine).
GOAL_P50_IDLE_MS = 60.0
GOAL_P99_AT_4_MS = 150.0
GOAL_PER_SECOND_AT_8 = 15.0
POINT = (40.7306, -73.9866)


async def _sequential(count: int, operation: Callable[[], Awaitable[bool]]) -> Outcome:
    outcome = Outcome(0.0)
    started = time.monotonic()
    for _ in range(count):
        began = time.perf_counter()
        try:
            await operation()
        except Exception:
            outcome.failed += 1
            continue
        outcome.latencies.append(time.perf_counter() - began)
        outcome.succeeded += 1
    outcome.seconds = time.monotonic() - started
    return outcome


class _Cpu:
    """CPU seconds spent by named processes between two readings."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self.processes = processes
        self.start = self._read()

    def _read(self) -> dict[str, float]:
        totals = {}
        for name, process in self.processes.items():
            times = process.cpu_times()
            totals[name] = times.user + times.system
        return totals

    def per(self, count: int) -> dict[str, float]:
        now = self._read()
        return {
            f"{name}_cpu_ms": round((now[name] - self.start[name]) * 1000 / max(count, 1), 1)
            for name in now
        }


def _named_children(stack: StackProcess) -> dict[str, psutil.Process]:
    named: dict[str, psutil.Process] = {}
    for child in stack.children:
        try:
            line = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "server start-dev" in line:
            named["temporal"] = child
        elif "workflows.worker" in line:
            named["worker"] = child
        elif "services.orders.main" in line:
            named["orders"] = child
        elif "services.gateway.main" in line:
            named["gateway"] = child
    return named


class _Shop:
    """One location and SKU with ample stock, and a customer per caller."""

    def __init__(self, stack: StackProcess, http: httpx.AsyncClient) -> None:
        self.base = stack.gateway_url
        self.http = http
        self.admin = {"Authorization": f"Bearer {token('admin')}"}
        self.location_id = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
        self.sku = f"SKU-BENCH-{uuid.uuid4().hex[:6].upper()}"
        self.customers: list[tuple[str, str]] = []

    async def _post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
        response = await self.http.post(
            self.base + path,
            json=body,
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{path}: {response.status_code} {response.text}")
        return response.json()

    async def open(self, callers: int) -> None:
        await self._post(
            "/v1/locations",
            {
                "location_id": self.location_id,
                "name": "Bench store",
                "kind": "store",
                "lat": POINT[0],
                "lon": POINT[1],
                "pickup_enabled": True,
                "ship_from_enabled": True,
                "daily_order_capacity": 1_000_000,
                "pickup_window_hours": 72,
                "pick_sla_minutes": 120,
            },
            self.admin,
        )
        await self._post(
            "/v1/products",
            {
                "sku": self.sku,
                "name": "Bench mug",
                "price": {"amount_minor": 1250, "currency": "USD"},
                "returnable_days": 30,
            },
            self.admin,
        )
        await self._post(
            "/v1/inventory/adjustments",
            {"location_id": self.location_id, "sku": self.sku, "delta": 10_000_000,
             "reason": "receipt"},
            self.admin,
        )  # fmt: skip
        guest = {"Authorization": f"Bearer {token('guest', channel='web')}"}
        for n in range(callers):
            email = f"bench-{uuid.uuid4().hex[:10]}@example.com"
            body = await self._post(
                "/v1/customers", {"email": email, "phone": "", "name": f"Bench {n}"}, guest
            )
            customer_id = body["customer_id"]
            bearer = token("customer", customer_id=customer_id, channel="web")
            self.customers.append((customer_id, bearer))

    def orderer(self, index: int) -> Callable[[], Awaitable[bool]]:
        customer_id, bearer = self.customers[index % len(self.customers)]

        async def order() -> bool:
            response = await self.http.post(
                self.base + "/v1/orders",
                json={
                    "customer_id": customer_id,
                    "channel": "web",
                    "lines": [{"sku": self.sku, "quantity": 1}],
                    "fulfillment": {"type": "pickup", "location_id": self.location_id},
                    "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
                },
                headers={
                    "Authorization": f"Bearer {bearer}",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            if response.status_code != 201:
                raise RuntimeError(f"{response.status_code} {response.text[:200]}")
            return True

        return order


async def _per_caller(callers: int, seconds: float, make: Callable[[int], Any]) -> Outcome:
    """`drive` with each caller using its own operation (its own customer)."""
    operations = [make(n) for n in range(callers)]
    turn = iter(range(10**9))

    async def operation() -> bool:
        result: bool = await operations[next(turn) % callers]()
        return result

    return await drive(callers, seconds, operation)


async def _measure_omni(stack: StackProcess) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        shop = _Shop(stack, http)
        await shop.open(max(CONCURRENCY))
        await _sequential(5, shop.orderer(0))  # warm every path once
        idle = await _sequential(IDLE_ORDERS, shop.orderer(0))
        figures: dict[str, Any] = {"idle": idle.figures()}
        processes = _named_children(stack)
        for callers in CONCURRENCY:
            cpu = _Cpu(processes)
            outcome = await _per_caller(callers, SECONDS, shop.orderer)
            figures[f"in_flight_{callers}"] = {
                **outcome.figures(),
                **cpu.per(outcome.succeeded),
            }
        return figures


async def _measure_floor(
    stack: StackProcess, activities: int, local: bool, *, started_only: bool = False
) -> dict[str, Any]:
    client = await Client.connect(stack.temporal_address)
    task_queue = f"floor-{uuid.uuid4().hex[:6]}"
    plan = FloorInput(activities=activities, local=local)
    env = {"TEMPORAL_ADDRESS": stack.temporal_address, "FLOOR_TASK_QUEUE": task_queue}
    log = stack.home / f"floor-{task_queue}.log"
    with running("bench.floor_workflow", env, log) as worker:
        deadline = time.monotonic() + 60
        while "ready" not in (log.read_text() if log.exists() else ""):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the floor worker did not start:\n" + log.read_text())
            await asyncio.sleep(0.1)

        async def one() -> bool:
            if started_only:
                await start_only(client, task_queue, f"floor-{uuid.uuid4().hex}", plan)
            else:
                await place(client, task_queue, f"floor-{uuid.uuid4().hex}", plan)
            return True

        await _sequential(5, one)
        idle = await _sequential(IDLE_ORDERS, one)
        figures: dict[str, Any] = {"idle": idle.figures()}
        processes = {
            "temporal": _named_children(stack)["temporal"],
            "worker": psutil.Process(worker.pid),
        }
        for callers in CONCURRENCY:
            cpu = _Cpu(processes)
            outcome = await drive(callers, SECONDS, one)
            figures[f"in_flight_{callers}"] = {
                **outcome.figures(),
                **cpu.per(outcome.succeeded),
            }
        return figures


def _ratio(omni: dict[str, Any], floor: dict[str, Any]) -> dict[str, float]:
    ratios = {}
    for level in (f"in_flight_{c}" for c in CONCURRENCY):
        if floor[level]["per_second"]:
            ratios[level] = round(omni[level]["per_second"] / floor[level]["per_second"], 2)
    return ratios


def _goals(omni: dict[str, Any]) -> dict[str, Any]:
    """Each goal with the figure it is judged on (None: that level was not run)."""
    at_4 = omni.get("in_flight_4", {}).get("p99_ms")
    at_8 = omni.get("in_flight_8", {}).get("per_second")
    return {
        "p50_idle_ms": [omni["idle"]["p50_ms"], omni["idle"]["p50_ms"] <= GOAL_P50_IDLE_MS],
        "p99_at_4_ms": [at_4, None if at_4 is None else at_4 < GOAL_P99_AT_4_MS],
        "per_second_at_8": [at_8, None if at_8 is None else at_8 >= GOAL_PER_SECOND_AT_8],
    }


def _on_stack(env: dict[str, str], measure: Callable[[StackProcess], Any]) -> Any:
    with tempfile.TemporaryDirectory(prefix="omni-bench-stack-") as directory:
        home = Path(directory)
        stack = start_stack(home, {**stack_env(home), **env})
        try:
            return measure(stack)
        finally:
            stop_stack(stack)


def run_on(stack: StackProcess, path: str = "orders", *, floors: bool = True) -> dict[str, Any]:
    figures: dict[str, Any] = {"omni": asyncio.run(_measure_omni(stack))}
    if floors:
        figures["floor_6_activities"] = asyncio.run(_measure_floor(stack, 6, local=False))
        figures["floor_2_local_activities"] = asyncio.run(_measure_floor(stack, 2, local=True))
        figures["floor_start_then_1_local"] = asyncio.run(
            _measure_floor(stack, 1, local=True, started_only=True)
        )
    return figures


def run(_home: object) -> bool:
    paths: dict[str, Any] = {}
    floors: dict[str, Any] = {}
    for n, path in enumerate(PATHS):
        env = {} if path == "orders" else {"PLACEMENT_BY_ORDERS": "false"}
        with_floors = FLOORS and n == 0

        def measure(stack: StackProcess, path: str = path, with_floors: bool = with_floors) -> Any:
            return run_on(stack, path, floors=with_floors)

        measured = _on_stack(env, measure)
        paths[path] = measured.pop("omni")
        floors.update(measured)
    body: dict[str, Any] = {
        "seconds_per_level": SECONDS,
        "concurrency": list(CONCURRENCY),
        # The first path's figures keep the key earlier records used.
        "omni": paths[PATHS[0]],
        "omni_path": PATHS[0],
        # How the worker ran workflow code (workflows/worker.py workflow_runner).
        "worker_sandbox": os.environ.get("WORKFLOW_SANDBOX", "unsandboxed"),
        **{f"omni_{path}_path": figures for path, figures in paths.items()},
        **floors,
        "goals": "p50 <= 60 ms idle, p99 < 150 ms at 4 in flight, >= 15/s at 8 in flight",
        "goals_met": {path: _goals(figures) for path, figures in paths.items()},
    }
    for name, floor in floors.items():
        for path, figures in paths.items():
            body[f"omni_{path}_over_{name}"] = _ratio(figures, floor)
    record("placement", body)
    failed = sum(
        v["failed"] for figures in paths.values() for v in figures.values() if isinstance(v, dict)
    )
    return failed == 0
