"""Orders' pure rules: placing, picking, progress and returns."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    ReturnMethod,
    TenderType,
)
from services.common.card_numbers import card_number_fields
from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument
from services.common.money import Money
from services.orders import mapping
from services.orders.domain import placing, progress, returns, store_work
from services.orders.domain.placing import (
    Catalog,
    CatalogPrice,
    OrderRequest,
    RequestedLine,
    RequestedTender,
)
from services.orders.domain.records import Address
from services.orders.domain.returns import BoughtLine, ReturnRequestLine
from services.orders.domain.store_work import PickedLine

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)
SELLABLE, DAMAGED = ItemCondition.SELLABLE, ItemCondition.DAMAGED
CARD, GIFT_CARD = TenderType.CARD, TenderType.GIFT_CARD


def pickup_order(**changes: object) -> OrderRequest:
    base = OrderRequest(
        customer_id="C1",
        channel=Channel.WEB,
        lines=[RequestedLine("TEE-1", 2)],
        fulfillment_type=FulfillmentType.PICKUP,
        location_id="S1",
        address=None,
        tenders=[RequestedTender(CARD, token="tok_approve")],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fields_of(error: InvalidArgument) -> set[str]:
    return {v.field for v in error.violations}


# ---------------------------------------------------------------- placing


def test_valid_order_merges_repeated_skus() -> None:
    order = placing.validate_order_request(
        pickup_order(lines=[RequestedLine("A", 1), RequestedLine("B", 2), RequestedLine("A", 3)])
    )
    assert order.lines == [RequestedLine("A", 4), RequestedLine("B", 2)]


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidArgument) as caught:
        placing.validate_order_request(
            pickup_order(
                customer_id="",
                channel=None,  # "fax": no channel the enum knows
                lines=[RequestedLine("", 0), RequestedLine("X", 1001)],
                location_id="",
                tenders=[],
            )
        )
    assert fields_of(caught.value) == {
        "customer_id",
        "channel",
        "lines[0].sku",
        "lines[0].quantity",
        "lines[1].quantity",
        "fulfillment.location_id",
        "tenders",
    }


def test_merged_quantity_over_the_limit_is_refused() -> None:
    with pytest.raises(InvalidArgument) as caught:
        placing.validate_order_request(
            pickup_order(lines=[RequestedLine("A", 600), RequestedLine("A", 600)])
        )
    assert fields_of(caught.value) == {"lines[0].quantity"}


def test_ship_needs_an_address_with_coordinates_in_range() -> None:
    with pytest.raises(InvalidArgument) as caught:
        placing.validate_order_request(
            pickup_order(fulfillment_type=FulfillmentType.SHIP, location_id="")
        )
    assert fields_of(caught.value) == {"fulfillment.address"}

    far_off = Address("1 Main St", "Town", "12345", "US", lat=91.0, lon=-181.0)
    with pytest.raises(InvalidArgument) as caught:
        placing.validate_order_request(
            pickup_order(fulfillment_type=FulfillmentType.SHIP, address=far_off)
        )
    assert fields_of(caught.value) == {
        "fulfillment.address.point.lat",
        "fulfillment.address.point.lon",
    }


def test_tender_rules() -> None:
    with pytest.raises(InvalidArgument) as caught:
        placing.validate_order_request(
            pickup_order(
                tenders=[
                    RequestedTender(CARD, token=""),
                    RequestedTender(CARD, token="tok_approve"),
                    RequestedTender(GIFT_CARD, code=""),
                    RequestedTender(TenderType.CASH),
                ]
            )
        )
    assert fields_of(caught.value) == {
        "tenders",
        "tenders[0].token",
        "tenders[2].code",
        "tenders[2].amount",
        "tenders[3].type",
    }


def test_gift_cards_must_cover_the_total_without_a_card() -> None:
    gift = RequestedTender(GIFT_CARD, code="G1", amount_minor=1000)
    with pytest.raises(InvalidArgument):
        placing.check_tenders_pay([gift], Money(1500, "USD"))
    with pytest.raises(InvalidArgument):
        placing.check_tenders_pay([gift, RequestedTender(CARD, token="t")], Money(500, "USD"))
    placing.check_tenders_pay([gift, RequestedTender(CARD, token="t")], Money(1500, "USD"))
    placing.check_tenders_pay([RequestedTender(GIFT_CARD, code="G1")], Money(1500, "USD"))


def test_pricing_captures_price_and_window_and_sums_the_total() -> None:
    catalog = Catalog(
        {
            "A": CatalogPrice("A", Money(250, "USD"), 30),
            "B": CatalogPrice("B", Money(1000, "USD"), 0),
        }
    )
    priced = placing.price_order([RequestedLine("A", 3), RequestedLine("B", 1)], catalog)
    assert priced.total.amount_minor == 1750
    assert priced.total.currency == "USD"
    assert [(line.unit_price_minor, line.returnable_days) for line in priced.lines] == [
        (250, 30),
        (1000, 0),
    ]


def test_one_currency_per_order() -> None:
    catalog = Catalog(
        {"A": CatalogPrice("A", Money(1, "USD"), 1), "B": CatalogPrice("B", Money(1, "EUR"), 1)}
    )
    with pytest.raises(BusinessRuleViolation) as caught:
        placing.price_order([RequestedLine("A", 1), RequestedLine("B", 1)], catalog)
    assert caught.value.reason == "MIXED_CURRENCY"


def test_the_first_sku_the_catalog_lacks_is_named() -> None:
    known = CatalogPrice("A", Money(1, "USD"), 1)
    lines = [RequestedLine("A", 1), RequestedLine("B", 1), RequestedLine("C", 1)]
    with pytest.raises(InvalidArgument) as caught:
        placing.price_order(lines, Catalog({}, unknown=["C", "B"]))
    assert fields_of(caught.value) == {"lines[1].sku"}
    with pytest.raises(InvalidArgument) as caught:
        placing.price_order(lines, Catalog({"A": known, "B": known}))
    assert fields_of(caught.value) == {"lines[2].sku"}


def test_card_numbers_are_found_anywhere_and_named_by_path() -> None:
    request = orders_pb2.PlaceOrderRequest(
        customer_id="4111-1111-1111-1111",
        tenders=[
            payments_pb2.Tender(type=CARD.to_proto(), token="tok_approve"),
            payments_pb2.Tender(type=CARD.to_proto(), token="5500 0000 0000 0004"),
        ],
    )
    request.fulfillment.address.line1 = "card 4012888888881881 please"
    assert card_number_fields(request) == [
        "customer_id",
        "fulfillment.address.line1",
        "tenders[1].token",
    ]
    assert card_number_fields(orders_pb2.PlaceOrderRequest(customer_id="C-12345")) == []


# ---------------------------------------------------------------- actions and statuses


def test_pick_lines_must_match_the_fulfillment() -> None:
    ordered = {"A": 2, "B": 1}
    store_work.validate_pick(ordered, [PickedLine("A", 1), PickedLine("B", 0)])
    with pytest.raises(InvalidArgument) as caught:
        store_work.validate_pick(
            ordered, [PickedLine("A", 3), PickedLine("C", 1), PickedLine("A", 1)]
        )
    assert fields_of(caught.value) == {"lines[0].quantity", "lines[1].sku", "lines[2].sku"}
    with pytest.raises(InvalidArgument) as caught:
        store_work.validate_pick(ordered, [PickedLine("A", 2)])
    assert fields_of(caught.value) == {"lines"}


def test_status_lists() -> None:
    assert "rejected" in progress.RECORDABLE_ORDER_STATUSES
    assert "pending" not in progress.RECORDABLE_ORDER_STATUSES
    visible = {OrderStatus.PLACED, OrderStatus.COMPLETED, OrderStatus.CANCELLED}
    assert visible <= set(progress.RECORDABLE_ORDER_STATUSES)
    assert mapping.optional_word(FulfillmentStatus, 0, "status") is None
    rerouted = FulfillmentStatus.REROUTED.to_proto()
    assert mapping.optional_word(FulfillmentStatus, rerouted, "status") == "rerouted"
    with pytest.raises(InvalidArgument):
        mapping.optional_word(FulfillmentStatus, 99, "status")  # "lost"
    with pytest.raises(InvalidArgument):
        progress.validate_order_progress(
            progress.OrderProgress("evt-1", "ord_1", status=OrderStatus.PENDING)
        )


def test_kind_only_actions_name_the_kind() -> None:
    from workflows.order.rules import StoreAction

    store_work.check_kind(StoreAction.HAND_OVER, FulfillmentType.PICKUP)
    store_work.check_kind(StoreAction.PICK, FulfillmentType.SHIP)
    with pytest.raises(Conflict) as refused:
        store_work.check_kind(StoreAction.SHIP, FulfillmentType.PICKUP)
    assert refused.value.reason == "INVALID_STATE"


# ---------------------------------------------------------------- returns


BOUGHT = {
    "A": BoughtLine("A", quantity=3, returned_quantity=1, unit_price_minor=500, returnable_days=30),
    "B": BoughtLine("B", quantity=1, returned_quantity=0, unit_price_minor=900, returnable_days=0),
}


def plan(lines: list[ReturnRequestLine], **changes: object) -> returns.ReturnPlan:
    arguments: dict[str, object] = {
        "order_status": OrderStatus.COMPLETED,
        "fulfillment_statuses": [FulfillmentStatus.PICKED_UP],
        "bought": BOUGHT,
        "lines": lines,
        "window_reference": NOW - timedelta(days=10),
        "now": NOW,
    }
    arguments.update(changes)
    return returns.plan_return(**arguments)  # type: ignore[arg-type]


def test_returnable_quantity_is_bought_minus_already_returned() -> None:
    assert returns.returnable_quantity(3, 1) == 2
    assert returns.returnable_quantity(3, 3) == 0
    assert returns.returnable_quantity(1, 2) == 0


def test_refund_is_the_captured_price_times_quantity() -> None:
    result = plan([ReturnRequestLine("A", 2, SELLABLE)])
    assert result.refund_minor == 1000
    assert result.unit_prices == {"A": 500}


def test_more_than_is_left_is_refused() -> None:
    with pytest.raises(BusinessRuleViolation) as caught:
        plan([ReturnRequestLine("A", 3, SELLABLE)])
    assert caught.value.reason == "RETURN_QUANTITY_EXCEEDED"
    assert caught.value.metadata["returnable"] == "2"


def test_return_window_counts_from_completion() -> None:
    assert returns.return_window_closes(NOW, 30) == NOW + timedelta(days=30)
    plan([ReturnRequestLine("A", 1, DAMAGED)], now=NOW + timedelta(days=19))
    with pytest.raises(BusinessRuleViolation) as caught:
        plan([ReturnRequestLine("A", 1, DAMAGED)], now=NOW + timedelta(days=21))
    assert caught.value.reason == "RETURN_WINDOW_CLOSED"
    with pytest.raises(BusinessRuleViolation):
        plan([ReturnRequestLine("B", 1, SELLABLE)])


def test_sku_not_bought_is_invalid() -> None:
    with pytest.raises(InvalidArgument) as caught:
        plan([ReturnRequestLine("Z", 1, SELLABLE)])
    assert fields_of(caught.value) == {"lines[0].sku"}


def test_nothing_to_return_before_handover() -> None:
    with pytest.raises(Conflict):
        plan(
            [ReturnRequestLine("A", 1, SELLABLE)],
            order_status=OrderStatus.PLACED,
            fulfillment_statuses=[FulfillmentStatus.PENDING],
        )
    plan(
        [ReturnRequestLine("A", 1, SELLABLE)],
        order_status=OrderStatus.IN_FULFILLMENT,
        fulfillment_statuses=[FulfillmentStatus.PICKED_UP],
    )


def test_return_shape() -> None:
    returns.validate_return_shape(ReturnMethod.MAIL, "", [ReturnRequestLine("A", 1, SELLABLE)])
    with pytest.raises(InvalidArgument) as caught:
        returns.validate_return_shape(
            ReturnMethod.IN_STORE,
            "",
            [ReturnRequestLine("A", 0, None), ReturnRequestLine("A", 1, SELLABLE)],  # "mint"
        )
    assert fields_of(caught.value) == {
        "location_id",
        "lines[0].quantity",
        "lines[0].condition",
        "lines[1].sku",
    }
    with pytest.raises(InvalidArgument) as caught:
        returns.validate_return_shape(None, "S1", [])  # "courier"
    assert fields_of(caught.value) == {"method", "lines"}


# ---------------------------------------------------------------- ids


def test_ids_are_opaque_and_distinct() -> None:
    ids = {placing.new_order_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("ord_") and len(i) == 24 for i in ids)
    assert returns.new_return_id().startswith("ret_")


def test_a_return_refunds_the_original_tenders_unless_it_asks_for_store_credit() -> None:
    from omni.words import RefundMethod

    def method(number: int) -> RefundMethod | None:
        return mapping.optional_word(RefundMethod, number, "refund_method")

    assert (method(0) or RefundMethod.ORIGINAL) == "original"
    assert method(RefundMethod.STORE_CREDIT.to_proto()) == "store_credit"
    with pytest.raises(InvalidArgument) as refused:
        method(99)  # "cash_back"
    assert [v.field for v in refused.value.violations] == ["refund_method"]
