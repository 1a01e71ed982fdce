"""Failure injection (issues 10 and 15): each activity of the BOPIS,
ship-from-store and return journeys fails in turn —
- transient (UNAVAILABLE: retried),
- non-retryable (INTERNAL: not retried, the journey handles it),
- its answer lost after the effect (INTERNAL once the effect is done: the
  outcome is unknown and not retried as such),
- a timeout after the effect (the RPC's deadline ran out: DEADLINE_EXCEEDED,
  what workflows/activities/rpc.py raises for it, retried),
and after each run `invariant` checks the journey's terminal state and that
stock, payments and points are exactly restored (or exactly spent).

Waits that are workflow time (a retry of `until_done` a minute later, an
attempt's start_to_close) are skipped with `env.sleep` once the fault has
fired: the time-skipping server does not skip time by itself while the test
awaits an update (placement, pick, ship, receive), only while it awaits the
result. Every step a clean run calls is covered (test_every_step_is_covered).
An attempt that never answers at all (its worker stalled) is left to
start_to_close, in real time (the test server does not skip time while an
activity runs), once per journey (test_a_stalled_attempt_times_out_and_is_retried).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.conftest import time_skipping_server
from tests.workflows.fakes import FakeServices, internal, unavailable
from tests.workflows.journeys import order, place, running_worker
from tests.workflows.test_returns import a_return, captured, start
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    RECEIVE_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    HandoverInput,
    LineInput,
    PickInput,
    ReceiveInput,
    ReturnLineInput,
    ShipInput,
)

T = TypeVar("T")


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    """One test server per test here (not per module): a run this module
    leaves behind (a stalled attempt, a shipped order's parcel polling, a
    refund retry timer) would otherwise slow every later test's time
    skipping; under load two return cases ran out of their 60 s that way."""
    async with time_skipping_server() as environment:
        yield environment


TOTAL = 1300
FAULTS = ["transient", "non_retryable", "lost_answer", "timeout"]
# One step per journey whose attempt stalls (see the module's docstring).
STALLS = [("bopis", "commit"), ("ship", "reserve"), ("return", "adjust_stock")]
# The steps each journey calls on a clean run (log names of tests/workflows/fakes.py).
BOPIS_STEPS = ["reserve", "authorize", "record_order", "timeline", "commit", "capture"]
SHIP_STEPS = ["find_sources", *BOPIS_STEPS]
RETURN_STEPS = [
    "record_return",
    "timeline",
    "adjust_stock",
    "list_payments",
    "refund",
    "customer_activity",
]
# Calls a clean run makes that are not a step of their own here: the
# customers.record_order_placed wrapper logs the calls it makes itself
# (customer_activity, timeline, checkout_cart); get_location and notify steer
# or tell only (their faults are covered by test_pickup_reminder and friends);
# a shipped parcel is tracked by a workflow of its own once the order ended
# (track_parcel: tests/workflows/test_delivery.py), which may or may not ask
# before this test's worker stops.
NOT_STEPS = {
    "order_placed",
    "checkout_cart",
    "customer_activity",
    "get_location",
    "notify",
    "track_parcel",
}
# What earns points (services/customers/domain/loyalty.py EARNING_KINDS).
EARNING_KINDS = ("order_completed", "order_shipped")
RETURN_PAID = 5000
RETURNED = [ReturnLineInput("SKU-A", 2, "sellable", 500)]
RETURN_DUE = 1000


class Fault:
    """One fault at the next call of one step; `fired` once it happened."""

    def __init__(self, fakes: FakeServices, step: str, kind: str) -> None:
        self.kind = kind
        self.fired = asyncio.Event()
        # A timed-out attempt is left waiting here until the worker stops.
        self._never = asyncio.Event()

        async def fail(_: Any) -> None:
            self.fired.set()
            if kind == "stalled":
                await self._never.wait()
            if kind == "timeout":
                raise ApplicationError("deadline exceeded", type="DEADLINE_EXCEEDED")
            raise unavailable() if kind == "transient" else internal()

        # Only a transient fault comes before the effect; for the others the
        # effect happened and the caller does not hear it.
        fakes.on(step, fail, after=kind != "transient")


async def skipping(env: WorkflowEnvironment, fault: Fault, call: Awaitable[T]) -> T:
    """Awaits `call`; once the fault fired, workflow time moves on in small
    steps (a retry's wait, a timed-out attempt) until the call is answered."""
    task = asyncio.ensure_future(call)
    while True:
        done, _ = await asyncio.wait({task}, timeout=0.1)
        if done:
            return task.result()
        if fault.fired.is_set():
            await env.sleep(timedelta(seconds=5))


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 3) -> T | None:
    """A store associate tries again when the action failed for a passing reason."""
    for attempt in range(attempts):
        try:
            return await call()
        except WorkflowUpdateFailedError:
            if attempt == attempts - 1:
                raise
    return None


def points(fakes: FakeServices) -> int:
    earned = sum(e.amount_minor for e in fakes.timeline.values() if e.kind in EARNING_KINDS)
    taken_back = sum(e.amount_minor for e in fakes.timeline.values() if e.kind == "refund_issued")
    return earned - taken_back


