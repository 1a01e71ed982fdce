"""Line cancels are priced by the one pricing function (issue 13): the share
given back is what those units paid after discounts, with their tax; never
more than paid, and the parts add up whatever the steps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from omni.words import Channel, FulfillmentType, OrderStatus
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.orders.domain import pricing
from services.orders.domain.line_cancels import lines_to_cancel
from services.orders.domain.records import OrderLineRecord, OrderRecord
from workflows.order import rules


def test_paid_upto_adds_up_to_the_line_in_any_steps() -> None:
    line = pricing.PaidLine("SKU", 7, subtotal_minor=7 * 333, discount_minor=100, tax_minor=171)
    upto = pricing.paid_upto(line)
    assert upto[0] == 0 and upto[-1] == line.paid_minor
    assert all(b >= a for a, b in itertools.pairwise(upto))
    for steps in ([1] * 7, [3, 4], [2, 2, 3], [7]):
        given, already = [], 0
        for units in steps:
            share = rules.cancelled_share(upto, already, units)
            assert share is not None
            given.append(share)
            already += units
        assert sum(given) == line.paid_minor
    # Never more than the line paid, even asked for more units than it has.
    assert rules.cancelled_share(upto, 5, 10) == line.paid_minor - upto[5]
    assert rules.cancelled_share([], 0, 1) is None


def test_cancelled_units_and_a_later_return_never_give_back_more_than_paid() -> None:
    line = pricing.PaidLine("SKU", 3, subtotal_minor=1000, discount_minor=1, tax_minor=80)
    upto = pricing.paid_upto(line)
    cancelled = rules.cancelled_share(upto, 0, 1)
    assert cancelled is not None
    assert cancelled == pricing.refund_for_units(line, 0, 1)
    assert cancelled + pricing.refund_for_units(line, 1, 2) == line.paid_minor


def _order() -> OrderRecord:
    return OrderRecord(
        order_id="O1",
        customer_id="C1",
        channel=Channel.WEB,
        status=OrderStatus.PLACED,
        total=Money(1404, "USD"),
        fulfillment_type=FulfillmentType.PICKUP,
        location_id="S1",
        address=None,
        associate_id="",
        store_id="",
        referral_associate_id="",
        workflow_id="order-O1",
        created_at=datetime.now(UTC),
        completed_at=None,
        lines=[
            OrderLineRecord("SKU-A", 2, 500, 30, 0, discount_minor=0, tax_minor=80),
            OrderLineRecord("SKU-B", 1, 300, 30, 0, discount_minor=50, tax_minor=20),
        ],
    )


def test_lines_to_cancel_carry_each_lines_paid_shares() -> None:
    lines = lines_to_cancel(_order(), [("SKU-A", 1), ("SKU-B", 1), ("SKU-X", 1)])
    assert [(line.sku, line.quantity, line.paid_upto) for line in lines] == [
        ("SKU-A", 1, (0, 540, 1080)),
        ("SKU-B", 1, (0, 270)),
        # Not in the order: no shares; the journey refuses it (422).
        ("SKU-X", 1, ()),
    ]


@pytest.mark.parametrize(
    "asked",
    [[], [("SKU-A", 0)], [("SKU-A", -1)], [("SKU-A", 1), ("SKU-A", 1)], [("", 1)]],
)
def test_malformed_line_cancels_are_invalid(asked: list[tuple[str, int]]) -> None:
    with pytest.raises(InvalidArgument):
        lines_to_cancel(_order(), asked)
