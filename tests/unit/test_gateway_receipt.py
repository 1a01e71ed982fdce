"""GET /v1/orders/{id}/receipt (issue 14): what a till prints - for whoever
may see the order, never for another store's associate, with the store it
was sold at, the associate, lines, what each tender paid and the totals."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from omni.words import PaymentStatus, TenderType
from services.common.errors import NotFound
from tests.unit.gateway_fakes import (
    FakeStub,
    bearer,
    fake_clients,
    make_app,
    orders_stub,
    rpc_error,
    sample_order,
)


def usd(cents: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=cents, currency="USD")


def sold_at_s1(request: Any) -> Any:
    order = sample_order(request.order_id, location_id="S1", store_id="S1")
    order.associate_id = "A1"
    return orders_pb2.GetOrderResponse(order=order)


def payments() -> FakeStub:
    return FakeStub(
        ListPayments=lambda r: payments_pb2.ListPaymentsResponse(
            payments=[
                payments_pb2.Payment(
                    payment_id="P1",
                    tender_type=TenderType.GIFT_CARD.to_proto(),
                    status=PaymentStatus.CAPTURED.to_proto(),
                    authorized=usd(1000),
                    captured=usd(1000),
                ),
                payments_pb2.Payment(
                    payment_id="P2",
                    tender_type=TenderType.CARD.to_proto(),
                    status=PaymentStatus.AUTHORIZED.to_proto(),
                    authorized=usd(1500),
                    captured=usd(0),
                ),
            ]
        )
    )


def inventory(known: bool = True) -> FakeStub:
    def get(request: Any) -> Any:
        if not known:
            return rpc_error(NotFound("location gone"))
        return inventory_pb2.GetLocationResponse(
            location=inventory_pb2.Location(location_id=request.location_id, name="Downtown")
        )

    return FakeStub(GetLocation=get)


def test_a_receipt_shows_store_associate_lines_tenders_and_totals() -> None:
    api = TestClient(
        make_app(
            fake_clients(
                orders=orders_stub(GetOrder=sold_at_s1), payments=payments(), inventory=inventory()
            )
        )
    )
    answer = api.get("/v1/orders/O1/receipt", headers=bearer("associate", "A1", store_id="S1"))
    assert answer.status_code == 200, answer.text
    receipt = answer.json()
    assert receipt["store"] == {"location_id": "S1", "name": "Downtown"}
    assert receipt["associate_id"] == "A1"
    assert [(line["sku"], line["quantity"]) for line in receipt["lines"]] == [("SKU-MUG", 2)]
    assert [(t["tender_type"], t["amount"]["amount_minor"]) for t in receipt["tenders"]] == [
        ("gift_card", 1000),
        ("card", 1500),
    ]
    assert "pickup_code" not in answer.text


def test_another_stores_associate_gets_no_receipt_and_nothing_more_is_asked() -> None:
    pay = payments()
    stock = inventory()
    api = TestClient(
        make_app(
            fake_clients(orders=orders_stub(GetOrder=sold_at_s1), payments=pay, inventory=stock)
        )
    )
    answer = api.get("/v1/orders/O1/receipt", headers=bearer("associate", "A2", store_id="S2"))
    assert answer.status_code == 404
    assert pay.calls == [] and stock.calls == []
    assert api.get("/v1/orders/O1/receipt", headers=bearer("guest")).status_code == 403


def test_a_store_that_is_gone_still_prints_its_id() -> None:
    api = TestClient(
        make_app(
            fake_clients(
                orders=orders_stub(GetOrder=sold_at_s1),
                payments=payments(),
                inventory=inventory(known=False),
            )
        )
    )
    receipt = api.get("/v1/orders/O1/receipt", headers=bearer("admin")).json()
    assert receipt["store"] == {"location_id": "S1", "name": ""}
