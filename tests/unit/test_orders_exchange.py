"""Exchanges (issue 11): the replacement's shape, checked like an order's, its
field errors named under `exchange`."""

from __future__ import annotations

import pytest

from omni.words import Channel, FulfillmentType, ItemCondition, RefundMethod, ReturnMethod
from services.common.errors import InvalidArgument
from services.orders.domain.placing import RequestedLine
from services.orders.domain.returns import (
    ExchangeRequest,
    ReturnRequest,
    ReturnRequestLine,
    replacement_request,
    validate_return_request,
)


def exchange(
    *lines: RequestedLine, kind: FulfillmentType | None = FulfillmentType.PICKUP
) -> ExchangeRequest:
    return ExchangeRequest(list(lines), kind, "S1" if kind == FulfillmentType.PICKUP else "", None)


def a_return(wanted: ExchangeRequest, refund_method: RefundMethod | None = None) -> ReturnRequest:
    return ReturnRequest(
        order_id="O1",
        lines=[ReturnRequestLine("SKU-A", 1, ItemCondition.SELLABLE)],
        method=ReturnMethod.IN_STORE,
        location_id="S1",
        refund_method=refund_method,
        exchange=wanted,
    )


def fields(error: pytest.ExceptionInfo[InvalidArgument]) -> list[str]:
    return [violation.field for violation in error.value.violations]


def test_the_replacement_is_an_order_of_the_original_customer_and_channel() -> None:
    wanted = replacement_request(
        exchange(RequestedLine("SKU-B", 1), RequestedLine("SKU-B", 1)),
        customer_id="C1",
        channel=Channel.POS,
        exchange_for="ret_1",
    )
    assert (wanted.customer_id, wanted.channel, wanted.exchange_for) == ("C1", Channel.POS, "ret_1")
    # Lines merged as an order's; no tender: the refund and the original card pay.
    assert [(line.sku, line.quantity) for line in wanted.lines] == [("SKU-B", 2)]
    assert wanted.tenders == []


def test_bad_replacement_fields_are_named_under_exchange() -> None:
    with pytest.raises(InvalidArgument) as bad:
        validate_return_request(a_return(exchange(RequestedLine("", 0))))
    assert fields(bad) == ["exchange.lines[0].sku", "exchange.lines[0].quantity"]
    with pytest.raises(InvalidArgument) as bad:
        validate_return_request(a_return(exchange(kind=FulfillmentType.SHIP)))
    assert "exchange.lines" in fields(bad) and "exchange.fulfillment.address" in fields(bad)


def test_a_till_sale_is_not_a_replacement() -> None:
    with pytest.raises(InvalidArgument) as bad:
        validate_return_request(
            a_return(exchange(RequestedLine("SKU-B", 1), kind=FulfillmentType.CARRY_OUT))
        )
    assert fields(bad) == ["exchange.fulfillment.type"]


def test_an_exchange_cannot_also_ask_for_store_credit() -> None:
    with pytest.raises(InvalidArgument) as bad:
        validate_return_request(
            a_return(exchange(RequestedLine("SKU-B", 1)), RefundMethod.STORE_CREDIT)
        )
    assert fields(bad) == ["refund_method"]
