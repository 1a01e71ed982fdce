"""Split shipments (issue 11) on the time-skipping server: the real workflows
(ShipFromStoreWorkflow and its ShipmentWorkflow children), fake services.

No one location has every line: the order ships from the fewest that together
can, each fulfillment held by its own child `order-<id>-f<n>`; each shipment
captures its share (the shipping with the first), the last one the rest,
final; what will not ship is released, stock and authorization.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from temporalio.api.enums.v1 import ParentClosePolicy
from temporalio.client import Client, WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices, refused
from tests.workflows.journeys import keep_history, order, place, running_worker
from workflows.contracts.activities import PaymentInfo, ReserveStockInput, SkuQty
from workflows.contracts.journeys import (
    CANCEL_UPDATE,
    DEFAULT_MAX_SPLITS,
    ERROR_CAPTURE_FAILED,
    ERROR_INVALID_STATE,
    PICK_UPDATE,
    REJECT_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    AuthorizedTender,
    CancelInput,
    LineInput,
    OrderInput,
    PickInput,
    PlacedHold,
    PlacedInput,
    RejectInput,
    ShipInput,
    TenderInput,
    authorization_key,
    order_workflow_id,
    shipment_workflow_id,
)
from workflows.order import rules

ENDS_WITHIN = 60
PARENT_CLOSE_POLICY_REQUEST_CANCEL = ParentClosePolicy.PARENT_CLOSE_POLICY_REQUEST_CANCEL
NEAR, FAR = "store-near", "store-far"
# SKU-A x2 at 500 from NEAR, SKU-B x1 at 300 from FAR; the priced total 1450
# of which 250 is shipping (with its tax): goods 1200 at the priced rate.
SPLIT = {NEAR: [SkuQty("SKU-A", 2)], FAR: [SkuQty("SKU-B", 1)]}
TOTAL, SHIPPING = 1450, 250


def split_order(**changes: Any) -> OrderInput:
    wanted = order(fulfillment_type="ship")
    wanted.total_minor = TOTAL
    wanted.shipping_minor = SHIPPING
    for name, value in changes.items():
        setattr(wanted, name, value)
    return wanted


def split_fakes(**changes: Any) -> FakeServices:
    return FakeServices(sources=[], split=dict(SPLIT), **changes)


async def pick_all(handle: Any, fulfillment_id: str, lines: list[LineInput]) -> ActionResult:
    result: ActionResult = await handle.execute_update(
        PICK_UPDATE, PickInput(fulfillment_id, lines), result_type=ActionResult
    )
    return result


async def ship(handle: Any, fulfillment_id: str, tracking: str = "1Z1") -> ActionResult:
    result: ActionResult = await handle.execute_update(
        SHIP_UPDATE, ShipInput(fulfillment_id, "UPS", tracking), result_type=ActionResult
    )
    return result


async def child_result(client: Client, order_id: str, number: int) -> dict[str, Any]:
    handle = client.get_workflow_handle(shipment_workflow_id(order_id, number))
    result: dict[str, Any] = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    return result


def captures(fakes: FakeServices) -> list[tuple[int, bool]]:
    """(amount, final) of each capture done (a retried key counts once)."""
    return [
        (c.amount_minor, c.final)
        for key, c in fakes.done.items()
        if hasattr(c, "final") and "/capture/" in key
    ]


# ------------------------------------------------------------ the happy path


async def test_split_ships_from_two_children_and_captures_each_share(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        [sourcing] = fakes.called("find_sources")
        assert sourcing.max_locations == DEFAULT_MAX_SPLITS
        # Each child holds at its own location, with the parent's reservation ids.
        held = {r.location_id: r for r in fakes.called("reserve")}
        assert set(held) == {NEAR, FAR}
        assert held[NEAR].reservation_id == f"order-{oid}/reserve/{NEAR}"
        assert held[FAR].reservation_id == f"order-{oid}/F2/reserve/{FAR}"
        assert [(line.sku, line.quantity) for line in held[FAR].lines] == [("SKU-B", 1)]
        [authorization] = fakes.called("authorize")
        assert authorization.amount_minor == TOTAL
        placed = fakes.order_progress[0]
        assert placed.status == "placed"
        assert [(f.fulfillment_id, f.location_id, f.status) for f in placed.fulfillments] == [
            (f"{oid}-F1", NEAR, "pending"),
            (f"{oid}-F2", FAR, "pending"),
        ]

        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        first = await ship(handle, f"{oid}-F1")
        assert first == ActionResult("partially_shipped", f"{oid}-F1", "shipped")
        # The first shipment: the shipping and its goods' share (1200 * 1000/1300).
        assert captures(fakes) == [(SHIPPING + 923, False)]
        await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        last = await ship(handle, f"{oid}-F2", "1Z2")
        assert last == ActionResult("shipped", f"{oid}-F2", "shipped")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        children = [await child_result(env.client, oid, n) for n in (1, 2)]
        await keep_history(handle, "a_split_shipment_captures_each_share")
        await keep_history(
            env.client.get_workflow_handle(shipment_workflow_id(oid, 2)),
            "a_shipment_child_holds_then_commits",
        )

    assert final["status"] == "shipped"
    assert captures(fakes) == [(SHIPPING + 923, False), (TOTAL - SHIPPING - 923, True)]
    [payment] = fakes.payments.values()
    assert payment.captured_minor == TOTAL
    assert fakes.called("void") == []
    assert [c["outcome"] for c in children] == ["committed", "committed"]
    assert {c.reservation_id for c in fakes.called("commit")} == {
        held[NEAR].reservation_id,
        held[FAR].reservation_id,
    }
    assert fakes.active_reservations == {}
    statuses = [p.status for p in fakes.order_progress]
    assert statuses[-1] == "shipped" and "partially_shipped" in statuses
    # Every record has its own event id (the orders service drops a repeated one).
    event_ids = [p.event_id for p in fakes.order_progress]
    assert len(event_ids) == len(set(event_ids)), event_ids
    shipped = [e for e in fakes.timeline.values() if e.kind == "order_shipped"]
    assert len(shipped) == 2


async def test_max_splits_is_what_sourcing_is_asked_for(env: WorkflowEnvironment) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        placement, handle = await place(
            env.client, SHIP_FROM_STORE_WORKFLOW, split_order(max_splits=1), queue
        )
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    [sourcing] = fakes.called("find_sources")
    assert sourcing.max_locations == 1
    # One location allowed and none has it all: no split, NO_SOURCE.
    assert (placement.accepted, placement.reason) == (False, "NO_SOURCE")
    assert fakes.called("reserve") == [] and fakes.called("authorize") == []


# ------------------------------------------------------------ failure branches


async def test_a_child_that_cannot_hold_rejects_and_the_other_hold_is_released(
    env: WorkflowEnvironment,
) -> None:
    """Someone took FAR's stock since sourcing ranked it."""
    fakes = split_fakes(out_of_stock_at={FAR})
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        children = [await child_result(env.client, wanted.order_id, n) for n in (1, 2)]
        await keep_history(handle, "a_split_child_that_cannot_hold_rejects")
        await keep_history(
            env.client.get_workflow_handle(shipment_workflow_id(wanted.order_id, 2)),
            "a_shipment_child_refused_its_hold",
        )
    assert (placement.accepted, placement.reason) == (False, "INSUFFICIENT_STOCK")
    assert final["status"] == "rejected"
    assert fakes.called("authorize") == []
    assert fakes.active_reservations == {}
    assert sorted(c["outcome"] for c in children) == ["refused", "released"]


