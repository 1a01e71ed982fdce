"""A rejected return (API.md lists `rejected`): the receiving associate finds
nothing returnable - every line received with quantity 0 (nothing arrived,
or what came is not the order's goods). On the time-skipping server, with
the real return workflow and fake services: the return ends `rejected`,
nothing is refunded or restocked, no damage is recorded, the customer's
activity and timeline say so, and an exchange's held replacement is given
back (its hold released, its order cancelled, nothing charged). A receipt
with something in it still refunds that part."""

from __future__ import annotations

from typing import Any

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, running_worker
from tests.workflows.test_exchanges import an_exchange
from tests.workflows.test_returns import a_return, captured, start
from workflows.contracts.journeys import (
    RECEIVE_UPDATE,
    ReceiveInput,
    ReturnInput,
    ReturnLineInput,
    ReturnStatus,
)


async def _receive_nothing(handle: WorkflowHandle[Any, Any], request: ReturnInput) -> ReturnStatus:
    answer: ReturnStatus = await handle.execute_update(
        RECEIVE_UPDATE,
        ReceiveInput(
            request.location_id,
            [ReturnLineInput(line.sku, 0, line.condition) for line in request.lines],
        ),
        result_type=ReturnStatus,
    )
    return answer


async def test_nothing_returnable_received_rejects_the_return_and_changes_nothing(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return(
        "mail",
        [
            ReturnLineInput("SKU-A", 2, "sellable", 1000),
            ReturnLineInput("SKU-B", 1, "damaged", 500),
        ],
    )
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        answered = await _receive_nothing(handle, request)
        final = await handle.result()
        await keep_history(handle, "nothing_returnable_received_rejects_the_return")

    assert (answered.status, answered.refunded_minor) == ("rejected", 0)
    assert final["status"] == "rejected"
    assert fakes.called("refund") == [] and fakes.called("adjust_stock") == []
    assert fakes.payments["pay-card"].refunded_minor == 0
    recorded = [(p.status, p.event_type) for p in fakes.return_progress]
    assert recorded == [("awaiting_receipt", "awaiting_receipt"), ("rejected", "rejected")]
    assert "nothing refunded" in fakes.return_progress[-1].event_detail
    assert fakes.return_progress[-1].refunds == []
    [activity] = [c for name, c in fakes.calls if name == "customer_activity"]
    assert activity.status == "rejected"
    [told] = [e for e in fakes.timeline.values() if e.reference_id == request.return_id]
    assert told.kind == "return_rejected" and told.amount_minor == 0


async def test_a_rejected_exchange_gives_its_replacement_back(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = an_exchange(fakes, 2000, 3500)
    assert request.exchange is not None
    hold = request.exchange.reservation_ids[0]
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await _receive_nothing(handle, request)
        final = await handle.result()

    assert final["status"] == "rejected"
    assert [r.reservation_id for r in fakes.called("release")] == [hold]
    assert hold not in fakes.active_reservations
    assert fakes.called("refund") == [] and fakes.called("place_exchange") == []
    [cancelled] = fakes.order_progress
    assert (cancelled.order_id, cancelled.status, cancelled.event_type) == (
        request.exchange.order_id,
        "cancelled",
        "exchange_cancelled",
    )


async def test_a_receipt_with_something_in_it_refunds_that_part(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return(
        "mail",
        [
            ReturnLineInput("SKU-A", 2, "sellable", 1000),
            ReturnLineInput("SKU-B", 1, "sellable", 500),
        ],
    )
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await handle.execute_update(
            RECEIVE_UPDATE,
            ReceiveInput(
                request.location_id,
                [ReturnLineInput("SKU-A", 0, "sellable"), ReturnLineInput("SKU-B", 1, "sellable")],
            ),
            result_type=ReturnStatus,
        )
        final = await handle.result()

    assert final["status"] == "refunded"
    assert [r.amount_minor for r in fakes.called("refund")] == [500]
