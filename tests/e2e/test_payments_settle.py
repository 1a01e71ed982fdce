"""Settling money through the gateway on the real stack: a short pick's final
capture releases the rest (gift card hold back, card remainder released at the
provider), and a return can refund as store credit that pays a later order."""

from __future__ import annotations

from typing import Any

from stack.harness import StackProcess
from tests.e2e.api import Caller, money
from tests.e2e.test_journeys import _wait_for_return_status
from tests.e2e.test_payments import (
    Shop,
    admin,
    gift_card,
    guest,
    issue_gift_card,
    provider_operations,
)

__all__ = ["admin", "guest"]


def settled(order: dict[str, Any]) -> dict[str, tuple[str, int, int]]:
    """tender type -> (status, captured, released)."""
    return {
        p["tender_type"]: (
            p["status"],
            p["captured"]["amount_minor"],
            (p.get("released") or money(0))["amount_minor"],
        )
        for p in order["payments"]
    }


def placed(shop: Shop, quantity: int, tenders: list[dict[str, Any]]) -> str:
    response = shop.order(quantity, tenders)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["order_id"]
    return order_id


def test_short_pick_gives_the_rest_of_the_gift_card_hold_back_and_voids_the_card(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest, 1000)
    code = issue_gift_card(admin, 2000)
    order_id = placed(
        shop,
        2,
        [
            {"type": "gift_card", "code": code, "amount_minor": 1500},
            {"type": "card", "token": "tok_approve"},
        ],
    )
    assert gift_card(shop.customer, code)["balance"] == money(500)

    done = shop.collect(order_id, 1)  # one of two on the shelf: 1000 to pay

    assert settled(done) == {
        "gift_card": ("captured", 1000, 500),
        "card": ("voided", 0, 0),
    }
    card = gift_card(shop.customer, code)
    assert card["balance"] == money(2000 - 1000)
    assert [(e["kind"], e["amount"]["amount_minor"]) for e in card["history"]] == [
        ("issue", 2000),
        ("hold", 1500),
        ("redeem", 1000),
        ("release", 500),
    ]
    assert provider_operations(admin, order_id) == [
        ("authorize", 500, "approved"),
        ("void", 500, "approved"),
    ]


def test_short_pick_releases_the_rest_of_the_card_authorization(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest, 1300)
    order_id = placed(shop, 2, [{"type": "card", "token": "tok_approve"}])

    done = shop.collect(order_id, 1)

    assert settled(done) == {"card": ("captured", 1300, 1300)}
    assert provider_operations(admin, order_id) == [
        ("authorize", 2600, "approved"),
        ("capture", 1300, "approved"),
        ("release", 1300, "approved"),
    ]


def test_a_return_refunded_as_store_credit_pays_a_later_order(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    shop = Shop(stack, admin, guest, 1200)
    order_id = placed(shop, 1, [{"type": "card", "token": "tok_approve"}])
    shop.collect(order_id, 1)
    body = {
        "order_id": order_id,
        "lines": [{"sku": shop.sku, "quantity": 1, "condition": "sellable"}],
        "method": "in_store",
        "location_id": shop.store,
    }
    bad = shop.associate.post("/v1/returns", {**body, "refund_method": "cash_back"})
    assert bad.status_code == 400, bad.text

    returned = shop.associate.post("/v1/returns", {**body, "refund_method": "store_credit"})
    assert returned.status_code == 201, returned.text
    assert returned.json()["refund_method"] == "store_credit"
    refunded = _wait_for_return_status(shop.associate, returned.json()["return_id"], "refunded")
    assert [(r["tender_type"], r["amount"]["amount_minor"]) for r in refunded["refunds"]] == [
        ("store_credit", 1200)
    ]
    # The card was not refunded: the provider heard nothing of it.
    assert [op[0] for op in provider_operations(admin, order_id)] == ["authorize", "capture"]

    customer = shop.customer.get(f"/v1/customers/{shop.customer_id}")
    assert customer.status_code == 200, customer.text
    [credit] = customer.json()["store_credit"]
    assert credit["balance"] == money(1200)

    # Spent like a gift card, by its code.
    later = placed(shop, 1, [{"type": "gift_card", "code": credit["code"], "amount_minor": 1200}])
    assert provider_operations(admin, later) == []
    assert gift_card(shop.customer, credit["code"])["balance"] == money(0)
    spent = shop.collect(later, 1)
    assert settled(spent) == {"gift_card": ("captured", 1200, 0)}
