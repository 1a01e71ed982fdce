"""Authorizations of ship-from-store orders (issue 11) on the time-skipping
server: while a new tender is asked for, the shipment cannot ship.

One ship-from-store test with a long sleep per module: on HEAD before issue
11's renewals too, a second one in the same module (the same test server)
fails its sleep (RPCError "Timeout expired" / h2 protocol error); the slow
shipment is in test_authorizations_slow_ship.py."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import order, place, running_worker
from tests.workflows.test_authorizations import (
    ALL_LINES,
    ENDS_WITHIN,
    TWO_DAYS,
    card,
    events,
    eventually,
    new_payment,
    refusal_type,
)
from workflows.contracts.journeys import (
    ERROR_INVALID_STATE,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    PickInput,
    ShipInput,
)


async def test_a_shipment_waiting_for_a_new_tender_cannot_ship(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(
        card_lifetime=TWO_DAYS, sources=["store-1"], declined_reauth_tokens={"tok_visa"}
    )
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship")
        oid = wanted.order_id
        _, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        await handle.execute_update(PICK_UPDATE, PickInput(f"{oid}-F1", ALL_LINES))
        await env.sleep(timedelta(hours=37))
        await eventually(lambda: len(events(fakes, "payment_action_required")) == 1)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z"))
        assert refusal_type(refused) == ERROR_INVALID_STATE
        await new_payment(handle, "tok_new")
        await handle.execute_update(SHIP_UPDATE, ShipInput(f"{oid}-F1", "UPS", "1Z"))
        final = await asyncio.wait_for(handle.result(), ENDS_WITHIN)
    assert final["status"] == "shipped"
    [captured] = fakes.called("capture")
    assert captured.payment_id == card(fakes, "tok_new")
