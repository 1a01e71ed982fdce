"""Placement taken by the orders service (OrderInput.placed / abandoned).

The orders service holds the stock (a soft hold under placement_hold_id) and
authorizes with authorization_key, then starts the journey with what it got:
the journey confirms the hold, records the customer's side after the answer,
and compensates when the hold ran out and the stock is gone. Recovery starts a
journey with `abandoned` for a placement that stopped half way: it gives back
the hold and voids every authorization made for the order.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, running_worker
from workflows.contracts.activities import PaymentInfo, ReserveStockInput, SkuQty
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    PLACE_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    STATUS_QUERY,
    ActionResult,
    AuthorizedTender,
    HandoverInput,
    LineInput,
    OrderInput,
    OrderStatus,
    PickInput,
    PlacedInput,
    PlacementResult,
    authorization_key,
    order_workflow_id,
    placement_hold_id,
)


def taken_by_orders(fakes: FakeServices, wanted: OrderInput, location_id: str) -> OrderInput:
    """What the orders service does before the start: the hold and the authorization."""
    hold_id = placement_hold_id(wanted.order_id)
    fakes.active_reservations[hold_id] = ReserveStockInput(
        hold_id,
        wanted.order_id,
        location_id,
        [SkuQty(line.sku, line.quantity) for line in wanted.lines],
        wanted.channel,
    )
    payment = PaymentInfo(
        payment_id=f"pay-{authorization_key(wanted.order_id, 0)}",
        tender_type="card",
        status="authorized",
        currency="USD",
        authorized_minor=1300,
    )
    fakes.payments[payment.payment_id] = payment
    wanted.placed = PlacedInput(location_id, hold_id, [AuthorizedTender(0, payment)])
    return wanted


async def start(
    client: Client, workflow: str, wanted: OrderInput, queue: str
) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        workflow,
        wanted,
        id=order_workflow_id(wanted.order_id),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=queue,
    )


async def test_a_placed_order_confirms_its_hold_and_goes_on_to_capture(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(), "store-1")
        oid = wanted.order_id
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        # A pick sent right after the start waits for the hold's confirmation.
        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{oid}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        assert picked.order_status == "ready_for_pickup"
        # A retried placement asks the run and gets the same answer.
        again = await handle.execute_update(PLACE_UPDATE, result_type=PlacementResult)
        assert again.accepted
        code = (
            [p for p in fakes.order_progress if p.status == "ready_for_pickup"][-1]
            .fulfillments[0]
            .pickup_code
        )
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", code), result_type=ActionResult
        )
        final = await handle.result()

    assert final["status"] == "completed"
    # The journey reserved and authorized nothing itself.
    assert fakes.called("reserve") == [] and fakes.called("authorize") == []
    [confirm] = fakes.called("confirm")
    assert confirm.reservation_id == placement_hold_id(oid)
    [commit] = fakes.called("commit")
    assert commit.reservation_id == placement_hold_id(oid)
    [capture] = fakes.called("capture")
    assert (capture.payment_id, capture.amount_minor) == (
        f"pay-{authorization_key(oid, 0)}",
        1300,
    )
    # `placed` was recorded by the orders service; the customer's side once.
    assert [p.status for p in fakes.order_progress] == ["ready_for_pickup", "completed"]
    [placed_records] = fakes.called("order_placed")
    assert placed_records.timeline.event_id == f"order-{oid}/timeline/order_placed"
    assert fakes.called("void") == [] and fakes.called("release") == []
    assert fakes.active_reservations == {}


async def test_a_hold_that_ran_out_is_taken_again_as_a_reservation(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(), "store-1")
        fakes.expired_holds.add(placement_hold_id(wanted.order_id))
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        # Answered once the hold is settled (the pick waits for the lock).
        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{wanted.order_id}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        await handle.terminate("test over")
    assert picked.order_status == "ready_for_pickup"
    assert status.status == "ready_for_pickup"
    [reserve] = fakes.called("reserve")
    assert reserve.reservation_id == f"order-{wanted.order_id}/reserve/store-1"
    assert list(fakes.active_reservations) == [reserve.reservation_id]
    assert fakes.called("void") == []


async def test_a_hold_that_ran_out_with_the_stock_gone_cancels_and_voids(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(out_of_stock_at={"store-1"})
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(), "store-1")
        fakes.expired_holds.add(placement_hold_id(wanted.order_id))
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        final = await handle.result()
    assert final["status"] == "cancelled"
    [void] = fakes.called("void")
    assert void.payment_id == f"pay-{authorization_key(wanted.order_id, 0)}"
    assert fakes.active_reservations == {}
    assert all(p.status == "voided" for p in fakes.payments.values())


async def test_ship_from_store_placed_by_orders_ships_from_the_held_location(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(fulfillment_type="ship"), "wh-2")
        handle = await start(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.fulfillments == {f"{wanted.order_id}-F1": "pending"}
        await handle.terminate("test over")
    assert fakes.called("find_sources") == [] and fakes.called("reserve") == []


async def test_an_abandoned_placement_gives_back_the_hold_and_voids_every_authorization(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(), "store-1")
        wanted.placed = None
        wanted.abandoned = True
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        answer = await handle.execute_update(PLACE_UPDATE, result_type=PlacementResult)
        final = await handle.result()
    assert not answer.accepted and answer.reason == "PLACEMENT_INTERRUPTED"
    assert final["status"] == "rejected"
    [release] = fakes.called("release")
    assert release.reservation_id == placement_hold_id(wanted.order_id)
    assert fakes.active_reservations == {}
    assert [p.status for p in fakes.payments.values()] == ["voided"]
    assert [p.status for p in fakes.order_progress] == ["rejected"]


async def test_an_abandoned_placement_with_nothing_taken_changes_nothing(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        wanted.abandoned = True
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        final = await handle.result()
    assert final["status"] == "rejected"
    assert fakes.called("void") == [] and fakes.active_reservations == {}


async def test_the_customer_side_is_not_dropped_when_its_local_tries_run_out(
    env: WorkflowEnvironment,
) -> None:
    """The customers service stays down for as long as the local tries last:
    the records go on as a regular activity, so the placed order is still in
    the customer's history (a rolling restart once lost it: the order was
    acknowledged and never listed). The local call's end is planted as a
    failure for good: the test server does not bound local tries by its
    skipped time."""
    fakes = FakeServices()
    local_attempts: list[int] = []

    async def down_while_local(_: Any) -> None:
        info = activity.info()
        if info.is_local:
            local_attempts.append(info.attempt)
            raise ApplicationError("customers unavailable", type="UNAVAILABLE", non_retryable=True)

    for _ in range(3):
        fakes.on("order_placed", down_while_local)
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(), "store-1")
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        picked = await handle.execute_update(
            PICK_UPDATE,
            PickInput(f"{wanted.order_id}-F1", [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]),
            result_type=ActionResult,
        )
        await handle.terminate("test over")
    assert picked.order_status == "ready_for_pickup"
    assert local_attempts == [1]
    [kept] = fakes.customer_activities
    assert (kept.customer_id, kept.reference_id) == (wanted.customer_id, wanted.order_id)
    assert f"order-{wanted.order_id}/timeline/order_placed" in fakes.timeline
