"""How the journeys settle money on the time-skipping server (fake services):
the order's capture is final (a short pick releases the rest), a tender with
nothing to capture is voided, and a return may refund as store credit."""

from __future__ import annotations

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from tests.workflows.test_bopis import pickup_code
from tests.workflows.test_returns import a_return, captured, hand_over, start
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    HandoverInput,
    LineInput,
    PickInput,
    ReturnLineInput,
    ShipInput,
    TenderInput,
)

# SKU-A 2 x 500 and SKU-B 1 x 300: 1300 ordered.
GIFT_CARD_FIRST = [
    TenderInput("gift_card", code="GC-TEST", amount_minor=600),
    TenderInput("card", token="tok_visa"),
]


async def test_short_pick_captures_finally_and_voids_the_tender_not_needed(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(tenders=GIFT_CARD_FIRST)
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        assert [(a.tender_type, a.amount_minor) for a in fakes.called("authorize")] == [
            ("gift_card", 600),
            ("card", 700),
        ]
        # Only one SKU-A (500) was on the shelf: the gift card covers all of it.
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", [LineInput("SKU-A", 1)]), result_type=ActionResult
        )
        await handle.execute_update(
            HANDOVER_UPDATE,
            HandoverInput(f"{oid}-F1", pickup_code(fakes)),
            result_type=ActionResult,
        )
        await handle.result()

    [capture] = fakes.called("capture")
    assert (capture.payment_id, capture.amount_minor, capture.final) == (
        f"pay-order-{oid}/authorize/0",
        500,
        True,
    )
    # The card was needed for nothing: voided, never captured.
    [void] = fakes.called("void")
    assert (void.payment_id, void.idempotency_key) == (
        f"pay-order-{oid}/authorize/1",
        f"order-{oid}/void/1",
    )


async def test_shipping_captures_every_tender_finally(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=["store-1"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship", tenders=GIFT_CARD_FIRST)
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        # Short by one SKU-A: 800 of 1300 is captured, gift card first.
        await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 1), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z1"), result_type=ActionResult
        )
        await handle.result()

    assert [(c.amount_minor, c.final) for c in fakes.called("capture")] == [
        (600, True),
        (200, True),
    ]
    assert fakes.called("void") == []


async def test_a_return_asking_for_store_credit_refunds_everything_to_the_customer(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        payments={
            "pay-card": captured("pay-card", "card", 1000),
            "pay-gift": captured("pay-gift", "gift_card", 500),
        }
    )
    request = a_return("in_store", [ReturnLineInput("SKU-A", 3, "sellable", 400)])
    request.refund_method = "store_credit"
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        final = await handle.result()

    assert final["status"] == "refunded"
    refunds = fakes.called("refund")
    assert [(r.payment_id, r.amount_minor) for r in refunds] == [
        ("pay-gift", 500),
        ("pay-card", 700),
    ]
    assert {(r.to_store_credit, r.customer_id) for r in refunds} == {(True, request.customer_id)}
    recorded = fakes.return_progress[-1].refunds
    assert [(r.tender_type, r.amount_minor, r.status) for r in recorded] == [
        ("store_credit", 500, "succeeded"),
        ("store_credit", 700, "succeeded"),
    ]


async def test_a_return_refunds_the_original_tenders_by_default(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 1000)})
    request = a_return("in_store", [ReturnLineInput("SKU-A", 1, "sellable", 400)])
    assert request.refund_method == "original"
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        await handle.result()

    [refund] = fakes.called("refund")
    assert (refund.to_store_credit, refund.customer_id, refund.amount_minor) == (False, "", 400)
    assert fakes.return_progress[-1].refunds[0].tender_type == "card"
