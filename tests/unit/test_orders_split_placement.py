"""Placement by the orders service of a split shipment (issue 11): no one
location ships every line, so it holds at each of the fewest that together can
(`<hold id>/<n>`), authorizes once, and starts the journey with every hold
(PlacedInput.holds: one ShipmentWorkflow each); a refusal gives back every hold."""

from __future__ import annotations

from dataclasses import replace

import pytest

from omni.words import FulfillmentType, OrderStatus, TenderType
from services.common.errors import BusinessRuleViolation
from services.orders import use_cases
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import Address, OrderRecord
from tests.unit.test_orders_placement import World, world  # noqa: F401 (the fixture)
from tests.unit.test_orders_use_cases import keyed, order_request
from workflows.contracts.journeys import placement_hold_id

SPLIT = [("S1", [("TEE-1", 2)]), ("S2", [("MUG-1", 1)])]


async def place_shipped(world: World, token: str = "tok_approve") -> OrderRecord:  # noqa: F811
    wanted = replace(
        order_request(
            ("TEE-1", 2),
            ("MUG-1", 1),
            tenders=[RequestedTender(TenderType.CARD, token=token)],
        ),
        fulfillment_type=FulfillmentType.SHIP,
        location_id="",
        address=Address("1 Main", "Town", "00001", "US", 1.0, 2.0),
    )
    return await use_cases.place_order(world.deps, wanted, keyed("split"))


def split_world(world: World) -> World:  # noqa: F811
    world.stock.sourced = []
    world.stock.splits = list(SPLIT)
    world.stock.available[("S2", "MUG-1")] = 5
    return world


async def test_a_split_holds_at_each_location_and_starts_with_every_hold(
    world: World,  # noqa: F811
) -> None:
    order = await place_shipped(split_world(world))
    oid = order.order_id
    hold = placement_hold_id(oid)
    assert order.status == OrderStatus.PLACED
    assert world.stock.calls == [f"hold {hold}/1 at S1 for 900s", f"hold {hold}/2 at S2 for 900s"]
    placed = world.placements.started[oid].placed
    assert placed is not None
    assert [(h.location_id, h.reservation_id) for h in placed.holds] == [
        ("S1", f"{hold}/1"),
        ("S2", f"{hold}/2"),
    ]
    assert [(line.sku, line.quantity) for line in placed.holds[1].lines] == [("MUG-1", 1)]
    assert (placed.location_id, placed.reservation_id) == ("S1", f"{hold}/1")
    # One authorization of the whole total.
    assert len(world.payments.by_key) == 1
    assert [(f.fulfillment_id, f.location_id) for f in order.fulfillments] == [
        (f"{oid}-F1", "S1"),
        (f"{oid}-F2", "S2"),
    ]
    assert [(line.sku, line.quantity) for line in order.fulfillments[1].lines] == [("MUG-1", 1)]


async def test_a_second_hold_refused_gives_back_the_first_and_authorizes_nothing(
    world: World,  # noqa: F811
) -> None:
    split_world(world).stock.available[("S2", "MUG-1")] = 0
    with pytest.raises(BusinessRuleViolation) as refused:
        await place_shipped(world)
    assert refused.value.reason == "INSUFFICIENT_STOCK"
    assert world.stock.available[("S1", "TEE-1")] == 3
    assert world.payments.by_key == {} and world.placements.starts == []


async def test_a_declined_card_gives_back_every_hold(world: World) -> None:  # noqa: F811
    split_world(world).payments.declined_tokens.add("tok_decline")
    with pytest.raises(BusinessRuleViolation) as refused:
        await place_shipped(world, token="tok_decline")
    assert refused.value.reason == "PAYMENT_DECLINED"
    assert world.stock.available[("S1", "TEE-1")] == 3
    assert world.stock.available[("S2", "MUG-1")] == 5
    assert world.placements.starts == []


async def test_no_split_either_is_no_source(world: World) -> None:  # noqa: F811
    world.stock.sourced = []
    with pytest.raises(BusinessRuleViolation) as refused:
        await place_shipped(world)
    assert refused.value.reason == "NO_SOURCE"
    assert world.stock.calls == []
