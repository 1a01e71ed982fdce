"""ChangeShippingAddress in the orders service (issue 11): validated here, the
journey decides (409 once picked), and only then is the street kept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from omni.words import FulfillmentType
from services.common.errors import Conflict, InvalidArgument
from services.orders import use_cases
from services.orders.domain.records import Address
from tests.unit.test_orders_use_cases import World, placed, world  # noqa: F401 (the fixture)

NEW = Address("9 Far Rd", "Farville", "99999", "US", 47.6, -122.3)


async def shipped_order(world: World) -> str:  # noqa: F811
    order = await placed(world)
    stored = world.storage.state.orders[order.order_id]
    stored.fulfillment_type = FulfillmentType.SHIP
    stored.address = Address("1 Main St", "Springfield", "12345", "US", 40.0, -75.0)
    return order.order_id


async def test_the_journey_takes_the_point_and_the_street_is_kept_here(
    world: World,  # noqa: F811
) -> None:
    order_id = await shipped_order(world)
    order = await use_cases.change_shipping_address(world.deps, order_id, NEW, "cus", key="k-1")
    assert ("shipping_address", order_id) in world.journeys.calls
    assert ("shipping_address", "k-1") in world.journeys.keys
    assert order.address == NEW


async def test_a_bad_address_names_its_fields_and_reaches_no_journey(
    world: World,  # noqa: F811
) -> None:
    order_id = await shipped_order(world)
    bad = replace(NEW, line1="", lat=95.0)
    with pytest.raises(InvalidArgument) as refused:
        await use_cases.change_shipping_address(world.deps, order_id, bad, "cus")
    assert {v.field for v in refused.value.violations} >= {"address.line1", "address.point.lat"}
    assert [c for c in world.journeys.calls if c[0] == "shipping_address"] == []


async def test_a_pickup_has_no_shipping_address(world: World) -> None:  # noqa: F811
    order = await placed(world)
    with pytest.raises(Conflict):
        await use_cases.change_shipping_address(world.deps, order.order_id, NEW, "cus")
    assert [c for c in world.journeys.calls if c[0] == "shipping_address"] == []


async def test_a_journey_refusal_keeps_the_old_street(world: World) -> None:  # noqa: F811
    order_id = await shipped_order(world)
    world.journeys.refusal = Conflict("INVALID_STATE", "cannot change the address once picked")
    with pytest.raises(Conflict):
        await use_cases.change_shipping_address(world.deps, order_id, NEW, "cus")
    assert world.storage.state.orders[order_id].address != NEW
