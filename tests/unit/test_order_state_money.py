"""The order journey's money with a priced total (issue 13): what is
authorized and what a delivery captures (workflows/order/state.py)."""

from __future__ import annotations

from omni.words import FulfillmentStatus, FulfillmentType
from workflows.contracts.journeys import LineInput, OrderInput
from workflows.order.state import Fulfillment, OrderState


def state(total_minor: int, *, picked: dict[str, int], delivered: bool = True) -> OrderState:
    lines = [LineInput("A", 3, 1000), LineInput("B", 1, 999)]
    order = OrderInput(
        "o1", "C1", "web", "USD", lines, [], FulfillmentType.PICKUP, "S1", total_minor=total_minor
    )
    journey = OrderState(order, FulfillmentType.PICKUP)
    fulfillment = Fulfillment("o1", 1, FulfillmentType.PICKUP, "S1", lines, picked=picked)
    fulfillment.status = FulfillmentStatus.PICKED_UP if delivered else FulfillmentStatus.PICKING
    journey.fulfillments.append(fulfillment)
    return journey


def test_the_priced_total_is_authorized_and_all_of_it_captured_when_all_is_delivered() -> None:
    journey = state(3456, picked={"A": 3, "B": 1})
    assert journey.total_minor == 3456
    assert journey.delivered_total_minor == 3456


def test_a_part_delivered_captures_its_half_even_share_never_more() -> None:
    journey = state(3456, picked={"A": 1})
    # 1000 of 3999 listed: 3456 x 1000 / 3999 = 864.2
    assert journey.delivered_total_minor == 864
    assert journey.delivered_total_minor <= journey.total_minor


def test_nothing_delivered_captures_nothing() -> None:
    assert state(3456, picked={"A": 3, "B": 1}, delivered=False).delivered_total_minor == 0


def test_an_order_placed_before_pricing_keeps_its_unit_prices() -> None:
    journey = state(0, picked={"A": 2})
    assert journey.total_minor == 3999
    assert journey.delivered_total_minor == 2000
