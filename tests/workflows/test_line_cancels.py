"""Line cancels (issue 11) on the time-skipping server: the real journeys,
fake services. Units not yet handed over or shipped are cancelled at each
stage (placed, picking, ready for pickup, partially shipped): their stock
goes back (ReleaseReservationLines, once per key), the final capture takes
less by their paid share, the customer is told; every unit cancelled is the
order's cancel."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.activities import SkuQty
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    CANCEL_LINES_UPDATE,
    ERROR_INVALID_CANCEL,
    ERROR_INVALID_STATE,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    CancelLineInput,
    CancelLinesInput,
    HandoverInput,
    LineInput,
    OrderInput,
    PickInput,
    ShipInput,
)

ENDS_WITHIN = 60
# SKU-A x2 at 500, SKU-B x1 at 300, taxed 8%: the lines paid 1080 and 324.
TOTAL = 1404
PAID = {"SKU-A": [0, 540, 1080], "SKU-B": [0, 324]}


def priced(wanted: OrderInput, total: int = TOTAL) -> OrderInput:
    wanted.total_minor = total
    return wanted


def cancelling(
    *lines: tuple[str, int], paid: dict[str, list[int]] | None = None
) -> CancelLinesInput:
    shares = PAID if paid is None else paid
    return CancelLinesInput(
        [CancelLineInput(sku, quantity, shares.get(sku, [])) for sku, quantity in lines],
        reason="changed my mind",
        actor="cus",
    )


async def cancel(handle: Any, request: CancelLinesInput, key: str = "") -> ActionResult:
    result: ActionResult = await handle.execute_update(
        CANCEL_LINES_UPDATE, request, id=key or None, result_type=ActionResult
    )
    return result


def refusal_of(error: pytest.ExceptionInfo[WorkflowUpdateFailedError]) -> ApplicationError:
    cause = error.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


def pickup_code(fakes: FakeServices) -> str:
    ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
    return ready[-1].fulfillments[0].pickup_code


def captured(fakes: FakeServices) -> list[tuple[int, bool]]:
    return [
        (c.amount_minor, c.final)
        for key, c in fakes.done.items()
        if hasattr(c, "final") and "/capture/" in key
    ]


async def test_placed_pickup_cancels_a_unit_and_captures_the_rest(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(order())
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        result = await cancel(handle, cancelling(("SKU-A", 1)), "key-1")
        assert result == ActionResult("placed", f"{oid}-F1", "pending")
        [released] = fakes.called("release_lines")
        assert released.reservation_id == f"order-{oid}/reserve/store-1"
        assert released.lines == [SkuQty("SKU-A", 1)]
        assert released.idempotency_key == f"order-{oid}/lines_cancelled/key-1/{oid}-F1"
        recorded = fakes.order_progress[-1]
        assert (recorded.event_type, recorded.status) == ("lines_cancelled", "placed")
        assert [(line.sku, line.quantity) for line in recorded.fulfillments[0].lines] == [
            ("SKU-A", 1),
            ("SKU-B", 1),
        ]
        told = fakes.timeline[f"order-{oid}/timeline/lines_cancelled/key-1"]
        assert (told.kind, told.amount_minor) == ("order_cancelled", 540)
        assert "SKU-A" in told.details["lines"]

        # The rest is picked and collected: the capture takes what is left.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2)])
            )
        assert refusal_of(refused).type == "INVALID_PICK"
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 1), LineInput("SKU-B", 1)])
        )
        await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes)))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert final["status"] == "completed"
    assert captured(fakes) == [(TOTAL - 540, True)]
    [commit] = fakes.called("commit")
    assert commit.lines == [SkuQty("SKU-A", 1), SkuQty("SKU-B", 1)]
    assert fakes.called("void") == []


async def test_ready_for_pickup_cancels_a_line_before_handover(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(order())
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        result = await cancel(handle, cancelling(("SKU-B", 1)))
        assert result == ActionResult("ready_for_pickup", f"{oid}-F1", "ready_for_pickup")
        assert [r.lines for r in fakes.called("release_lines")] == [[SkuQty("SKU-B", 1)]]
        await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes)))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert captured(fakes) == [(TOTAL - 324, True)]
    assert fakes.called("commit")[0].lines == [SkuQty("SKU-A", 2)]


async def test_cancelling_every_unit_cancels_the_order(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(order())
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await cancel(handle, cancelling(("SKU-A", 1)))
        result = await cancel(handle, cancelling(("SKU-A", 1), ("SKU-B", 1)))
        assert result.order_status == "cancelled"
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert final["status"] == "cancelled"
    assert captured(fakes) == []
    assert [v.idempotency_key for v in fakes.called("void")] == [f"order-{oid}/void/0"]
    assert fakes.active_reservations == {}
    assert fakes.order_progress[-1].status == "cancelled"


async def test_ship_order_cancels_while_picking(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=["store-1"])
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(order(fulfillment_type="ship"))
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        result = await cancel(handle, cancelling(("SKU-A", 1)))
        assert result == ActionResult("in_fulfillment", f"{oid}-F1", "picking")
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert captured(fakes) == [(TOTAL - 540, True)]
    assert fakes.called("commit")[0].lines == [SkuQty("SKU-A", 1), SkuQty("SKU-B", 1)]


async def test_split_order_cancels_part_of_the_unshipped_fulfillment(
    env: WorkflowEnvironment,
) -> None:
    near, far = "store-near", "store-far"
    fakes = FakeServices(sources=[], split={near: [SkuQty("SKU-A", 2)], far: [SkuQty("SKU-B", 2)]})
    paid = {"SKU-A": [0, 540, 1080], "SKU-B": [0, 324, 648]}
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(
            order(
                fulfillment_type="ship",
                lines=[LineInput("SKU-A", 2, 500), LineInput("SKU-B", 2, 300)],
            ),
            1728,
        )
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2)]))
        shipped = await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z1"), result_type=ActionResult
        )
        assert shipped.order_status == "partially_shipped"
        # What shipped cannot be cancelled (409); the rest can.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await cancel(handle, cancelling(("SKU-A", 1), paid=paid))
        assert refusal_of(refused).type == ERROR_INVALID_STATE
        result = await cancel(handle, cancelling(("SKU-B", 1), paid=paid))
        assert result == ActionResult("partially_shipped", f"{oid}-F2", "pending")
        [released] = fakes.called("release_lines")
        assert released.reservation_id == f"order-{oid}/F2/reserve/{far}"
        assert released.lines == [SkuQty("SKU-B", 1)]
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F2", [LineInput("SKU-B", 1)]))
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F2", "UPS", "1Z2"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert final["status"] == "shipped"
    # F1's own share (1728 * 1000/1600), then what is left of 1728 - 324.
    assert captured(fakes) == [(1080, False), (1728 - 324 - 1080, True)]


async def test_refusals_unknown_sku_too_many_and_after_handover(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(order())
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        for bad in (
            cancelling(("SKU-NOPE", 1)),
            cancelling(("SKU-A", 3)),
            cancelling(("SKU-A", 0)),
            cancelling(("SKU-A", 1), ("SKU-A", 1)),
            cancelling(),
        ):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await cancel(handle, bad)
            assert refusal_of(refused).type == ERROR_INVALID_CANCEL
        assert fakes.called("release_lines") == []
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)])
        )
        await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes)))
        # The order ended: the update finds no running journey (the orders
        # service answers 409 for that, services/orders/adapters/journeys.py).
        with pytest.raises((WorkflowUpdateFailedError, RPCError)):
            await cancel(handle, cancelling(("SKU-A", 1)))

    assert captured(fakes) == [(TOTAL, True)]


async def test_the_same_cancel_twice_at_once_and_retried_is_done_once(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = priced(order())
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        request = cancelling(("SKU-A", 1))
        first, second = await asyncio.gather(
            cancel(handle, request, "same-key"), cancel(handle, request, "same-key")
        )
        # The answer was lost: the client sends it again with the same key.
        again = await cancel(handle, request, "same-key")
        assert first == second == again
        assert len(fakes.called("release_lines")) == 1
        # Two different cancels of the last SKU-A unit at once: one wins.
        outcomes = await asyncio.gather(
            cancel(handle, cancelling(("SKU-A", 1)), "a"),
            cancel(handle, cancelling(("SKU-A", 1)), "b"),
            return_exceptions=True,
        )
        refused = [o for o in outcomes if isinstance(o, WorkflowUpdateFailedError)]
        assert len(refused) == 1
        assert isinstance(refused[0].cause, ApplicationError)
        assert refused[0].cause.type == ERROR_INVALID_CANCEL
        assert len(fakes.called("release_lines")) == 2
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-B", 1)]))
        await handle.execute_update(HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes)))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)

    assert captured(fakes) == [(324, True)]