async def test_a_declined_card_releases_every_childs_hold(env: WorkflowEnvironment) -> None:
    fakes = split_fakes(declined_tokens={"tok_decline"})
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order(tenders=[TenderInput("card", token="tok_decline")])
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        children = [await child_result(env.client, wanted.order_id, n) for n in (1, 2)]
    assert (placement.accepted, placement.reason) == (False, "PAYMENT_DECLINED")
    assert fakes.active_reservations == {}
    assert [c["outcome"] for c in children] == ["released", "released"]


async def test_a_refused_capture_refuses_the_first_shipment_whole(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()

    async def decline(_: Any) -> None:
        raise refused("PAYMENT_DECLINED", "the provider refused the capture")

    fakes.on("capture", decline)
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await ship(handle, f"{oid}-F1")
        cause = failed.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == ERROR_CAPTURE_FAILED
        # Nothing changed: not committed, still picking, and it ships on a retry.
        assert fakes.called("commit") == []
        again = await ship(handle, f"{oid}-F1")
        assert again.order_status == "partially_shipped"
        await handle.execute_update(CANCEL_UPDATE, CancelInput("changed my mind"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert captures(fakes)[0] == (SHIPPING + 923, False)


async def test_cancel_after_a_partial_shipment_releases_the_rest(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await ship(handle, f"{oid}-F1")
        cancelled = await handle.execute_update(
            CANCEL_UPDATE, CancelInput("no longer needed", actor="cus"), result_type=ActionResult
        )
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        children = [await child_result(env.client, oid, n) for n in (1, 2)]
        await keep_history(handle, "cancel_after_a_partial_shipment_releases_the_rest")
    # What shipped stays shipped and paid; the rest of the authorization goes back.
    assert cancelled.order_status == final["status"] == "shipped"
    assert captures(fakes) == [(SHIPPING + 923, False), (0, True)]
    assert fakes.called("void") == [] and fakes.called("refund") == []
    assert [c["outcome"] for c in children] == ["committed", "released"]
    assert fakes.active_reservations == {}
    assert final["fulfillments"][f"{oid}-F2"] == "cancelled"


async def test_cancel_before_any_shipment_releases_both_and_voids(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        await handle.execute_update(CANCEL_UPDATE, CancelInput("oops"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        children = [await child_result(env.client, oid, n) for n in (1, 2)]
    assert final["status"] == "cancelled"
    assert captures(fakes) == []
    [payment] = fakes.payments.values()
    assert payment.status == "voided"
    assert [c["outcome"] for c in children] == ["released", "released"]
    assert fakes.active_reservations == {}


async def test_a_rejected_split_fulfillment_with_nowhere_to_go_ships_the_rest(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(REJECT_UPDATE, RejectInput(f"{oid}-F2", "flooded"))
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        shipped = await ship(handle, f"{oid}-F1")
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        children = [await child_result(env.client, oid, n) for n in (1, 2)]
    assert shipped.order_status == final["status"] == "shipped"
    # Only F1 shipped: its goods' share and the shipping, final.
    assert captures(fakes) == [(SHIPPING + 923, True)]
    assert [c["outcome"] for c in children] == ["committed", "released"]
    assert fakes.active_reservations == {}


async def test_children_close_with_their_parent_and_a_cancelled_child_releases_its_hold(
    env: WorkflowEnvironment,
) -> None:
    """The parent-close policy is REQUEST_CANCEL: a parent that goes away
    (terminated, timed out) asks its children to cancel, and a cancelled child
    releases its hold. (The time-skipping server does not apply the policy on
    terminate, so the test checks the policy asked for, and cancels a child
    itself as the server would.)"""
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        history = await handle.fetch_history()
        policies = [
            event.start_child_workflow_execution_initiated_event_attributes.parent_close_policy
            for event in history.events
            if event.HasField("start_child_workflow_execution_initiated_event_attributes")
        ]
        assert policies == [PARENT_CLOSE_POLICY_REQUEST_CANCEL] * 2
        child = env.client.get_workflow_handle(shipment_workflow_id(wanted.order_id, 2))
        await child.cancel()
        with pytest.raises(WorkflowFailureError):
            await asyncio.wait_for(child.result(), ENDS_WITHIN)
        await handle.terminate("operator")
    far_hold = f"order-{wanted.order_id}/F2/reserve/{FAR}"
    assert far_hold in [r.reservation_id for r in fakes.called("release")]
    assert far_hold not in fakes.active_reservations


# ------------------------------------------------------------ races and abuse


async def test_both_shipments_at_once_capture_the_total_exactly_once(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        results = await asyncio.gather(
            ship(handle, f"{oid}-F1"), ship(handle, f"{oid}-F2"), return_exceptions=True
        )
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert final["status"] == "shipped"
    assert sum(amount for amount, _ in captures(fakes)) == TOTAL
    assert [final for _, final in captures(fakes)].count(True) == 1
    assert len(fakes.called("commit")) == 2


async def test_a_shipment_shipped_twice_or_of_another_order_is_refused(
    env: WorkflowEnvironment,
) -> None:
    fakes = split_fakes()
    async with running_worker(env.client, fakes) as queue:
        wanted = split_order()
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        await ship(handle, f"{oid}-F1")
        for fulfillment_id in (f"{oid}-F1", "someone-else-F1", f"{oid}-F2"):
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await ship(handle, fulfillment_id)
            cause = failed.value.cause
            assert isinstance(cause, ApplicationError) and cause.type == ERROR_INVALID_STATE
        await handle.execute_update(CANCEL_UPDATE, CancelInput("done"))
        await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert len(captures(fakes)) == 2  # the share, then the final release
    assert len(fakes.called("commit")) == 1


def test_a_partially_shipped_shipment_may_cancel_its_rest_a_shipped_one_not() -> None:
    assert rules.cancel_refusal("ship", "partially_shipped") is None
    assert rules.cancel_refusal("ship", "shipped") is not None


# ------------------------------------------------------------ placed by the orders service


def taken_by_orders_split(fakes: FakeServices, wanted: OrderInput) -> OrderInput:
    """The orders service held at both locations and authorized, then starts."""
    holds = []
    for location_id, lines in SPLIT.items():
        hold_id = f"{order_workflow_id(wanted.order_id)}/hold/{location_id}"
        fakes.active_reservations[hold_id] = ReserveStockInput(
            hold_id, wanted.order_id, location_id, list(lines), wanted.channel
        )
        holds.append(
            PlacedHold(location_id, hold_id, [LineInput(x.sku, x.quantity) for x in lines])
        )
    payment = PaymentInfo(
        payment_id=f"pay-{authorization_key(wanted.order_id, 0)}",
        tender_type="card",
        status="authorized",
        currency="USD",
        authorized_minor=TOTAL,
    )
    fakes.payments[payment.payment_id] = payment
    wanted.placed = PlacedInput(
        holds[0].location_id, holds[0].reservation_id, [AuthorizedTender(0, payment)], holds
    )
    return wanted


async def start(client: Client, wanted: OrderInput, queue: str) -> Any:
    return await client.start_workflow(
        SHIP_FROM_STORE_WORKFLOW,
        wanted,
        id=order_workflow_id(wanted.order_id),
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        task_queue=queue,
    )


async def test_a_split_placed_by_the_orders_service_confirms_each_hold_and_ships(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders_split(fakes, split_order())
        oid = wanted.order_id
        handle = await start(env.client, wanted, queue)
        await pick_all(handle, f"{oid}-F2", [LineInput("SKU-B", 1)])
        assert (await ship(handle, f"{oid}-F2")).order_status == "partially_shipped"
        await pick_all(handle, f"{oid}-F1", [LineInput("SKU-A", 2)])
        assert (await ship(handle, f"{oid}-F1")).order_status == "shipped"
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
        await keep_history(handle, "a_split_placed_by_the_orders_service_ships")
    assert final["status"] == "shipped"
    assert fakes.called("reserve") == [] and fakes.called("authorize") == []
    assert {c.reservation_id for c in fakes.called("confirm")} == {
        f"order-{oid}/hold/{NEAR}",
        f"order-{oid}/hold/{FAR}",
    }
    # F2 (300 of 1300 listed) first: the shipping and 277 (1200 * 300/1300).
    assert captures(fakes) == [(SHIPPING + 277, False), (TOTAL - SHIPPING - 277, True)]
    assert fakes.active_reservations == {}


async def test_a_split_hold_that_ran_out_and_cannot_be_taken_again_cancels(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(out_of_stock_at={FAR})
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders_split(fakes, split_order())
        fakes.expired_holds.add(f"{order_workflow_id(wanted.order_id)}/hold/{FAR}")
        handle = await start(env.client, wanted, queue)
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "cancelled"
    [payment] = fakes.payments.values()
    assert payment.status == "voided"
    assert fakes.active_reservations == {}
