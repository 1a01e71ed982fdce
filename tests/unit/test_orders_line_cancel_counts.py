"""What a line cancel leaves in the read model (issue 11): each order line
shows the units the journey accepted to cancel (`quantity_cancelled`),
counted once per cancel - a retry with the caller's key adds nothing, a
cancel the journey refuses adds nothing, a new cancel without a key adds
again - and never more than the line's quantity."""

from __future__ import annotations

import pytest

from services.common.errors import BusinessRuleViolation, Conflict
from services.orders import use_cases
from services.orders.domain.records import OrderRecord
from tests.unit.test_orders_use_cases import World, placed, world

__all__ = ["world"]  # the fixture


def _cancelled(order: OrderRecord) -> dict[str, int]:
    return {line.sku: line.quantity_cancelled for line in order.lines}


async def test_each_accepted_cancel_is_counted_once_per_key(world: World) -> None:
    order = await placed(world, "k1", ("TEE-1", 3), ("MUG-1", 2))
    assert _cancelled(order) == {"TEE-1": 0, "MUG-1": 0}

    first = await use_cases.cancel_order_lines(
        world.deps, order.order_id, [("TEE-1", 1)], "", "C1", key="lc-1"
    )
    assert _cancelled(first) == {"TEE-1": 1, "MUG-1": 0}
    # The answer was lost: the same key again is the same cancel.
    again = await use_cases.cancel_order_lines(
        world.deps, order.order_id, [("TEE-1", 1)], "", "C1", key="lc-1"
    )
    assert _cancelled(again) == {"TEE-1": 1, "MUG-1": 0}
    # Another cancel, without a key: counted too.
    later = await use_cases.cancel_order_lines(
        world.deps, order.order_id, [("TEE-1", 1), ("MUG-1", 2)], "", "C1"
    )
    assert _cancelled(later) == {"TEE-1": 2, "MUG-1": 2}
    # The same key on another order is that order's own cancel.
    other = await placed(world, "k2", ("TEE-1", 3))
    elsewhere = await use_cases.cancel_order_lines(
        world.deps, other.order_id, [("TEE-1", 1)], "", "C1", key="lc-1"
    )
    assert _cancelled(elsewhere) == {"TEE-1": 1}
    stored = await use_cases.get_order(world.deps, order.order_id)
    assert _cancelled(stored) == {"TEE-1": 2, "MUG-1": 2}


async def test_a_refused_cancel_counts_nothing(world: World) -> None:
    order = await placed(world, "k1", ("TEE-1", 3))
    world.journeys.refusal = Conflict("INVALID_STATE", "already shipped")
    with pytest.raises(Conflict):
        await use_cases.cancel_order_lines(
            world.deps, order.order_id, [("TEE-1", 1)], "", "C1", key="lc-1"
        )
    world.journeys.refusal = BusinessRuleViolation("INVALID_LINE_CANCEL", "only 3 left")
    with pytest.raises(BusinessRuleViolation):
        await use_cases.cancel_order_lines(world.deps, order.order_id, [("TEE-1", 4)], "", "C1")
    stored = await use_cases.get_order(world.deps, order.order_id)
    assert _cancelled(stored) == {"TEE-1": 0}
