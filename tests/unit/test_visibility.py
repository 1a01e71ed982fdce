"""The pure half of workflows/order/visibility.py and the start summaries:
which store an order is at, and the lines the Temporal UI shows."""

from __future__ import annotations

import pytest

from omni.words import FulfillmentStatus, FulfillmentType, OrderStatus
from workflows.activities.payments import PaymentActivities
from workflows.contracts.activities import AuthorizeInput
from workflows.contracts.journeys import AddressInput, LineInput, OrderInput, order_summary
from workflows.order.state import Fulfillment, OrderState
from workflows.order.visibility import activity_summary, order_attributes, working_location


def state(kind: FulfillmentType, *fulfillments: tuple[str, FulfillmentStatus | None]) -> OrderState:
    order = OrderInput(
        order_id="ord_1",
        customer_id="cus_1",
        channel="web",
        currency="EUR",
        lines=[LineInput("SKU-1", 2, 100), LineInput("SKU-2", 1, 100)],
        tenders=[],
        fulfillment_type=kind,
        pickup_location_id="S1" if kind == FulfillmentType.PICKUP else "",
        address=AddressInput("1 Secret Lane", "Town", "123", "US", 1.0, 2.0),
    )
    built = OrderState(order=order, fulfillment_type=kind)
    built.fulfillments = [
        Fulfillment("ord_1", n, kind, location, list(order.lines), status=status)
        for n, (location, status) in enumerate(fulfillments, start=1)
    ]
    return built


P, R, C, D = (
    FulfillmentStatus.PENDING,
    FulfillmentStatus.REROUTED,
    FulfillmentStatus.CANCELLED,
    FulfillmentStatus.PICKED_UP,
)


@pytest.mark.parametrize(
    ("kind", "fulfillments", "store"),
    [
        # Before placement: the pickup store chosen, or nothing for a shipment.
        (FulfillmentType.PICKUP, [], "S1"),
        (FulfillmentType.SHIP, [], ""),
        # Reserved but not yet placed: where the hold is.
        (FulfillmentType.SHIP, [("S9", None)], "S9"),
        (FulfillmentType.PICKUP, [("S1", P)], "S1"),
        # Rerouted: the new store.
        (FulfillmentType.PICKUP, [("S1", R), ("S2", P)], "S2"),
        # Split: the newest open one.
        (FulfillmentType.PICKUP, [("S1", D), ("S2", P)], "S2"),
        # All over: the last one that was not moved away.
        (FulfillmentType.PICKUP, [("S1", R), ("S2", D)], "S2"),
        (FulfillmentType.PICKUP, [("S1", D), ("S2", C)], "S2"),
        (FulfillmentType.SHIP, [("S3", R), ("S4", R)], "S4"),
    ],
)
def test_the_store_id_follows_the_fulfillment(
    kind: FulfillmentType,
    fulfillments: list[tuple[str, FulfillmentStatus | None]],
    store: str,
) -> None:
    assert working_location(state(kind, *fulfillments)) == store


def test_attributes_hold_ids_and_words_only() -> None:
    placed = state(FulfillmentType.PICKUP, ("S1", P))
    placed.status = OrderStatus.PLACED
    attributes = order_attributes(placed)
    assert attributes == {
        "OrderId": "ord_1",
        "CustomerId": "cus_1",
        "Channel": "web",
        "StoreId": "S1",
        "FulfillmentType": "pickup",
        "OrderStatus": "placed",
    }
    assert not any("Secret" in value for value in attributes.values())


def test_static_summaries_read_like_the_ui_example() -> None:
    pickup = state(FulfillmentType.PICKUP).order
    assert order_summary(pickup) == "BOPIS · 3 items · store S1 · web"
    ship = state(FulfillmentType.SHIP).order
    assert order_summary(ship) == "ship from store · 3 items · web"
    ship.lines = [LineInput("SKU-1", 1)]
    assert order_summary(ship, "S7") == "ship from store · 1 item · store S7 · web"


def test_an_activity_summary_names_the_activity_and_its_key_never_the_token() -> None:
    request = AuthorizeInput(
        idempotency_key="order-ord_1/authorize/0",
        reference="ord_1",
        tender_type="card",
        amount_minor=100,
        currency="EUR",
        token="tok_secret",
        code="GIFT-SECRET",
    )
    summary = activity_summary(PaymentActivities.authorize, request)
    assert summary == "payments.authorize · order-ord_1/authorize/0"
    assert "secret" not in summary.lower()
