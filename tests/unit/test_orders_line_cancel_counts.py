"""What a line cancel leaves in the read model (issue 11): each order line
shows the units the journey accepted to cancel (`quantity_cancelled`),
counted once per cancel - a retry with the caller's key adds nothing, a
cancel the journey refuses adds nothing, a new cancel without a key adds
again - and never more than the line's quantity. Cancelled units are never
delivered, so they cannot be returned, and a return's refund shares start
after the cancelled ones (together they give back exactly the line)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from omni.words import FulfillmentStatus, ItemCondition, OrderStatus
from services.common.errors import BusinessRuleViolation, Conflict
from services.orders import use_cases
from services.orders.domain import returns
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


# ---------------------------------------------------------------- returns after a line cancel

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _plan(cancelled: int, returning: int, *, shipping: int = 0) -> returns.ReturnPlan:
    """A line of 3 units that paid 1000 (a 3-way split: 333, 333, 334 by
    paid_upto), `cancelled` of them cancelled before delivery."""
    line = returns.BoughtLine(
        "A", 3, 0, 400, 30, discount_minor=200, tax_minor=0, quantity_cancelled=cancelled
    )
    return returns.plan_return(
        order_status=OrderStatus.COMPLETED,
        fulfillment_statuses=[FulfillmentStatus.PICKED_UP],
        bought={"A": line},
        lines=[returns.ReturnRequestLine("A", returning, ItemCondition.SELLABLE)],
        window_reference=NOW - timedelta(days=1),
        now=NOW,
        shipping_with_tax_minor=shipping,
    )


def test_cancelled_units_are_never_returned() -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        _plan(cancelled=1, returning=3)
    assert refused.value.metadata["returnable"] == "2"
    # The rest is what was delivered: its refund is the line less the
    # cancelled unit's share (the cancel gave back the first share), and
    # bringing all of it back is the whole order (shipping refunded).
    assert _plan(cancelled=1, returning=2).refund_minor == 1000 - 333
    assert _plan(cancelled=1, returning=2, shipping=500).refund_minor == 1000 - 333 + 500
    assert _plan(cancelled=0, returning=3, shipping=500).refund_minor == 1500


async def test_a_return_cannot_hold_cancelled_units(world: World) -> None:
    order = await placed(world, "k1", ("TEE-1", 3))
    await use_cases.cancel_order_lines(world.deps, order.order_id, [("TEE-1", 1)], "", "C1")
    async with world.deps.storage.unit_of_work() as uow:
        assert not await uow.records.reserve_returned_quantity(order.order_id, "TEE-1", 3)
        assert await uow.records.reserve_returned_quantity(order.order_id, "TEE-1", 2)
