"""The order's lifecycle rules as tables (workflows/order/rules.py): no server."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from omni.words import FulfillmentStatus as F
from omni.words import FulfillmentType, TenderType
from omni.words import OrderStatus as O
from workflows.order import rules
from workflows.order.rules import StoreAction

PICKUP, SHIP = FulfillmentType.PICKUP, FulfillmentType.SHIP

# ---------------------------------------------------------------- store actions

# (action, fulfillment type, fulfillment status) -> allowed, for a live order.
STORE_ACTIONS = [
    (StoreAction.PICK, PICKUP, F.PENDING, True),
    (StoreAction.PICK, SHIP, F.PENDING, True),
    (StoreAction.PICK, SHIP, F.PICKING, False),
    (StoreAction.PICK, PICKUP, F.READY_FOR_PICKUP, False),
    (StoreAction.PICK, PICKUP, F.REROUTED, False),
    (StoreAction.REJECT, PICKUP, F.PENDING, True),
    (StoreAction.REJECT, SHIP, F.PICKING, True),
    (StoreAction.REJECT, PICKUP, F.READY_FOR_PICKUP, False),
    (StoreAction.REJECT, PICKUP, F.PICKED_UP, False),
    (StoreAction.REJECT, SHIP, F.SHIPPED, False),
    (StoreAction.REJECT, SHIP, F.CANCELLED, False),
    (StoreAction.REJECT, SHIP, F.REROUTED, False),
    (StoreAction.HAND_OVER, PICKUP, F.READY_FOR_PICKUP, True),
    (StoreAction.HAND_OVER, PICKUP, F.PENDING, False),
    (StoreAction.HAND_OVER, PICKUP, F.PICKED_UP, False),
    (StoreAction.HAND_OVER, SHIP, F.PICKING, False),
    (StoreAction.SHIP, SHIP, F.PICKING, True),
    (StoreAction.SHIP, SHIP, F.PENDING, False),
    (StoreAction.SHIP, SHIP, F.SHIPPED, False),
    (StoreAction.SHIP, PICKUP, F.READY_FOR_PICKUP, False),
]


@pytest.mark.parametrize(("action", "kind", "status", "allowed"), STORE_ACTIONS)
@pytest.mark.parametrize("order_status", sorted(rules.LIVE_ORDER_STATUSES))
def test_store_actions_on_a_live_order(
    action: StoreAction, kind: FulfillmentType, status: F, allowed: bool, order_status: O
) -> None:
    refusal = rules.store_action_refusal(
        action, order_status=order_status, fulfillment_type=kind, fulfillment_status=status
    )
    assert (refusal is None) is allowed


@pytest.mark.parametrize("action", list(StoreAction))
@pytest.mark.parametrize(
    "order_status", [O.PENDING, O.REJECTED, O.SHIPPED, O.COMPLETED, O.CANCELLED]
)
def test_no_store_work_before_placement_or_after_the_end(
    action: StoreAction, order_status: O
) -> None:
    kind = SHIP if action == StoreAction.SHIP else PICKUP
    for status in rules.STORE_ACTION_FROM[action]:
        refusal = rules.store_action_refusal(
            action, order_status=order_status, fulfillment_type=kind, fulfillment_status=status
        )
        assert refusal == rules.Refusal(
            f"cannot {action} an order that is {order_status}", order_status
        )


def test_a_refusal_names_the_fulfillment_and_its_status() -> None:
    refusal = rules.store_action_refusal(
        StoreAction.REJECT,
        order_status=O.READY_FOR_PICKUP,
        fulfillment_type=PICKUP,
        fulfillment_status=F.READY_FOR_PICKUP,
        fulfillment_id="o-F1",
    )
    assert refusal == rules.Refusal(
        "cannot reject fulfillment o-F1: it is ready_for_pickup", F.READY_FOR_PICKUP
    )
    only = rules.store_action_refusal(
        StoreAction.SHIP,
        order_status=O.PLACED,
        fulfillment_type=PICKUP,
        fulfillment_status=F.PICKING,
    )
    assert only == rules.Refusal("only a ship fulfillment is shipped")


def test_the_vocabulary_has_no_picked_fulfillment() -> None:
    # A ship fulfillment that is picked stays "picking" until it ships.
    assert F.parse("picked") is None
    assert set(rules.OPEN_FULFILLMENT_STATUSES) == {F.PENDING, F.PICKING, F.READY_FOR_PICKUP}


# ---------------------------------------------------------------- picks


@dataclass
class Line:
    sku: str
    quantity: int


@pytest.mark.parametrize(
    ("picked", "problem"),
    [
        ([Line("A", 2), Line("B", 1)], None),
        ([Line("A", 1)], None),  # B not found on the shelf: a short pick
        ([Line("A", 0), Line("B", 1)], None),
        ([Line("C", 1)], "C is not in this fulfillment"),
        ([Line("A", 1), Line("A", 1)], "A is listed twice"),
        ([Line("A", -1), Line("B", 1)], "A: quantity must not be negative"),
        ([Line("A", 3)], "A: picked 3, ordered 2"),
        ([Line("A", 0), Line("B", 0)], "nothing was picked; reject the fulfillment instead"),
        ([], "nothing was picked; reject the fulfillment instead"),
    ],
)
def test_pick_lines(picked: list[Line], problem: str | None) -> None:
    assert rules.pick_problem({"A": 2, "B": 1}, picked) == problem


# ---------------------------------------------------------------- cancel, return

CANCELS = [
    (PICKUP, O.PLACED, True),
    (PICKUP, O.IN_FULFILLMENT, True),  # also after part of it was collected
    (PICKUP, O.READY_FOR_PICKUP, True),
    (PICKUP, O.COMPLETED, False),
    (PICKUP, O.CANCELLED, False),
    (PICKUP, O.PENDING, False),
    (PICKUP, O.REJECTED, False),
    (SHIP, O.PLACED, True),
    (SHIP, O.IN_FULFILLMENT, True),
    # Issue 11: after a partial shipment, the rest may be cancelled.
    (SHIP, O.PARTIALLY_SHIPPED, True),
    (SHIP, O.SHIPPED, False),
    (SHIP, O.CANCELLED, False),
]


@pytest.mark.parametrize(("kind", "status", "allowed"), CANCELS)
def test_cancel(kind: FulfillmentType, status: O, allowed: bool) -> None:
    refusal = rules.cancel_refusal(kind, status)
    assert refusal == (
        None if allowed else rules.Refusal(f"cannot cancel an order that is {status}", status)
    )


def test_an_unknown_kind_is_never_cancelled() -> None:
    assert rules.cancel_refusal("drone", O.PLACED) is not None


@pytest.mark.parametrize(
    ("order_status", "fulfillments", "returnable"),
    [
        (O.COMPLETED, [F.PICKED_UP], True),
        (O.SHIPPED, [F.SHIPPED], True),
        (O.PARTIALLY_SHIPPED, [F.SHIPPED, F.PICKING], True),
        # A pickup partly collected stays in fulfillment; what was collected may come back.
        (O.IN_FULFILLMENT, [F.PICKED_UP, F.READY_FOR_PICKUP], True),
        (O.IN_FULFILLMENT, [F.READY_FOR_PICKUP, F.PENDING], False),
        (O.READY_FOR_PICKUP, [F.READY_FOR_PICKUP], False),
        (O.PLACED, [F.PENDING], False),
        (O.CANCELLED, [F.CANCELLED], False),
    ],
)
def test_return(order_status: O, fulfillments: list[F], returnable: bool) -> None:
    assert rules.may_return(order_status, fulfillments) is returnable


# ---------------------------------------------------------------- tenders


@dataclass
class Tender:
    type: str
    amount_minor: int = 0


CARD, GIFT = TenderType.CARD, TenderType.GIFT_CARD


@pytest.mark.parametrize(
    ("tenders", "total", "amounts"),
    [
        ([Tender(CARD)], 1300, [1300]),
        ([Tender(GIFT)], 1300, [1300]),  # a lone gift card pays it all
        ([Tender(GIFT, 500), Tender(CARD)], 1300, [500, 800]),
        ([Tender(CARD), Tender(GIFT, 500)], 1300, [800, 500]),  # gift cards pay first
        ([Tender(GIFT, 500), Tender(GIFT, 800)], 1300, [500, 800]),
        ([Tender(GIFT, 1300), Tender(CARD)], 1300, [1300, 0]),  # the card is not needed
        ([Tender(GIFT, 2000), Tender(CARD)], 1300, [1300, 0]),  # never more than the total
    ],
)
def test_tender_amounts(tenders: list[Tender], total: int, amounts: list[int]) -> None:
    assert rules.tender_amounts(tenders, total) == amounts


@pytest.mark.parametrize(
    ("tenders", "total", "problem"),
    [
        ([Tender(CARD)], 1300, None),
        ([Tender(GIFT)], 1300, None),
        ([Tender(GIFT, 500), Tender(CARD)], 1300, None),
        ([Tender(GIFT, 500), Tender(GIFT, 800)], 1300, None),
        ([Tender(GIFT, 2000), Tender(CARD)], 1300, "gift card amounts exceed the order total"),
        (
            [Tender(GIFT, 500), Tender(GIFT, 700)],
            1300,
            "gift card amounts must cover the total when no card is given",
        ),
    ],
)
def test_tender_problem(tenders: list[Tender], total: int, problem: str | None) -> None:
    assert rules.tender_problem(tenders, total) == problem


def test_money_is_taken_and_given_back_gift_cards_first() -> None:
    assert rules.gift_cards_first([CARD, GIFT, GIFT]) == [1, 2, 0]
    assert rules.gift_cards_first([GIFT, CARD]) == [0, 1]
    assert rules.gift_cards_first([]) == []


@pytest.mark.parametrize(
    ("authorized", "amount", "captures"),
    [
        ([(CARD, 1300)], 1300, [1300]),
        ([(CARD, 1300)], 800, [800]),  # a short pick: less than authorized
        ([(CARD, 800), (GIFT, 500)], 1300, [800, 500]),
        ([(CARD, 800), (GIFT, 500)], 600, [100, 500]),  # gift card first
        ([(GIFT, 500), (CARD, 800)], 400, [400, 0]),  # the card is voided
        ([(GIFT, 500), (CARD, 800)], 0, [0, 0]),
    ],
)
def test_capture_amounts(
    authorized: list[tuple[str, int]], amount: int, captures: list[int]
) -> None:
    assert rules.capture_amounts(authorized, amount) == captures
