"""The gift card routes and the customer's store credit, on fake payments."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2
from omni.payments.v1 import payments_pb2
from omni.words import GiftCardEntryKind
from services.common.errors import NotFound
from tests.unit.gateway_fakes import FakeStub, bearer, fake_clients, make_app, rpc_error


def usd(amount_minor: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency="USD")


def card(code: str, balance_minor: int, *history: tuple[str, int]) -> payments_pb2.GiftCard:
    return payments_pb2.GiftCard(
        code=code,
        balance=usd(balance_minor),
        history=[
            payments_pb2.GiftCardEntry(
                kind=GiftCardEntryKind(kind).to_proto(), amount=usd(amount), reference="ord_1"
            )
            for kind, amount in history
        ],
    )


def payments_stub() -> FakeStub:
    def get(request: Any) -> Any:
        if request.code != "GC-KNOWN":
            return rpc_error(NotFound("no gift card has this code"))
        return payments_pb2.GetGiftCardResponse(
            gift_card=card("GC-KNOWN", 700, ("issue", 1000), ("hold", 300))
        )

    return FakeStub(
        IssueGiftCard=lambda request: payments_pb2.IssueGiftCardResponse(
            gift_card=card("GC-NEW", request.initial_balance.amount_minor, ("issue", 1))
        ),
        GetGiftCard=get,
        ListStoreCredit=lambda request: payments_pb2.ListStoreCreditResponse(
            store_credit=[card("GC-CREDIT", 250)]
        ),
    )


def test_admin_issues_a_gift_card_with_a_derived_key() -> None:
    payments = payments_stub()
    client = TestClient(make_app(fake_clients(payments=payments)))
    response = client.post(
        "/v1/gift-cards",
        json={"initial_balance": {"amount_minor": 1000, "currency": "USD"}},
        headers={**bearer("admin"), "Idempotency-Key": "k1"},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {
        "code": "GC-NEW",
        "balance": {"amount_minor": 1000, "currency": "USD"},
    }
    (request,) = payments.called("IssueGiftCard")
    assert request.idempotency_key and request.initial_balance == usd(1000)


def test_only_admins_issue_gift_cards() -> None:
    payments = payments_stub()
    client = TestClient(make_app(fake_clients(payments=payments)))
    response = client.post(
        "/v1/gift-cards",
        json={"initial_balance": {"amount_minor": 1000, "currency": "USD"}},
        headers=bearer("customer", customer_id="C1", channel="web"),
    )
    assert response.status_code == 403
    assert payments.called("IssueGiftCard") == []


def test_anyone_signed_in_with_the_code_reads_balance_and_history() -> None:
    # Issue 12: a guest no longer may (tests/security/test_headers.py).
    client = TestClient(make_app(fake_clients(payments=payments_stub())))
    shopper = bearer("customer", customer_id="C7", channel="web")
    response = client.get("/v1/gift-cards/GC-KNOWN", headers=shopper)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["balance"] == {"amount_minor": 700, "currency": "USD"}
    assert [(e["kind"], e["amount"]["amount_minor"], e["reference"]) for e in body["history"]] == [
        ("issue", 1000, "ord_1"),
        ("hold", 300, "ord_1"),
    ]
    missing = client.get("/v1/gift-cards/GC-OTHER", headers=shopper)
    assert missing.status_code == 404


def test_customer_shows_store_credit() -> None:
    customers = FakeStub(
        GetCustomer=lambda request: customers_pb2.GetCustomerResponse(
            customer=customers_pb2.Customer(customer_id=request.customer_id, name="Ada")
        )
    )
    client = TestClient(make_app(fake_clients(customers=customers, payments=payments_stub())))
    response = client.get("/v1/customers/C1", headers=bearer("customer", customer_id="C1"))
    assert response.status_code == 200, response.text
    assert response.json()["store_credit"] == [
        {"code": "GC-CREDIT", "balance": {"amount_minor": 250, "currency": "USD"}}
    ]


def test_store_credit_held_under_a_merged_id_shows_on_the_survivor() -> None:
    customers = FakeStub(
        GetCustomer=lambda request: customers_pb2.GetCustomerResponse(
            customer=customers_pb2.Customer(customer_id="C1", name="Ada"), aliases=["C0"]
        )
    )
    payments = FakeStub(
        ListStoreCredit=lambda request: payments_pb2.ListStoreCreditResponse(
            store_credit=[card(f"GC-{request.customer_id}", 100)]
        )
    )
    client = TestClient(make_app(fake_clients(customers=customers, payments=payments)))
    response = client.get("/v1/customers/C1", headers=bearer("customer", customer_id="C1"))
    assert response.status_code == 200, response.text
    assert [c["code"] for c in response.json()["store_credit"]] == ["GC-C1", "GC-C0"]
    assert [r.customer_id for r in payments.called("ListStoreCredit")] == ["C1", "C0"]
