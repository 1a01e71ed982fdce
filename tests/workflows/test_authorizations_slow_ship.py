"""A slow shipment's authorization is renewed before it lapses (issue 11), on
a time-skipping server of its own (see test_authorizations_ship.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from tests.workflows.test_authorizations import ALL_LINES, ENDS_WITHIN, TOTAL, TWO_DAYS, eventually
from workflows.contracts.journeys import (
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    PickInput,
    ShipInput,
)


async def test_a_slow_shipment_is_renewed_then_captured(env: WorkflowEnvironment) -> None:
    """A 2-day authorization (as at a till) and a shipment 60 h after the
    pick (within the 72 h ship deadline): renewed at 36 h (a quarter left)."""
    fakes = FakeServices(card_lifetime=TWO_DAYS, sources=["store-1"])
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        await env.sleep(timedelta(hours=37))
        await eventually(lambda: len(fakes.called("reauthorize")) == 1)
        await env.sleep(timedelta(hours=23))  # 60 h: past the first lapse
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "shipped"
    assert [c.amount_minor for c in fakes.called("capture")] == [TOTAL]
