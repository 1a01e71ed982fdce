"""`bopis-journey` (issue 10): whole BOPIS journeys driven through the gateway
on the real stack — placed (POST /v1/orders), picked (POST
/v1/fulfillments/{id}/pick by an associate of the store), handed over with
the pickup code (POST .../handover, which answers once the payment is
captured) — beside the bare-Temporal floor measured in the same run on the
same dev server: a workflow started as the orders service starts a journey,
then one update per store action, each running as many trivial local and
regular activities as Omni's journey ran in that phase (counted from the
history of a journey just walked, so the floor follows the journey's shape).
A second floor also makes the journey's other commands, counted from the
same history: its patch markers (each with the TemporalChangeVersion upsert
the SDK adds), its own search attribute upserts and its timers. The goal is
judged on the bare floor; the second says how much of the gap is the
history the journey writes rather than the code around it.

Figures: journeys/s and p50/p99 of a whole journey at each level of
BENCH_JOURNEY_CONCURRENCY (default "1,8"; BENCH_SECONDS each, default 60),
CPU milliseconds per journey of the Temporal server, the worker, orders and
the gateway, and Omni's throughput over the floor's (goal >= 0.8). Every
step must answer 2xx; anything else counts as failed and fails the scenario.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import psutil
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.floor_workflow import JourneyPhase, JourneyPlan, journey
from bench.load import Outcome, drive
from bench.placement import _Cpu, _named_children, _Shop
from bench.processes import running
from bench.results import record
from bench.stack_scenarios import _process_cpu, cpu_ms_per
from stack.associates import registered_associate_token
from stack.harness import StackProcess, stack_env, start_stack, stop_stack

SECONDS = float(os.environ.get("BENCH_SECONDS", "60"))
CONCURRENCY = tuple(int(n) for n in os.environ.get("BENCH_JOURNEY_CONCURRENCY", "1,8").split(","))
GOAL_RATIO = 0.8
_LOCAL_MARKER = "core_local_activity"
_PATCH_MARKER = "core_patch"
_CHANGE_VERSION = "TemporalChangeVersion"


class _Journeys:
    """Walks BOPIS journeys through the gateway, each customer its own."""

    def __init__(self, shop: _Shop, associate: str) -> None:
        self.shop = shop
        self.associate = {"Authorization": f"Bearer {associate}"}
        self.order_ids: list[str] = []

    async def _send(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        response = await self.shop.http.request(
            method, self.shop.base + path, headers=headers, **kw
        )
        if response.status_code not in (200, 201):
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response.json()

    def walker(self, index: int) -> Callable[[], Awaitable[bool]]:
        customer_id, bearer = self.shop.customers[index % len(self.shop.customers)]
        customer = {"Authorization": f"Bearer {bearer}"}
        sku = self.shop.sku

        def keyed(headers: dict[str, str]) -> dict[str, str]:
            return {**headers, "Idempotency-Key": str(uuid.uuid4())}

        async def walk() -> bool:
            order = await self._send(
                "POST",
                "/v1/orders",
                keyed(customer),
                json={
                    "customer_id": customer_id,
                    "channel": "web",
                    "lines": [{"sku": sku, "quantity": 1}],
                    "fulfillment": {"type": "pickup", "location_id": self.shop.location_id},
                    "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
                },
            )
            order_id = order["order_id"]
            fulfillment_id = order["fulfillments"][0]["fulfillment_id"]
            await self._send(
                "POST",
                f"/v1/fulfillments/{fulfillment_id}/pick",
                keyed(self.associate),
                json={"lines": [{"sku": sku, "quantity_picked": 1}]},
            )
            shown = await self._send("GET", f"/v1/orders/{order_id}", customer)
            code = shown["fulfillments"][0]["pickup_code"]
            await self._send(
                "POST",
                f"/v1/fulfillments/{fulfillment_id}/handover",
                keyed(self.associate),
                json={"pickup_code": code},
            )
            self.order_ids.append(order_id)
            return True

        return walk


async def _plan_of(client: Client, workflow_id: str) -> JourneyPlan:
    """The phases of one walked journey: local (marker) and regular activities
    scheduled before the first update and after each update was accepted (and
    how the regular ones went out: those one workflow task scheduled ran side
    by side), and
    its other commands: patch markers, its own search attribute upserts (not
    the TemporalChangeVersion one the SDK adds to each patch), timers."""
    history = await client.get_workflow_handle(workflow_id).fetch_history()
    phases = [JourneyPhase(0, 0)]
    # Per phase: workflow task -> activities it made (what ran side by side).
    regular_rounds: list[Counter[int]] = [Counter()]
    for event in history.events:
        kind = event.event_type
        if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            phases.append(JourneyPhase(0, 0))
            regular_rounds.append(Counter())
        elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            phases[-1].regular += 1
            scheduled = event.activity_task_scheduled_event_attributes
            regular_rounds[-1][scheduled.workflow_task_completed_event_id] += 1
        elif kind == EventType.EVENT_TYPE_MARKER_RECORDED:
            marker = event.marker_recorded_event_attributes.marker_name
            if marker == _LOCAL_MARKER:
                phases[-1].local += 1
            elif marker == _PATCH_MARKER:
                phases[-1].patches += 1
        elif kind == EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            fields = event.upsert_workflow_search_attributes_event_attributes.search_attributes
            if _CHANGE_VERSION not in fields.indexed_fields:
                phases[-1].upserts += 1
        elif kind == EventType.EVENT_TYPE_TIMER_STARTED:
            phases[-1].timers += 1
    for phase, regular in zip(phases, regular_rounds, strict=True):
        phase.regular_rounds = [regular[task] for task in sorted(regular)]
    return JourneyPlan(phases)


async def _per_caller(callers: int, seconds: float, make: Callable[[int], Any]) -> Outcome:
    operations = [make(n) for n in range(callers)]
    turn = iter(range(10**9))

    async def operation() -> bool:
        result: bool = await operations[next(turn) % callers]()
        return result

    return await drive(callers, seconds, operation)


async def _measure_omni(stack: StackProcess) -> tuple[dict[str, Any], JourneyPlan]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:
        shop = _Shop(stack, http)
        await shop.open(max(CONCURRENCY))
        associate = await asyncio.to_thread(
            registered_associate_token, stack.gateway_url, shop.location_id
        )
        journeys = _Journeys(shop, associate)
        for _ in range(3):  # warm every path once
            await journeys.walker(0)()
        client = await Client.connect(stack.temporal_address)
        plan = await _plan_of(client, f"order-{journeys.order_ids[-1]}")
        figures: dict[str, Any] = {}
        processes = _named_children(stack)
        for callers in CONCURRENCY:
            cpu = _Cpu(processes)
            every = _process_cpu(stack)
            outcome = await _per_caller(callers, SECONDS, journeys.walker)
            figures[f"in_flight_{callers}"] = {
                **outcome.figures(),
                **cpu.per(outcome.succeeded),
                # every process of the stack (PostgreSQL, customers, payments, inventory too)
                "cpu_ms_per_journey": cpu_ms_per(stack, every, outcome.succeeded),
            }
        return figures, plan


async def _measure_floor(stack: StackProcess, plan: JourneyPlan) -> dict[str, Any]:
    client = await Client.connect(stack.temporal_address)
    task_queue = f"floor-journey-{uuid.uuid4().hex[:6]}"
    env = {"TEMPORAL_ADDRESS": stack.temporal_address, "FLOOR_TASK_QUEUE": task_queue}
    log = stack.home / f"floor-{task_queue}.log"
    with running("bench.floor_workflow", env, log) as worker:
        deadline = time.monotonic() + 60
        while "ready" not in (log.read_text() if log.exists() else ""):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the floor worker did not start:\n" + log.read_text())
            await asyncio.sleep(0.1)

        async def one() -> bool:
            await journey(client, task_queue, f"floor-journey-{uuid.uuid4().hex}", plan)
            return True

        for _ in range(3):
            await one()
        figures: dict[str, Any] = {}
        processes = {
            "temporal": _named_children(stack)["temporal"],
            "worker": psutil.Process(worker.pid),
        }
        for callers in CONCURRENCY:
            cpu = _Cpu(processes)
            outcome = await drive(callers, SECONDS, one)
            figures[f"in_flight_{callers}"] = {**outcome.figures(), **cpu.per(outcome.succeeded)}
        return figures


def run(_home: object) -> bool:
    print(
        f"bopis-journey: place, pick, hand over at {', '.join(map(str, CONCURRENCY))} in flight,"
        f" {SECONDS:.0f} s each, beside the bare-Temporal floor"
    )
    with tempfile.TemporaryDirectory(prefix="omni-bench-stack-") as directory:
        home = Path(directory)
        stack = start_stack(home, stack_env(home))
        try:
            omni, plan = asyncio.run(_measure_omni(stack))
            floor = asyncio.run(_measure_floor(stack, plan.bare()))
            same_commands = asyncio.run(_measure_floor(stack, plan))
        finally:
            stop_stack(stack)
    ratios = {
        level: round(omni[level]["per_second"] / floor[level]["per_second"], 2)
        for level in omni
        if floor.get(level, {}).get("per_second")
    }
    body: dict[str, Any] = {
        "seconds_per_level": SECONDS,
        "concurrency": list(CONCURRENCY),
        "worker_sandbox": os.environ.get("WORKFLOW_SANDBOX", "unsandboxed"),
        "journey_phases": [[p.local, p.regular] for p in plan.phases],
        "journey_regular_rounds": [p.regular_rounds for p in plan.phases],
        "journey_other_commands": [[p.patches, p.upserts, p.timers] for p in plan.phases],
        "omni": omni,
        "floor_bare_journey": floor,
        "floor_same_commands": same_commands,
        "omni_over_floor": ratios,
        "omni_over_floor_same_commands": {
            level: round(omni[level]["per_second"] / same_commands[level]["per_second"], 2)
            for level in omni
            if same_commands.get(level, {}).get("per_second")
        },
        "goal": f"journeys/s >= {GOAL_RATIO} of the floor",
        "goal_met": {level: ratio >= GOAL_RATIO for level, ratio in ratios.items()},
    }
    for level in omni:
        print(f"  omni  {level}: {omni[level]}")
        print(f"  floor {level}: {floor.get(level)}")
        print(f"  floor with the journey's other commands {level}: {same_commands.get(level)}")
    print(f"  phases (local, regular activities): {body['journey_phases']}; ratios {ratios}")
    print(
        f"  other commands per phase (patches, upserts, timers): {body['journey_other_commands']};"
        f" omni over that floor {body['omni_over_floor_same_commands']}"
    )
    record("bopis-journey", body)
    failed = sum(v["failed"] for run in (omni, floor, same_commands) for v in run.values())
    return failed == 0
