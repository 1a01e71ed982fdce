"""SubmitOrderPayment in the orders service (issue 11): the tenders are checked
as at placement (every field at once, nothing reaches the journey); the
journey decides whether it asked for one (its refusal is the caller's)."""

from __future__ import annotations

import pytest

from omni.words import TenderType
from services.common.errors import Conflict, InvalidArgument
from services.orders import use_cases
from services.orders.domain.placing import RequestedTender
from tests.unit.test_orders_use_cases import World, placed, world  # noqa: F401 (the fixture)

CARD = RequestedTender(TenderType.CARD, token="tok_new")


async def test_the_new_tenders_go_to_the_journey_with_the_callers_key(
    world: World,  # noqa: F811
) -> None:
    order = await placed(world)
    await use_cases.submit_order_payment(world.deps, order.order_id, [CARD], "cus", key="k-9")
    assert ("new_payment", order.order_id) in world.journeys.calls
    assert ("new_payment", "k-9") in world.journeys.keys


async def test_bad_tenders_name_every_field_and_reach_no_journey(
    world: World,  # noqa: F811
) -> None:
    order = await placed(world)
    bad = [
        RequestedTender(TenderType.CARD, token=""),
        RequestedTender(TenderType.GIFT_CARD, code="", amount_minor=-1),
        RequestedTender(TenderType.CASH, amount_minor=100),
    ]
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.submit_order_payment(world.deps, order.order_id, bad, "cus")
    assert {v.field for v in refused.value.violations} >= {
        "tenders[0].token",
        "tenders[1].code",
        "tenders[2].type",
    }
    with pytest.raises(InvalidArgument):
        await use_cases.submit_order_payment(world.deps, order.order_id, [], "cus")
    assert [c for c in world.journeys.calls if c[0] == "new_payment"] == []


async def test_a_journey_that_asked_for_nothing_refuses(world: World) -> None:  # noqa: F811
    order = await placed(world)
    world.journeys.refusal = Conflict("INVALID_STATE", "the order is not waiting for a new payment")
    with pytest.raises(Conflict):
        await use_cases.submit_order_payment(world.deps, order.order_id, [CARD], "cus")
