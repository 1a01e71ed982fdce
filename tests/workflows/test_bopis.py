"""BOPIS on the time-skipping server: the real workflow, fake services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.activities import SkuQty
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    CANCEL_UPDATE,
    ERROR_INVALID_PICK,
    ERROR_INVALID_STATE,
    ERROR_WRONG_PICKUP_CODE,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    STATUS_QUERY,
    ActionResult,
    CancelInput,
    HandoverInput,
    LineInput,
    OrderStatus,
    PickInput,
    TenderInput,
)


def pickup_code(fakes: FakeServices) -> str:
    ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
    return ready[-1].fulfillments[0].pickup_code


def refusal_of(error: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> ApplicationError:
    cause = error.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_place_pick_handover_captures_and_commits(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        assert fakes.called("reserve")[0].reservation_id == f"order-{oid}/reserve/store-1"
        [authorization] = fakes.called("authorize")
        assert (authorization.idempotency_key, authorization.amount_minor) == (
            f"order-{oid}/authorize/0",
            1300,
        )
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.status == "placed"
        assert status.fulfillments == {f"{oid}-F1": "pending"}

        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)], "amy"),
            result_type=ActionResult,
        )
        assert picked == ActionResult("ready_for_pickup", f"{oid}-F1", "ready_for_pickup")
        code = pickup_code(fakes)
        assert len(code) == 6 and code.isdigit()

        done = await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code, "amy"), result_type=ActionResult
        )
        assert done == ActionResult("completed", f"{oid}-F1", "picked_up")
        final = await handle.result()

    assert final["status"] == "completed"
    [capture] = fakes.called("capture")
    assert (capture.idempotency_key, capture.amount_minor) == (f"order-{oid}/capture/0", 1300)
    [commit] = fakes.called("commit")
    assert commit.reservation_id == f"order-{oid}/reserve/store-1"
    assert commit.lines == [SkuQty("SKU-A", 2), SkuQty("SKU-B", 1)]
    assert fakes.called("void") == [] and fakes.called("release") == []
    assert [p.status for p in fakes.order_progress] == ["placed", "ready_for_pickup", "completed"]
    assert [p.fulfillments[0].status for p in fakes.order_progress] == [
        "pending",
        "ready_for_pickup",
        "picked_up",
    ]
    assert [p.event_id for p in fakes.order_progress] == [
        f"order-{oid}/placed",
        f"order-{oid}/picked",
        f"order-{oid}/completed",
    ]
    assert [a.status for a in fakes.customer_activities] == ["placed", "completed"]


async def test_short_pick_captures_and_commits_only_what_was_picked(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted
        # One SKU-A was not on the shelf; SKU-B is left out entirely.
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 1)]), result_type=ActionResult
        )
        ready = fakes.order_progress[-1].fulfillments[0]
        assert [(line.sku, line.quantity, line.quantity_picked) for line in ready.lines] == [
            ("SKU-A", 2, 1),
            ("SKU-B", 1, 0),
        ]
        await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F1", pickup_code(fakes)),
            result_type=ActionResult,
        )
        await handle.result()

    assert [c.amount_minor for c in fakes.called("capture")] == [500]
    assert fakes.called("commit")[0].lines == [SkuQty("SKU-A", 1)]


async def test_wrong_pickup_code_is_refused_and_nothing_is_captured(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        wrong = "000000" if pickup_code(fakes) != "000000" else "111111"
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", wrong))
        assert refusal_of(refused).type == ERROR_WRONG_PICKUP_CODE

        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.status == "ready_for_pickup"
        assert fakes.called("capture") == [] and fakes.called("commit") == []
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()


async def test_bad_pick_lines_are_refused(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        for lines in (
            [LineInput("SKU-NOPE", 1)],
            [LineInput("SKU-A", 3)],
            [LineInput("SKU-A", -1)],
        ):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", lines))
            assert refusal_of(refused).type == ERROR_INVALID_PICK
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", "123456"))
        assert refusal_of(early).type == ERROR_INVALID_STATE
        assert (await handle.query(STATUS_QUERY, result_type=OrderStatus)).status == "placed"
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()


async def test_insufficient_stock_rejects_without_authorizing(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(out_of_stock_at={"store-1"})
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        final = await handle.result()

    assert not placement.accepted
    assert placement.reason == "INSUFFICIENT_STOCK"
    assert placement.details["sku"] == "SKU-A"
    assert final["status"] == "rejected"
    assert fakes.called("authorize") == []
    assert fakes.active_reservations == {}
    assert [p.status for p in fakes.order_progress] == ["rejected"]


async def test_declined_card_releases_the_reservation(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(declined_tokens={"tok_declined"})
    async with running_worker(env.client, fakes) as queue:
        wanted = order(
            tenders=[
                TenderInput("gift_card", code="GC-1", amount_minor=400),
                TenderInput("card", token="tok_declined"),
            ]
        )
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.result()

    assert (placement.accepted, placement.reason) == (False, "PAYMENT_DECLINED")
    assert [a.amount_minor for a in fakes.called("authorize")] == [400, 900]
    # Compensated newest first: the gift card's authorization, then the stock.
    assert [name for name, _ in fakes.calls if name in ("void", "release")] == ["void", "release"]
    assert fakes.called("release")[0].reservation_id == f"order-{oid}/reserve/store-1"
    assert fakes.called("void")[0].idempotency_key == f"order-{oid}/void/0"
    assert fakes.active_reservations == {}
    assert fakes.order_progress[-1].status == "rejected"


async def test_retried_place_returns_the_same_answer(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        first, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        again, _ = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert first == again and first.accepted
        assert len(fakes.called("reserve")) == 1
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()


async def test_cancel_after_placement_releases_and_voids(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        result = await handle.execute_update(
            CANCEL_UPDATE, CancelInput("changed my mind", "customer"), result_type=ActionResult
        )
        final = await handle.result()
        with pytest.raises(Exception):  # noqa: B017 - the run is over: nothing to update
            await handle.execute_update(CANCEL_UPDATE, CancelInput("again"))

    assert result == ActionResult("cancelled", f"{oid}-F1", "cancelled")
    assert final["status"] == "cancelled"
    assert fakes.called("void")[0].payment_id == f"pay-order-{oid}/authorize/0"
    assert fakes.called("release")[0].reservation_id == f"order-{oid}/reserve/store-1"
    assert fakes.active_reservations == {}
    last = fakes.order_progress[-1]
    assert (last.status, last.fulfillments[0].status) == ("cancelled", "cancelled")
    assert "changed my mind" in last.event_detail
    assert fakes.called("capture") == []


async def test_pickup_window_expiry_cancels_the_order(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(pickup_window_hours=2)
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        await env.sleep(timedelta(hours=3))
        final = await handle.result()

    assert final["status"] == "cancelled"
    assert len(fakes.called("void")) == 1 and len(fakes.called("release")) == 1
    assert fakes.called("capture") == []
    last = fakes.order_progress[-1]
    assert (last.status, last.fulfillments[0].status) == ("cancelled", "cancelled")
    assert "pickup window" in last.event_detail
