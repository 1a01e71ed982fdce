"""A store action retried after its answer was lost (issue 10, defect 8).

The orders service's real adapter (services/orders/adapters/journeys.py)
sends the actions to the real workflows on the time-skipping server. With
the caller's Idempotency-Key the retry is the same update (a stable update
id), so it gets the first answer instead of a 409; without one nothing is
derived and a repeat is a new action, refused as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from omni.words import FulfillmentStatus, FulfillmentType
from services.common.errors import BusinessRuleViolation, Conflict
from services.orders.adapters.journeys import TemporalJourneys, action_update_id
from services.orders.domain.records import FulfillmentLineRecord, FulfillmentRecord
from services.orders.domain.store_work import PickedLine
from tests.workflows.fakes import FakeServices, refused
from tests.workflows.journeys import order, place, running_worker
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    ERROR_CAPTURE_FAILED,
    PICK_UPDATE,
    SHIP_FROM_STORE_WORKFLOW,
    LineInput,
)


def _fulfillment(order_id: str, kind: FulfillmentType, location_id: str) -> FulfillmentRecord:
    return FulfillmentRecord(
        f"{order_id}-F1",
        order_id,
        kind,
        location_id,
        FulfillmentStatus.PENDING,
        [FulfillmentLineRecord("SKU-A", 1)],
        "",
        "",
        "",
        datetime.now(UTC),
    )


def _journeys(env: WorkflowEnvironment) -> TemporalJourneys:
    async def connect() -> Client:
        return env.client

    return TemporalJourneys(connect)


def _pickup_code(fakes: FakeServices) -> str:
    ready = [p for p in fakes.order_progress if p.status == "ready_for_pickup"]
    return ready[-1].fulfillments[0].pickup_code


def test_the_update_id_is_derived_from_the_key_and_nothing_without_one() -> None:
    assert action_update_id(PICK_UPDATE, "ord-1-F1", "") is None
    first = action_update_id(PICK_UPDATE, "ord-1-F1", "gw-abc")
    assert first == action_update_id(PICK_UPDATE, "ord-1-F1", "gw-abc")
    # Another action, or another fulfillment, under the same key is another update.
    assert first != action_update_id("handover", "ord-1-F1", "gw-abc")
    assert first != action_update_id(PICK_UPDATE, "ord-1-F2", "gw-abc")
    # However long the caller's key, the id stays short.
    assert len(action_update_id(PICK_UPDATE, "f", "k" * 200) or "") < 120


async def test_pick_and_handover_retried_with_their_keys_answer_as_the_first_time(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    journeys = _journeys(env)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(lines=[LineInput("SKU-A", 1, 500)])
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        fulfillment = _fulfillment(wanted.order_id, FulfillmentType.PICKUP, "store-1")

        await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy", key="gw-pick-1")
        # The answer was lost; the associate's app retries with the same key.
        await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy", key="gw-pick-1")

        code = _pickup_code(fakes)
        await journeys.hand_over(fulfillment, code, "amy", key="gw-hand-1")
        result = await handle.result()
        # The journey has ended; the retry still finds the first answer.
        await journeys.hand_over(fulfillment, code, "amy", key="gw-hand-1")

    assert result["status"] == "completed"
    assert len(fakes.called("capture")) == 1
    assert len(fakes.called("commit")) == 1
    # One pick reached the journey: one ready_for_pickup.
    assert [p.status for p in fakes.order_progress].count("ready_for_pickup") == 1


async def test_a_repeat_without_a_key_is_a_new_action_and_refused(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices()
    journeys = _journeys(env)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(lines=[LineInput("SKU-A", 1, 500)])
        await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        fulfillment = _fulfillment(wanted.order_id, FulfillmentType.PICKUP, "store-1")
        await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy")
        with pytest.raises(Conflict):
            await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy")
        # Another key is another action too: refused, not replayed.
        with pytest.raises(Conflict):
            await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy", key="gw-other")
        await journeys.cancel(wanted.order_id, "test over", "amy")


async def test_ship_and_cancel_retried_with_their_keys_answer_as_the_first_time(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(sources=["store-near"])
    journeys = _journeys(env)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(fulfillment_type="ship", lines=[LineInput("SKU-A", 1, 500)])
        placement, handle = await place(env.client, SHIP_FROM_STORE_WORKFLOW, wanted, queue)
        assert placement.accepted, placement
        # Only the order and fulfillment ids travel to the journey.
        fulfillment = _fulfillment(wanted.order_id, FulfillmentType.SHIP, "")
        await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy", key="gw-p")
        await journeys.ship(fulfillment, "UPS", "1Z1", "amy", key="gw-s")
        await journeys.ship(fulfillment, "UPS", "1Z1", "amy", key="gw-s")
        await handle.result()

    assert len(fakes.called("capture")) == 1

    # Cancel: the order's journey ends with the first; the retry finds its answer.
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order(lines=[LineInput("SKU-A", 1, 500)])
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        await journeys.cancel(wanted.order_id, "changed my mind", "cus", key="gw-c")
        final = await handle.result()
        await journeys.cancel(wanted.order_id, "changed my mind", "cus", key="gw-c")
    assert final["status"] == "cancelled"
    assert len(fakes.called("void")) == 1


async def test_a_refused_capture_at_handover_is_a_business_refusal_naming_capture_failed(
    env: WorkflowEnvironment,
) -> None:
    """CAPTURE_FAILED from the journey reaches the orders service as a
    business refusal (FAILED_PRECONDITION, reason CAPTURE_FAILED: the
    gateway's 422) carrying the provider's reason; the same key gets the same
    answer, and a new attempt (a new key) hands over once the capture goes through."""
    fakes = FakeServices()
    declines = [1]

    async def decline_once(_: Any) -> None:
        if declines:
            declines.pop()
            raise refused("PAYMENT_DECLINED", "the authorization expired")

    fakes.on("capture", decline_once)
    journeys = _journeys(env)
    async with running_worker(env.client, fakes) as queue:
        wanted = order(lines=[LineInput("SKU-A", 1, 500)])
        _, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        fulfillment = _fulfillment(wanted.order_id, FulfillmentType.PICKUP, "store-1")
        await journeys.pick(fulfillment, [PickedLine("SKU-A", 1)], "amy")
        code = _pickup_code(fakes)
        for _ in range(2):
            with pytest.raises(BusinessRuleViolation) as refusal:
                await journeys.hand_over(fulfillment, code, "amy", key="gw-hand-1")
            assert refusal.value.reason == ERROR_CAPTURE_FAILED
            assert refusal.value.metadata == {"payment_reason": "PAYMENT_DECLINED"}
        assert fakes.called("commit") == []
        await journeys.hand_over(fulfillment, code, "amy", key="gw-hand-2")
        result = await handle.result()
    assert result["status"] == "completed"
    assert len(fakes.called("commit")) == 1
