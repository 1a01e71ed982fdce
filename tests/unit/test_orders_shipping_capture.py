"""The shipping charge goes with the first shipment (issue 13): the journey's
input says how much of the priced total is shipping (with its tax), so a
split order's first shipment captures it whole (workflows/order/state.py
shipped_share) and the parts still add up to the quote."""

from __future__ import annotations

from datetime import UTC, datetime

from omni.words import Channel, FulfillmentType, OrderStatus
from services.common.money import Money
from services.orders.adapters.journeys import order_input
from services.orders.domain.records import Address, OrderLineRecord, OrderRecord
from workflows.contracts.journeys import LineInput
from workflows.order.state import OrderState


def shipped_order(shipping: int, shipping_tax: int, total: int) -> OrderRecord:
    return OrderRecord(
        order_id="O1",
        customer_id="C1",
        channel=Channel.WEB,
        status=OrderStatus.PLACED,
        total=Money(total, "USD"),
        fulfillment_type=FulfillmentType.SHIP,
        location_id="",
        address=Address("1 Main St", "Springfield", "12345", "US", 40.0, -74.0, "CA"),
        associate_id="",
        store_id="",
        referral_associate_id="",
        workflow_id="order-O1",
        created_at=datetime(2026, 6, 1, tzinfo=UTC),
        completed_at=None,
        lines=[
            OrderLineRecord("A", 2, 1899, 30, 0, tax_minor=247),
            OrderLineRecord("B", 1, 2450, 30, 0, discount_minor=612, tax_minor=119),
        ],
        subtotal_minor=6248,
        discount_minor=612,
        shipping_minor=shipping,
        shipping_tax_minor=shipping_tax,
        tax_minor=247 + 119 + shipping_tax,
    )


def test_the_journey_is_told_the_shipping_with_its_tax() -> None:
    record = shipped_order(895, 58, 6248 - 612 + 895 + 247 + 119 + 58)
    journey = order_input(record, [])
    assert journey.total_minor == record.total.amount_minor
    assert journey.shipping_minor == 895 + 58


def test_an_order_without_shipping_tells_none() -> None:
    record = shipped_order(0, 0, 6248 - 612 + 366)
    assert order_input(record, []).shipping_minor == 0


def test_the_first_shipment_captures_the_shipping_and_the_parts_add_up_to_the_total() -> None:
    record = shipped_order(895, 58, 6248 - 612 + 895 + 247 + 119 + 58)
    journey = order_input(record, [])
    assert [LineInput(line.sku, line.quantity, line.unit_price_minor) for line in record.lines] == (
        journey.lines
    )
    state = OrderState(journey, FulfillmentType.SHIP)
    first = state.shipped_share(2 * 1899)  # the A shipment goes first
    assert first >= 895 + 58
    everything = state.shipped_share(2 * 1899 + 2450)
    assert everything == record.total.amount_minor
    second = everything - first
    goods = record.total.amount_minor - 895 - 58
    # The goods are shared in proportion: the second shipment pays no shipping.
    assert second == round(goods * 2450 / (2 * 1899 + 2450))
