"""Shipments followed to delivery on the time-skipping server (issue 11): the
delivery journey starts when a fulfillment ships (never before), records the
order's `delivered` event and the customer's milestone once, whether the
carrier's answer comes by tracking or by its own report, twice or not, and
gives a parcel up after TRACK_FOR."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, order, place, running_worker, unique
from workflows.contracts.delivery import (
    DELIVERED,
    DELIVERY_WORKFLOW,
    NOT_DELIVERED,
    PARCEL_DELIVERED_SIGNAL,
    DeliveryInput,
    DeliveryResult,
    ParcelDelivered,
    delivery_workflow_id,
)
from workflows.contracts.journeys import (
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    ActionResult,
    LineInput,
    PickInput,
    ShipInput,
)
from workflows.delivery.workflow import TRACK_FOR

ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


async def eventually(check: Callable[[], bool], within: float = 10.0) -> None:
    """Activities run in real time: wait (bounded) for their effect."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def finished(delivery: WorkflowHandle[Any, DeliveryResult]) -> DeliveryResult:
    """Waits (bounded, real time: the timers here are a second) for the journey to end."""
    deadline = asyncio.get_running_loop().time() + 20
    while (await delivery.describe()).status == WorkflowExecutionStatus.RUNNING:
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the delivery journey did not end")
        await asyncio.sleep(0.1)
    return await delivery.result()


def delivered_events(fakes: FakeServices) -> list[str]:
    return [p.event_id for p in fakes.order_progress if p.event_type == "delivered"]


def delivered_milestones(fakes: FakeServices) -> list[str]:
    return [e.event_id for e in fakes.timeline.values() if e.kind == "order_delivered"]


async def test_a_shipment_is_delivered_after_it_ships_never_before(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(sources=["store-1"], parcel_delivered_at_call=2, parcel_check_seconds=1)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES), result_type=ActionResult
        )
        # Picked and waiting for the carrier for a day: nobody asks about a parcel.
        await env.sleep(timedelta(hours=20))
        assert fakes.called("track_parcel") == []
        assert delivered_events(fakes) == []

        await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z-DELIVER"), result_type=ActionResult
        )
        assert (await handle.result())["status"] == "shipped"
        delivery = env.client.get_workflow_handle(
            delivery_workflow_id(f"{oid}-F1"), result_type=DeliveryResult
        )
        result = await finished(delivery)
        await keep_history(handle, "a_shipment_followed_to_delivery")
        await keep_history(delivery, "a_delivery_journey_until_delivered")

    assert (result.fulfillment_id, result.outcome) == (f"{oid}-F1", DELIVERED)
    # Asked at once (on its way), then again when the carrier said: delivered.
    asked = fakes.called("track_parcel")
    assert [(a.carrier, a.tracking_number) for a in asked] == [("UPS", "1Z-DELIVER")] * 2
    assert delivered_events(fakes) == [f"order-{oid}/delivered"]
    [event] = [p for p in fakes.order_progress if p.event_type == "delivered"]
    assert event.status == "" and event.fulfillments == []  # the order stays shipped
    assert event.event_detail == f"{oid}-F1 delivered by UPS 1Z-DELIVER"
    [milestone] = [e for e in fakes.timeline.values() if e.kind == "order_delivered"]
    assert milestone.event_id == f"order-{oid}/timeline/order_delivered"
    assert milestone.details["lines"] == "2 x SKU-A, 1 x SKU-B"
    assert milestone.details["tracking_number"] == "1Z-DELIVER"
    assert milestone.customer_id == wanted.customer_id


async def test_delivery_reported_twice_is_recorded_once(env: WorkflowEnvironment) -> None:
    # The carrier's tracking never says delivered: its own reports do, twice.
    fakes = FakeServices(sources=["store-1"], parcel_delivered_at_call=None)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(
            PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES), result_type=ActionResult
        )
        await handle.execute_update(
            SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z-TWICE"), result_type=ActionResult
        )
        delivery = env.client.get_workflow_handle(
            delivery_workflow_id(f"{oid}-F1"), result_type=DeliveryResult
        )
        await eventually(lambda: len(fakes.called("track_parcel")) == 1)
        await asyncio.gather(
            delivery.signal(PARCEL_DELIVERED_SIGNAL, ParcelDelivered()),
            delivery.signal(PARCEL_DELIVERED_SIGNAL, ParcelDelivered()),
        )
        result = await finished(delivery)
        await handle.result()
        await keep_history(delivery, "a_delivery_reported_twice")

    assert result.outcome == DELIVERED
    assert delivered_events(fakes) == [f"order-{oid}/delivered"]
    assert delivered_milestones(fakes) == [f"order-{oid}/timeline/order_delivered"]
    # The first report ended the tracking: nobody asked the carrier again.
    assert len(fakes.called("track_parcel")) == 1


async def test_a_parcel_never_delivered_is_given_up_without_a_record(
    env: WorkflowEnvironment,
) -> None:
    """Started as the ship-from-store journey starts it, followed for 3 s only."""
    fakes = FakeServices(parcel_delivered_at_call=None, parcel_check_seconds=1)
    async with running_worker(env.client, fakes) as queue:
        oid = unique("ord")
        delivery = await env.client.start_workflow(
            DELIVERY_WORKFLOW,
            DeliveryInput(
                order_id=oid,
                customer_id="cus-1",
                channel="web",
                currency="USD",
                fulfillment_id=f"{oid}-F1",
                event_id=f"order-{oid}/delivered",
                timeline_event_id=f"order-{oid}/timeline/order_delivered",
                carrier="UPS",
                tracking_number="LOST-1",
                lines_text="1 x SKU-A",
                track_for_seconds=3,
            ),
            id=delivery_workflow_id(f"{oid}-F1"),
            task_queue=queue,
            result_type=DeliveryResult,
        )
        result = await finished(delivery)

    assert result.outcome == NOT_DELIVERED
    # Asked about every second for 3 s, then no more.
    assert 2 <= len(fakes.called("track_parcel")) <= 5
    assert delivered_events(fakes) == []
    assert delivered_milestones(fakes) == []
    # The default is a month of asking.
    assert TRACK_FOR == timedelta(days=30)
