"""A new pickup code (issue 12): the orders service asks the journey, which
owns pickup codes; a locked pickup is a conflict (409), a wrong code a 422."""

from __future__ import annotations

import dataclasses

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from omni.words import FulfillmentType
from services.common.errors import BusinessRuleViolation, Conflict, NotFound
from services.orders import use_cases
from services.orders.adapters.journeys import update_failure
from tests.unit.test_orders_use_cases import World, placed, world  # noqa: F401 (fixture)
from workflows.contracts.journeys import ERROR_PICKUP_LOCKED, ERROR_WRONG_PICKUP_CODE


async def test_a_new_code_is_the_journeys_to_issue(world: World) -> None:  # noqa: F811
    order = await placed(world)
    fid = order.fulfillments[0].fulfillment_id
    issued = await use_cases.issue_pickup_code(world.deps, fid, "C1")
    assert issued.fulfillment_id == fid
    assert world.journeys.calls[-1] == ("issue_pickup_code", fid)


async def test_no_code_for_a_shipment_or_an_unknown_fulfillment(world: World) -> None:  # noqa: F811
    order = await placed(world)
    fulfillment = order.fulfillments[0]
    world.storage.state.orders[order.order_id].fulfillments[0] = dataclasses.replace(
        fulfillment, type=FulfillmentType.SHIP
    )
    with pytest.raises(Conflict) as refused:
        await use_cases.issue_pickup_code(world.deps, fulfillment.fulfillment_id, "C1")
    assert refused.value.message == "only a pickup has a pickup code"
    with pytest.raises(NotFound):
        await use_cases.issue_pickup_code(world.deps, "ful_missing", "C1")
    assert [call for call, _ in world.journeys.calls] == ["place"]


def test_a_locked_pickup_is_a_conflict_and_a_wrong_code_a_business_rule() -> None:
    locked = update_failure(
        WorkflowUpdateFailedError(ApplicationError("locked", type=ERROR_PICKUP_LOCKED))
    )
    assert isinstance(locked, Conflict) and locked.reason == "PICKUP_LOCKED"
    wrong = update_failure(
        WorkflowUpdateFailedError(ApplicationError("no", type=ERROR_WRONG_PICKUP_CODE))
    )
    assert isinstance(wrong, BusinessRuleViolation) and wrong.reason == "WRONG_PICKUP_CODE"
