"""Returns on the time-skipping server: the real workflow, fake services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import running_worker, unique
from workflows.contracts.activities import PaymentInfo
from workflows.contracts.journeys import (
    ERROR_INVALID_RECEIPT,
    RECEIVE_UPDATE,
    RETURN_WORKFLOW,
    ReceiveInput,
    ReturnInput,
    ReturnLineInput,
    ReturnStatus,
    return_workflow_id,
)


def captured(payment_id: str, tender_type: str, amount: int) -> PaymentInfo:
    return PaymentInfo(payment_id, tender_type, "captured", "USD", amount, amount, 0)


def a_return(method: str, lines: list[ReturnLineInput]) -> ReturnInput:
    return ReturnInput(
        return_id=unique("ret"),
        order_id=unique("ord"),
        customer_id=unique("cus"),
        channel="pos",
        method=method,
        location_id="store-2",
        currency="USD",
        lines=lines,
    )


async def start(client: Client, request: ReturnInput, queue: str) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        RETURN_WORKFLOW, request, id=return_workflow_id(request.return_id), task_queue=queue
    )


async def hand_over(handle: WorkflowHandle[Any, Any], request: ReturnInput) -> None:
    """An associate of the store receives every line of an in-store return."""
    await handle.execute_update(
        RECEIVE_UPDATE,
        ReceiveInput(
            request.location_id,
            [ReturnLineInput(line.sku, line.quantity, line.condition) for line in request.lines],
        ),
        result_type=ReturnStatus,
    )


async def test_in_store_return_restocks_sellable_lines_and_refunds_the_card(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return(
        "in_store",
        [ReturnLineInput("SKU-A", 2, "sellable", 500), ReturnLineInput("SKU-B", 1, "damaged", 300)],
    )
    rid = request.return_id
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        final = await handle.result()

    assert final["status"] == "refunded"
    # Issue 11: the damaged line is a damage movement, not a restock.
    [restock] = [a for a in fakes.called("adjust_stock") if a.reason == "return_restock"]
    assert (restock.sku, restock.delta, restock.location_id, restock.reason) == (
        "SKU-A",
        2,
        "store-2",
        "return_restock",
    )
    assert restock.idempotency_key == f"return-{rid}/restock/SKU-A"
    assert fakes.called("list_payments")[0].reference == request.order_id
    [refund] = fakes.called("refund")
    assert (refund.payment_id, refund.amount_minor) == ("pay-card", 1300)
    assert refund.idempotency_key == f"return-{rid}/refund/pay-card"
    assert [p.status for p in fakes.return_progress] == ["awaiting_receipt", "received", "refunded"]
    assert [p.event_id for p in fakes.return_progress][1:] == [
        f"return-{rid}/received",
        f"return-{rid}/refunded",
    ]
    refunds = fakes.return_progress[-1].refunds
    assert [(r.payment_id, r.amount_minor, r.status) for r in refunds] == [
        ("pay-card", 1300, "succeeded")
    ]
    [activity] = fakes.customer_activities
    assert (activity.kind, activity.status, activity.order_id) == (
        "return",
        "refunded",
        request.order_id,
    )


async def test_split_tender_refund_goes_to_the_gift_card_first(env: WorkflowEnvironment) -> None:
    # The card is listed (and was paid) first; the gift card is still refunded first.
    fakes = FakeServices(
        payments={
            "pay-card": captured("pay-card", "card", 1000),
            "pay-gift": captured("pay-gift", "gift_card", 500),
        }
    )
    request = a_return("in_store", [ReturnLineInput("SKU-A", 3, "sellable", 400)])
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        await handle.result()

    assert [(r.payment_id, r.amount_minor) for r in fakes.called("refund")] == [
        ("pay-gift", 500),
        ("pay-card", 700),
    ]
    refunds = fakes.return_progress[-1].refunds
    assert [(r.tender_type, r.amount_minor) for r in refunds] == [("gift_card", 500), ("card", 700)]


async def test_mail_return_waits_for_receipt(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return(
        "mail",
        [ReturnLineInput("SKU-A", 2, "sellable", 500)],
    )
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                RECEIVE_UPDATE, ReceiveInput("store-3", [ReturnLineInput("SKU-X", 1, "sellable")])
            )
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_RECEIPT
        assert fakes.called("adjust_stock") == []

        # One arrived damaged: nothing goes back on the shelf, both are refunded.
        status = await handle.execute_update(
            RECEIVE_UPDATE,
            ReceiveInput("store-3", [ReturnLineInput("SKU-A", 2, "damaged")]),
            result_type=ReturnStatus,
        )
        await handle.result()

    assert status == ReturnStatus(request.return_id, "refunded", 1000)
    # Issue 11: nothing restocked; the damaged units are a damage movement.
    assert [(a.reason, a.sku, a.delta) for a in fakes.called("adjust_stock")] == [
        ("damage", "SKU-A", 2)
    ]
    assert [p.status for p in fakes.return_progress] == ["awaiting_receipt", "received", "refunded"]


async def test_mail_return_expires_when_nothing_arrives(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    request = a_return("mail", [ReturnLineInput("SKU-A", 1, "sellable", 500)])
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await env.sleep(timedelta(days=31))
        final = await handle.result()
    assert final["status"] == "expired"
    assert fakes.called("refund") == [] and fakes.called("adjust_stock") == []
    assert fakes.return_progress[-1].status == "expired"


async def test_in_store_return_waits_at_the_store_and_refunds_nothing_until_received(
    env: WorkflowEnvironment,
) -> None:
    # Issue 12: a customer or agent starting an in-store return gets no refund
    # until an associate of that store receives the goods.
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return("in_store", [ReturnLineInput("SKU-A", 2, "sellable", 500)])
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await env.sleep(timedelta(days=1))
        assert fakes.called("refund") == [] and fakes.called("adjust_stock") == []
        assert [p.status for p in fakes.return_progress] == ["awaiting_receipt"]
        status = await handle.execute_update(
            RECEIVE_UPDATE,
            ReceiveInput("store-2", [ReturnLineInput("SKU-A", 2, "sellable")]),
            result_type=ReturnStatus,
        )
        await handle.result()
    assert status == ReturnStatus(request.return_id, "refunded", 1000)
    [restock] = fakes.called("adjust_stock")
    assert (restock.location_id, restock.delta) == ("store-2", 2)
    assert [p.status for p in fakes.return_progress] == ["awaiting_receipt", "received", "refunded"]


async def test_damaged_units_are_a_damage_movement_and_are_not_restocked(
    env: WorkflowEnvironment,
) -> None:
    """Issue 11: sellable units restock; damaged ones (even of the same sku)
    are one damage movement at the receiving location, never return_restock."""
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = a_return(
        "mail",
        [
            ReturnLineInput("SKU-A", 3, "sellable", 500),
            ReturnLineInput("SKU-B", 1, "sellable", 300),
        ],
    )
    rid = request.return_id
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        # At the store: one SKU-A and the SKU-B came back damaged.
        await handle.execute_update(
            RECEIVE_UPDATE,
            ReceiveInput(
                "store-7",
                [
                    ReturnLineInput("SKU-A", 2, "sellable"),
                    ReturnLineInput("SKU-A", 1, "damaged"),
                    ReturnLineInput("SKU-B", 1, "damaged"),
                ],
            ),
            result_type=ReturnStatus,
        )
        final = await handle.result()

    assert final["status"] == "refunded"
    moves = sorted(
        (a.reason, a.sku, a.delta, a.location_id, a.idempotency_key)
        for a in fakes.called("adjust_stock")
    )
    assert moves == [
        ("damage", "SKU-A", 1, "store-7", f"return-{rid}/damage/SKU-A"),
        ("damage", "SKU-B", 1, "store-7", f"return-{rid}/damage/SKU-B"),
        ("return_restock", "SKU-A", 2, "store-7", f"return-{rid}/restock/SKU-A"),
    ]
    assert all(a.reference == rid for a in fakes.called("adjust_stock"))
    # Damaged units are still refunded (what the customer paid for them).
    [refund] = fakes.called("refund")
    assert refund.amount_minor == 3 * 500 + 300
