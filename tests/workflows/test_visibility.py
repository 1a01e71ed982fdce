"""What the Temporal UI shows of a journey (workflows/order/visibility.py), on
the time-skipping server: search attributes at every status change and
reroute, current details, and a summary on every activity call."""

from __future__ import annotations

from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from tests.workflows.test_placed_by_orders import start, taken_by_orders
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    HANDOVER_UPDATE,
    PICK_UPDATE,
    PLACE_UPDATE,
    REJECT_UPDATE,
    SEARCH_ATTRIBUTES,
    SHIP_FROM_STORE_WORKFLOW,
    CancelInput,
    HandoverInput,
    LineInput,
    PickInput,
    PlacementResult,
    RejectInput,
    TenderInput,
)

ALL_LINES = [LineInput("SKU-A", 2), LineInput("SKU-B", 1)]


async def attributes(handle: WorkflowHandle[Any, Any]) -> dict[str, Any]:
    described = await handle.describe()
    # (TemporalChangeVersion, the patches' own attribute, is Temporal's.)
    return {
        pair.key.name: pair.value
        for pair in described.typed_search_attributes
        if pair.key.name in SEARCH_ATTRIBUTES
    }


async def upserts(handle: WorkflowHandle[Any, Any]) -> int:
    history = await handle.fetch_history()
    kind = EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES
    return sum(
        1
        for event in history.events
        if event.event_type == kind
        and set(
            event.upsert_workflow_search_attributes_event_attributes.search_attributes.indexed_fields
        )
        & set(SEARCH_ATTRIBUTES)
    )


async def details(handle: WorkflowHandle[Any, Any]) -> str:
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    return metadata.current_details


def pickup_code(fakes: FakeServices, fulfillment_id: str) -> str:
    return [
        f.pickup_code
        for progress in fakes.order_progress
        for f in progress.fulfillments
        if f.fulfillment_id == fulfillment_id and f.pickup_code
    ][-1]


async def test_a_pickup_is_findable_by_status_and_store_at_every_step(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(location_id="S1")
        oid = wanted.order_id
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted
        assert await attributes(handle) == {
            "OrderId": oid,
            "CustomerId": wanted.customer_id,
            "Channel": "web",
            "StoreId": "S1",
            "FulfillmentType": "pickup",
            "OrderStatus": "placed",
        }
        assert "**placed**" in await details(handle)

        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        seen = await attributes(handle)
        assert (seen["OrderStatus"], seen["StoreId"]) == ("ready_for_pickup", "S1")
        assert f"{oid}-F1 at S1: ready_for_pickup" in await details(handle)

        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes, f"{oid}-F1"))
        )
        await handle.result()
        assert (await attributes(handle))["OrderStatus"] == "completed"
        # One upsert per change (placed with everything, then the status twice):
        # an unchanged value is never upserted again.
        assert await upserts(handle) == 3


async def test_a_reroute_moves_the_store_id_to_the_new_store(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(pickup_sources=["store-1", "store-2"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert (await attributes(handle))["StoreId"] == "store-1"
        await handle.execute_update(REJECT_UPDATE, RejectInput(f"{oid}-F1", "flooded", "amy"))
        seen = await attributes(handle)
        assert (seen["StoreId"], seen["OrderStatus"]) == ("store-2", "placed")
        text = await details(handle)
        assert f"{oid}-F1 at store-1: rerouted" in text
        assert f"{oid}-F2 at store-2: pending" in text
        await handle.execute_update("cancel", CancelInput("changed my mind"))
        await handle.result()
        seen = await attributes(handle)
        assert (seen["StoreId"], seen["OrderStatus"]) == ("store-2", "cancelled")


async def test_a_shipment_s_store_id_is_the_shipping_location(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(sources=["store-near", "store-far"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        seen = await attributes(handle)
        assert (seen["StoreId"], seen["FulfillmentType"], seen["OrderStatus"]) == (
            "store-near",
            "ship",
            "placed",
        )
        # No personal data: the street address never reaches visibility.
        assert all("Main St" not in str(value) for value in seen.values())
        assert set(seen) <= set(SEARCH_ATTRIBUTES)
        await handle.execute_update("cancel", CancelInput("test over"))
        await handle.result()


async def test_a_refused_placement_is_findable_as_rejected(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(declined_tokens={"tok_declined"})
    async with running_worker(env.client, fakes) as queue:
        wanted = order(tenders=[TenderInput("card", token="tok_declined")])
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert not placement.accepted
        await handle.result()
        assert (await attributes(handle))["OrderStatus"] == "rejected"


async def test_every_activity_call_has_a_summary_naming_it_and_no_secret(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        oid = wanted.order_id
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        await handle.execute_update(
            HANDOVER_UPDATE, HandoverInput(f"{oid}-F1", pickup_code(fakes, f"{oid}-F1"))
        )
        await handle.result()
        history = await handle.fetch_history()

    converter = env.client.data_converter
    scheduled = [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert len(scheduled) >= 5
    code = pickup_code(fakes, f"{oid}-F1")
    for event in scheduled:
        name = event.activity_task_scheduled_event_attributes.activity_type.name
        assert event.user_metadata.HasField("summary"), name
        [summary] = await converter.decode([event.user_metadata.summary], [str])
        assert summary.startswith(name), (name, summary)
        assert "tok_visa" not in summary and code not in summary


async def test_an_order_the_orders_service_placed_is_findable_from_its_start(
    env: WorkflowEnvironment,
) -> None:
    """No `record` runs at such a placement (the orders service recorded it):
    the adoption shows it, for a pickup and for a shipment."""
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        for workflow, wanted, store in (
            (BOPIS_WORKFLOW, order(), "store-1"),
            (SHIP_FROM_STORE_WORKFLOW, order(fulfillment_type="ship"), "store-9"),
        ):
            taken = taken_by_orders(fakes, wanted, store)
            handle = await start(env.client, workflow, taken, queue)
            answer = await handle.execute_update(PLACE_UPDATE, result_type=PlacementResult)
            assert answer.accepted
            seen = await attributes(handle)
            assert (seen["OrderStatus"], seen["StoreId"], seen["OrderId"]) == (
                "placed",
                store,
                wanted.order_id,
            )
            assert "**placed**" in await details(handle)
            await handle.execute_update("cancel", CancelInput("test over"))
            await handle.result()
