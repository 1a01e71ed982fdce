"""Orders' pure rules: placing, picking, returns and task pages."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument
from services.orders import domain
from services.orders.domain import (
    BoughtLine,
    CatalogPrice,
    OrderRequest,
    PageCursor,
    PickedLine,
    RequestedAddress,
    RequestedLine,
    RequestedTender,
    ReturnRequestLine,
)
from services.orders.mapping import card_number_fields

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def pickup_order(**changes: object) -> OrderRequest:
    base = OrderRequest(
        customer_id="C1",
        channel="web",
        lines=[RequestedLine("TEE-1", 2)],
        fulfillment_type="pickup",
        location_id="S1",
        address=None,
        tenders=[RequestedTender("card", token="tok_approve")],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def fields_of(error: InvalidArgument) -> set[str]:
    return {v.field for v in error.violations}


# ---------------------------------------------------------------- placing


def test_valid_order_merges_repeated_skus() -> None:
    order = domain.validate_order_request(
        pickup_order(lines=[RequestedLine("A", 1), RequestedLine("B", 2), RequestedLine("A", 3)])
    )
    assert order.lines == [RequestedLine("A", 4), RequestedLine("B", 2)]


def test_every_bad_field_is_named() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_order_request(
            pickup_order(
                customer_id="",
                channel="fax",
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
        domain.validate_order_request(
            pickup_order(lines=[RequestedLine("A", 600), RequestedLine("A", 600)])
        )
    assert fields_of(caught.value) == {"lines[0].quantity"}


def test_ship_needs_an_address_with_coordinates_in_range() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_order_request(pickup_order(fulfillment_type="ship", location_id=""))
    assert fields_of(caught.value) == {"fulfillment.address"}

    far_off = RequestedAddress("1 Main St", "Town", "12345", "US", lat=91.0, lon=-181.0)
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_order_request(pickup_order(fulfillment_type="ship", address=far_off))
    assert fields_of(caught.value) == {
        "fulfillment.address.point.lat",
        "fulfillment.address.point.lon",
    }


def test_tender_rules() -> None:
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_order_request(
            pickup_order(
                tenders=[
                    RequestedTender("card", token=""),
                    RequestedTender("card", token="tok_approve"),
                    RequestedTender("gift_card", code=""),
                    RequestedTender("cash"),
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
    gift = RequestedTender("gift_card", code="G1", amount_minor=1000)
    with pytest.raises(InvalidArgument):
        domain.settle_tenders([gift], 1500)
    with pytest.raises(InvalidArgument):
        domain.settle_tenders([gift, RequestedTender("card", token="t")], 500)
    assert domain.settle_tenders([gift, RequestedTender("card", token="t")], 1500)[0] == gift
    lone = domain.settle_tenders([RequestedTender("gift_card", code="G1")], 1500)
    assert lone[0].amount_minor == 1500


def test_pricing_captures_price_and_window_and_sums_the_total() -> None:
    catalog = {
        "A": CatalogPrice("A", 250, "USD", 30),
        "B": CatalogPrice("B", 1000, "USD", 0),
    }
    priced = domain.price_order([RequestedLine("A", 3), RequestedLine("B", 1)], catalog)
    assert priced.total_minor == 1750
    assert priced.currency == "USD"
    assert [(line.unit_price_minor, line.returnable_days) for line in priced.lines] == [
        (250, 30),
        (1000, 0),
    ]


def test_one_currency_per_order() -> None:
    catalog = {"A": CatalogPrice("A", 1, "USD", 1), "B": CatalogPrice("B", 1, "EUR", 1)}
    with pytest.raises(BusinessRuleViolation) as caught:
        domain.price_order([RequestedLine("A", 1), RequestedLine("B", 1)], catalog)
    assert caught.value.reason == "MIXED_CURRENCY"


def test_card_numbers_are_found_anywhere_and_named_by_path() -> None:
    request = orders_pb2.PlaceOrderRequest(
        customer_id="4111-1111-1111-1111",
        tenders=[
            payments_pb2.Tender(type="card", token="tok_approve"),
            payments_pb2.Tender(type="card", token="5500 0000 0000 0004"),
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


def test_cancel_is_refused_once_collected_shipped_or_cancelled() -> None:
    for status in ("completed", "shipped", "cancelled"):
        with pytest.raises(Conflict):
            domain.check_cancellable(status)
    for status in ("placed", "in_fulfillment", "ready_for_pickup", "partially_shipped"):
        domain.check_cancellable(status)


def test_pick_lines_must_match_the_fulfillment() -> None:
    ordered = {"A": 2, "B": 1}
    domain.validate_pick(ordered, [PickedLine("A", 1), PickedLine("B", 0)])
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_pick(ordered, [PickedLine("A", 3), PickedLine("C", 1), PickedLine("A", 1)])
    assert fields_of(caught.value) == {"lines[0].quantity", "lines[1].sku", "lines[2].sku"}
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_pick(ordered, [PickedLine("A", 2)])
    assert fields_of(caught.value) == {"lines"}


def test_status_lists() -> None:
    assert "rejected" in domain.RECORDABLE_ORDER_STATUSES
    assert "pending" not in domain.RECORDABLE_ORDER_STATUSES
    assert set(domain.ORDER_STATUSES) <= set(domain.RECORDABLE_ORDER_STATUSES)
    domain.validate_record_status("", domain.FULFILLMENT_STATUSES, "status")
    domain.validate_record_status("rerouted", domain.FULFILLMENT_STATUSES, "status")
    with pytest.raises(InvalidArgument):
        domain.validate_record_status("lost", domain.FULFILLMENT_STATUSES, "status")
    with pytest.raises(InvalidArgument):
        domain.validate_record_status("pending", domain.RETURN_STATUSES, "status")


# ---------------------------------------------------------------- returns


BOUGHT = {
    "A": BoughtLine("A", quantity=3, returned_quantity=1, unit_price_minor=500, returnable_days=30),
    "B": BoughtLine("B", quantity=1, returned_quantity=0, unit_price_minor=900, returnable_days=0),
}


def plan(lines: list[ReturnRequestLine], **changes: object) -> domain.ReturnPlan:
    arguments: dict[str, object] = {
        "order_status": "completed",
        "handed_over": True,
        "bought": BOUGHT,
        "lines": lines,
        "window_reference": NOW - timedelta(days=10),
        "now": NOW,
    }
    arguments.update(changes)
    return domain.plan_return(**arguments)  # type: ignore[arg-type]


def test_returnable_quantity_is_bought_minus_already_returned() -> None:
    assert domain.returnable_quantity(3, 1) == 2
    assert domain.returnable_quantity(3, 3) == 0
    assert domain.returnable_quantity(1, 2) == 0


def test_refund_is_the_captured_price_times_quantity() -> None:
    result = plan([ReturnRequestLine("A", 2, "sellable")])
    assert result.refund_minor == 1000
    assert result.unit_prices == {"A": 500}


def test_more_than_is_left_is_refused() -> None:
    with pytest.raises(BusinessRuleViolation) as caught:
        plan([ReturnRequestLine("A", 3, "sellable")])
    assert caught.value.reason == "RETURN_QUANTITY_EXCEEDED"
    assert caught.value.metadata["returnable"] == "2"


def test_return_window_counts_from_completion() -> None:
    assert domain.return_window_closes(NOW, 30) == NOW + timedelta(days=30)
    plan([ReturnRequestLine("A", 1, "damaged")], now=NOW + timedelta(days=19))
    with pytest.raises(BusinessRuleViolation) as caught:
        plan([ReturnRequestLine("A", 1, "damaged")], now=NOW + timedelta(days=21))
    assert caught.value.reason == "RETURN_WINDOW_CLOSED"
    with pytest.raises(BusinessRuleViolation):
        plan([ReturnRequestLine("B", 1, "sellable")])


def test_sku_not_bought_is_invalid() -> None:
    with pytest.raises(InvalidArgument) as caught:
        plan([ReturnRequestLine("Z", 1, "sellable")])
    assert fields_of(caught.value) == {"lines[0].sku"}


def test_nothing_to_return_before_handover() -> None:
    with pytest.raises(Conflict):
        plan([ReturnRequestLine("A", 1, "sellable")], order_status="placed", handed_over=False)
    plan([ReturnRequestLine("A", 1, "sellable")], order_status="in_fulfillment", handed_over=True)


def test_return_shape() -> None:
    domain.validate_return_shape("mail", "", [ReturnRequestLine("A", 1, "sellable")])
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_return_shape(
            "in_store",
            "",
            [ReturnRequestLine("A", 0, "mint"), ReturnRequestLine("A", 1, "sellable")],
        )
    assert fields_of(caught.value) == {
        "location_id",
        "lines[0].quantity",
        "lines[0].condition",
        "lines[1].sku",
    }
    with pytest.raises(InvalidArgument) as caught:
        domain.validate_return_shape("courier", "S1", [])
    assert fields_of(caught.value) == {"method", "lines"}


# ---------------------------------------------------------------- pages and ids


def test_page_size_defaults_and_caps() -> None:
    assert domain.page_size(0) == 50
    assert domain.page_size(7) == 7
    assert domain.page_size(1000) == 200
    with pytest.raises(InvalidArgument):
        domain.page_size(-1)


def test_page_token_round_trips_and_rejects_garbage() -> None:
    cursor = PageCursor(NOW.replace(microsecond=123456), "ful_1")
    assert domain.decode_cursor(domain.encode_cursor(cursor)) == cursor
    assert domain.decode_cursor("") is None
    with pytest.raises(InvalidArgument):
        domain.decode_cursor("not-a-token!")


def test_ids_are_opaque_and_distinct() -> None:
    ids = {domain.new_order_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("ord_") and len(i) == 24 for i in ids)
    assert domain.new_return_id().startswith("ret_")


def test_a_return_refunds_the_original_tenders_unless_it_asks_for_store_credit() -> None:
    assert domain.refund_method("") == "original"
    assert domain.refund_method("store_credit") == "store_credit"
    with pytest.raises(InvalidArgument) as refused:
        domain.refund_method("cash_back")
    assert [v.field for v in refused.value.violations] == ["refund_method"]
