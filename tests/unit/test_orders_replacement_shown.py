"""An exchange's replacement before it is placed (issue 11): the return names
it from the start, so GET of it answers - `placed` while its stock is held
for the goods to come back, `cancelled` once its placement was refused -
while any action on it is a 409 and other pending or refused orders stay
hidden (404)."""

from __future__ import annotations

import pytest

from omni.words import OrderStatus
from services.common.errors import Conflict, NotFound
from services.orders import mapping, use_cases
from services.orders.domain.records import OrderRecord
from tests.unit.test_orders_use_cases import World, placed, world

__all__ = ["world"]  # the fixture


async def _stored(world: World, status: OrderStatus, exchange_for: str) -> OrderRecord:
    order = await placed(world, f"k-{status}-{exchange_for}")
    stored = world.storage.state.orders[order.order_id]
    stored.status = status
    stored.exchange_for = exchange_for
    return stored


@pytest.mark.parametrize(
    ("status", "shown_as"),
    [(OrderStatus.PENDING, OrderStatus.PLACED), (OrderStatus.REJECTED, OrderStatus.CANCELLED)],
)
async def test_a_replacement_its_return_names_is_shown(
    world: World, status: OrderStatus, shown_as: OrderStatus
) -> None:
    replacement = await _stored(world, status, "ret_1")
    found = await use_cases.get_order(world.deps, replacement.order_id)
    assert found.status == status
    assert found.shown_status == shown_as
    assert mapping.order_proto(found).status == shown_as.to_proto()
    with pytest.raises(Conflict) as refused:
        await use_cases.cancel_order(world.deps, replacement.order_id, "", "C1")
    assert refused.value.metadata["return_id"] == "ret_1"
    with pytest.raises(Conflict):
        await use_cases.cancel_order_lines(
            world.deps, replacement.order_id, [("TEE-1", 1)], "", "C1"
        )
    assert ("cancel", replacement.order_id) not in world.journeys.calls


@pytest.mark.parametrize("status", [OrderStatus.PENDING, OrderStatus.REJECTED])
async def test_other_pending_or_refused_orders_stay_hidden(
    world: World, status: OrderStatus
) -> None:
    hidden = await _stored(world, status, "")
    with pytest.raises(NotFound):
        await use_cases.get_order(world.deps, hidden.order_id)
    assert hidden.shown_status == status


async def test_a_placed_replacement_shows_its_own_status(world: World) -> None:
    replacement = await _stored(world, OrderStatus.READY_FOR_PICKUP, "ret_1")
    found = await use_cases.get_order(world.deps, replacement.order_id)
    assert found.shown_status == OrderStatus.READY_FOR_PICKUP
