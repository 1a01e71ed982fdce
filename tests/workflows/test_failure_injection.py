"""Failure injection (issue 10): each activity of the BOPIS journey fails in
turn — transient (UNAVAILABLE, retried), then non-retryable (INTERNAL, not
retried: handled), then with its answer lost after the effect (the ambiguous
case a timeout leaves) — and after each run `invariant` checks the journey's
terminal state and that stock, payments and points are exactly restored.

Not yet covered: ship-from-store and returns, a real start_to_close timeout
(the fault here fails the attempt after the effect instead), and non-retryable
faults of the steps the main loop runs during placement (their retry waits a
minute of workflow time, which the test server does not skip while the
placement update is awaited).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices, internal, unavailable
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    HandoverInput,
    LineInput,
    PickInput,
)

TOTAL = 1300
STEPS = ["reserve", "authorize", "record_order", "timeline", "commit", "capture"]
# Steps run by the main loop while the placement update waits (see above).
MAIN_LOOP_AT_PLACEMENT = {"record_order", "timeline"}
FAULTS = ["transient", "non_retryable", "lost_answer"]


def inject(fakes: FakeServices, step: str, fault: str) -> None:
    async def fail(_: Any) -> None:
        raise unavailable() if fault == "transient" else internal()

    fakes.on(step, fail, after=fault == "lost_answer")


def invariant(fakes: FakeServices, status: str) -> None:
    """The journey ended where it must, and nothing is held or charged wrongly."""
    assert status in {"completed", "rejected"}, status
    assert fakes.active_reservations == {}
    payments = list(fakes.payments.values())
    points = sum(
        e.amount_minor for e in fakes.timeline.values() if e.kind == "order_completed"
    ) - sum(e.amount_minor for e in fakes.timeline.values() if e.kind == "refund_issued")
    if status == "completed":
        assert [p.captured_minor - p.refunded_minor for p in payments] == [TOTAL]
        committed = {c.reservation_id for c in fakes.called("commit")}
        assert len(committed) == 1
        assert points == TOTAL
    else:
        assert all(p.status == "voided" and p.captured_minor == 0 for p in payments)
        assert points == 0


async def retrying(call: Any, attempts: int = 3) -> Any:
    """A store associate tries again when the action failed for a passing reason."""
    for attempt in range(attempts):
        try:
            return await call()
        except WorkflowUpdateFailedError:
            if attempt == attempts - 1:
                raise
    return None


# A non-retryable fault in a step the main loop runs during placement is left
# out: its retry waits workflow time that the test server does not skip while
# the placement update is awaited (noted on issue 10 as still to cover).
CASES = [
    (step, fault)
    for step in STEPS
    for fault in FAULTS
    if not (fault == "non_retryable" and step in MAIN_LOOP_AT_PLACEMENT)
]


@pytest.mark.parametrize(("step", "fault"), CASES)
async def test_bopis_survives_a_fault_at_every_step(
    env: WorkflowEnvironment, step: str, fault: str
) -> None:
    fakes = FakeServices()
    inject(fakes, step, fault)
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        if placement.accepted:
            await retrying(
                lambda: handle.execute_update(
                    PICK_UPDATE,
                    PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]),
                )
            )
            ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
            code = ready[-1].fulfillments[0].pickup_code
            await retrying(
                lambda: handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code))
            )
        final = await asyncio.wait_for(handle.result(), 60)
    invariant(fakes, final["status"])
