"""A journey placed by the orders service looks its pickup store up once
(issue 10, placement speed): the pickup window's local lookup also gives the
store clocks (pick SLA, curbside) their location, so the journey start no
longer schedules a second, regular inventory.get_location activity (a round
trip through the Temporal server per order). Behind the patch
`placed-location-looked-up-once`; histories recorded before it replay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, order, running_worker
from tests.workflows.test_placed_by_orders import start, taken_by_orders
from tests.workflows.test_store_slas import eventually
from workflows.contracts.journeys import BOPIS_WORKFLOW, CANCEL_UPDATE, CancelInput

SLA_MINUTES = 0.1
SLA = timedelta(minutes=SLA_MINUTES)


async def test_a_placed_order_looks_its_store_up_once_and_its_pick_sla_still_runs(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(pick_sla_minutes={"store-1": SLA_MINUTES})
    async with running_worker(env.client, fakes) as queue:
        wanted = taken_by_orders(fakes, order(), "store-1")
        handle = await start(env.client, BOPIS_WORKFLOW, wanted, queue)
        # The store's own pick SLA applies: the fulfillment goes overdue after it.
        await env.sleep(SLA * 1.2)
        await eventually(lambda: any(p.event_type == "pick_overdue" for p in fakes.order_progress))
        [overdue] = [p for p in fakes.order_progress if p.event_type == "pick_overdue"]
        assert "0.1-minute pick SLA" in overdue.event_detail
        # Looked up once, for the window and the clocks together.
        assert [r.location_id for r in fakes.called("get_location")] == ["store-1"]
        await handle.execute_update(CANCEL_UPDATE, CancelInput("changed my mind", "customer"))
        final = await asyncio.wait_for(handle.result(), 30)
        await keep_history(handle, "a_placed_order_looks_its_store_up_once")

    assert final["status"] == "cancelled"
    assert [r.location_id for r in fakes.called("get_location")] == ["store-1"]
