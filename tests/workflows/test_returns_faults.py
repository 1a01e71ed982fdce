"""Returns under faults (issue 10, defect 6): each failed on the code before
its fix (the return ended `refunded` with 0 refunded and clawed points back)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices, refused
from tests.workflows.journeys import keep_history, order, place, running_worker, unique
from tests.workflows.test_reroute import code_of
from tests.workflows.test_returns import a_return, captured, start
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    RECEIVE_UPDATE,
    RETRY_REFUND_UPDATE,
    HandoverInput,
    LineInput,
    PickInput,
    ReceiveInput,
    ReturnInput,
    ReturnLineInput,
    ReturnStatus,
)
from workflows.returns.workflow import REFUND_RETRY_AFTER

LINES = [ReturnLineInput("SKU-A", 2, "sellable", 500)]


def refuse_once(fakes: FakeServices) -> None:
    async def decline(_: Any) -> None:
        raise refused("PAYMENT_DECLINED", "the provider refused the refund")

    fakes.on("refund", decline)


def receipt() -> ReceiveInput:
    return ReceiveInput("store-2", [ReturnLineInput("SKU-A", 2, "sellable")])


def clawbacks(fakes: FakeServices) -> list[int]:
    return [e.amount_minor for e in fakes.timeline.values() if e.kind == "refund_issued"]


async def test_a_refused_refund_is_refund_failed_then_the_timer_retries_it(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    refuse_once(fakes)
    request = a_return("in_store", LINES)
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        answer = await handle.execute_update(RECEIVE_UPDATE, receipt(), result_type=ReturnStatus)
        # Never reported refunded, no points taken back, nothing told as refunded.
        assert answer == ReturnStatus(request.return_id, "refund_failed", 0)
        assert fakes.return_progress[-1].status == "refund_failed"
        assert clawbacks(fakes) == []
        assert [a.status for a in fakes.customer_activities] == ["refund_failed"]
        await env.sleep(REFUND_RETRY_AFTER + timedelta(minutes=1))
        final = await asyncio.wait_for(handle.result(), 60)
        await keep_history(handle, "refund_failed_then_the_timer_retries")
    assert final["status"] == "refunded" and final["refunded_minor"] == 1000
    keys = [r.idempotency_key for r in fakes.called("refund")]
    assert len(keys) == 2 and len(set(keys)) == 2  # a refused key is never reused
    assert fakes.payments["pay-card"].refunded_minor == 1000
    assert clawbacks(fakes) == [1000]


async def test_an_operator_retries_a_refused_refund(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    refuse_once(fakes)
    request = a_return("in_store", LINES)
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await handle.execute_update(RECEIVE_UPDATE, receipt(), result_type=ReturnStatus)
        retried = await handle.execute_update(RETRY_REFUND_UPDATE, result_type=ReturnStatus)
        final = await asyncio.wait_for(handle.result(), 60)
        await keep_history(handle, "refund_failed_then_an_operator_retries")
    assert retried.refunded_minor == 1000
    assert final["status"] == "refunded"
    assert fakes.payments["pay-card"].refunded_minor == 1000


async def test_a_return_before_the_final_capture_is_not_charged(env: WorkflowEnvironment) -> None:
    """Defect 2: one part of a pickup was collected (nothing captured yet) and
    comes back before the rest is: the return is not refunded 0 and then
    charged; the order's final capture leaves the returned units out."""
    fakes = FakeServices(pickup_sources=["store-2"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 1)]))
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code_of(fakes, f"{oid}-F1"))
        )
        request = ReturnInput(
            return_id=unique("ret"),
            order_id=oid,
            customer_id=wanted.customer_id,
            channel="pos",
            method="in_store",
            location_id="store-1",
            currency="USD",
            lines=[ReturnLineInput("SKU-A", 1, "sellable", 500)],
        )
        returned = await start(env.client, request, queue)
        answer = await returned.execute_update(
            RECEIVE_UPDATE,
            ReceiveInput("store-1", [ReturnLineInput("SKU-A", 1, "sellable")]),
            result_type=ReturnStatus,
        )
        assert answer == ReturnStatus(request.return_id, "refunded", 500)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F2", [LineInput("SKU-A", 1), LineInput("SKU-B", 1)])
        )
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F2", code_of(fakes, f"{oid}-F2"))
        )
        final = await asyncio.wait_for(handle.result(), 60)
        await keep_history(handle, "a_return_before_the_final_capture")
    assert final["status"] == "completed"
    # 1300 delivered, 500 of it returned before the capture: 800 charged.
    assert [c.amount_minor for c in fakes.called("capture")] == [800]
    assert fakes.called("refund") == []
    # The returned units' points are taken back once (earned at completion).
    assert clawbacks(fakes) == [500]