def order_invariant(fakes: FakeServices, status: str, done: str) -> None:
    """The order ended where it must, and nothing is held or charged wrongly."""
    assert status in {done, "rejected"}, status
    assert fakes.active_reservations == {}
    payments = list(fakes.payments.values())
    if status == done:
        assert [p.captured_minor - p.refunded_minor for p in payments] == [TOTAL]
        committed = {c.reservation_id for c in fakes.called("commit")}
        assert len(committed) == 1
        assert points(fakes) == TOTAL
    else:
        assert all(p.status == "voided" and p.captured_minor == 0 for p in payments)
        assert fakes.called("commit") == []
        assert points(fakes) == 0


def return_invariant(fakes: FakeServices, final: dict[str, Any]) -> None:
    """Refunded exactly once, restocked exactly once, points taken back once."""
    assert final["status"] == "refunded", final
    assert final["refunded_minor"] == RETURN_DUE
    assert fakes.payments["pay-card"].refunded_minor == RETURN_DUE
    restocked = [a for a in fakes.adjustments.values() if a.reason == "return_restock"]
    assert [(a.sku, a.delta) for a in restocked] == [("SKU-A", 2)]
    assert -points(fakes) == RETURN_DUE


async def bopis(env: WorkflowEnvironment, fakes: FakeServices, fault: Fault) -> None:
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await skipping(
            env, fault, place(env.client, BOPIS_WORKFLOW, wanted, queue)
        )
        if placement.accepted:
            await act(env, fault, handle, PICK_UPDATE, PickInput(f"{oid}-F1", picked()))
            ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
            code = ready[-1].fulfillments[0].pickup_code
            await act(env, fault, handle, HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code))
        final = await asyncio.wait_for(handle.result(), 60)
    order_invariant(fakes, final["status"], "completed")


async def ship(env: WorkflowEnvironment, fakes: FakeServices, fault: Fault) -> None:
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        placement, handle = await skipping(
            env, fault, place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        )
        if placement.accepted:
            await act(env, fault, handle, PICK_UPDATE, PickInput(f"{oid}-F1", picked()))
            await act(env, fault, handle, SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z9"))
        final = await asyncio.wait_for(handle.result(), 60)
    order_invariant(fakes, final["status"], "shipped")


async def a_returned_line(env: WorkflowEnvironment, fakes: FakeServices, fault: Fault) -> None:
    request = a_return("in_store", RETURNED)
    async with running_worker(env.client, fakes) as queue:
        handle = await skipping(env, fault, start(env.client, request, queue))
        receipt = ReceiveInput(request.location_id, [ReturnLineInput("SKU-A", 2, "sellable")])
        await act(env, fault, handle, RECEIVE_UPDATE, receipt)
        final = await asyncio.wait_for(handle.result(), 60)
    return_invariant(fakes, final)


def picked() -> list[LineInput]:
    return [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


async def act(
    env: WorkflowEnvironment, fault: Fault, handle: WorkflowHandle[Any, Any], update: str, arg: Any
) -> None:
    await retrying(lambda: skipping(env, fault, handle.execute_update(update, arg)))


def fakes_for(journey: str) -> FakeServices:
    if journey == "ship":
        # The carrier says delivered at the first question: a shipped order
        # left polling its parcel every hour would keep timers running in the
        # module's test server and slow every later test's time skipping.
        return FakeServices(sources=["store-1"], parcel_delivered_at_call=1)
    if journey == "return":
        return FakeServices(payments={"pay-card": captured("pay-card", "card", RETURN_PAID)})
    return FakeServices()


JOURNEYS = {"bopis": (bopis, BOPIS_STEPS), "ship": (ship, SHIP_STEPS)}
JOURNEYS["return"] = (a_returned_line, RETURN_STEPS)
CASES = [
    pytest.param(journey, step, fault, id=f"{journey}-{step}-{fault}")
    for journey, (_, steps) in JOURNEYS.items()
    for step in steps
    for fault in FAULTS
]


@pytest.mark.parametrize(("journey", "step", "fault"), CASES)
async def test_a_journey_survives_a_fault_at_every_step(
    env: WorkflowEnvironment, journey: str, step: str, fault: str
) -> None:
    fakes = fakes_for(journey)
    injected = Fault(fakes, step, fault)
    run, _ = JOURNEYS[journey]
    await run(env, fakes, injected)
    assert injected.fired.is_set(), f"{step} was never called"


@pytest.mark.parametrize(("journey", "step"), STALLS)
async def test_a_stalled_attempt_times_out_and_is_retried(
    env: WorkflowEnvironment, journey: str, step: str
) -> None:
    fakes = fakes_for(journey)
    injected = Fault(fakes, step, "stalled")
    run, _ = JOURNEYS[journey]
    await run(env, fakes, injected)
    assert injected.fired.is_set(), f"{step} was never called"
    # The stalled attempt and the one after its timeout.
    assert len([name for name, _ in fakes.calls if name == step]) >= 2


@pytest.mark.parametrize("journey", list(JOURNEYS))
async def test_every_step_is_covered(env: WorkflowEnvironment, journey: str) -> None:
    """A clean run calls exactly the steps listed (and the few left to other tests)."""
    fakes = fakes_for(journey)
    run, steps = JOURNEYS[journey]
    await run(env, fakes, Fault(fakes, "no-such-step", "transient"))
    called = {name for name, _ in fakes.calls}
    assert called - NOT_STEPS <= set(steps), called - NOT_STEPS - set(steps)
    assert set(steps) <= called, set(steps) - called
