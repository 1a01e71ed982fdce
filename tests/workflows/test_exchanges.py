"""Exchanges (issue 11) on the time-skipping server: the real return workflow,
fake services. The replacement is held before the return starts; the journey
confirms the hold, and once the goods are back the refund pays for the
replacement (store credit it spends), the rest of the refund goes to the
original tenders, and the orders service places the replacement (charging a
dearer one's difference to the original card)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import keep_history, running_worker, unique
from tests.workflows.test_returns import a_return, captured, hand_over, start
from workflows.contracts.activities import ReserveStockInput, SkuQty
from workflows.contracts.journeys import (
    ExchangeInput,
    ReturnInput,
    ReturnLineInput,
    placement_hold_id,
)


def an_exchange(
    fakes: FakeServices, refund_minor: int, replacement_minor: int, method: str = "in_store"
) -> ReturnInput:
    """A return of one unit (refund_minor) for a replacement costing
    replacement_minor, its hold already taken by the orders service."""
    replacement = unique("ord")
    hold = placement_hold_id(replacement)
    fakes.active_reservations[hold] = ReserveStockInput(
        hold, replacement, "store-2", [SkuQty("SKU-B", 1)], "web"
    )
    request = a_return(method, [ReturnLineInput("SKU-A", 1, "sellable", refund_minor)])
    request.refund_minor = refund_minor
    request.exchange = ExchangeInput(replacement, replacement_minor, [hold])
    return request


async def test_same_price_swap_refunds_nothing_to_the_card_and_places_the_replacement(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = an_exchange(fakes, 2000, 2000)
    assert request.exchange is not None
    hold = request.exchange.reservation_ids[0]
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        final = await handle.result()
        await keep_history(handle, "an_exchange_at_the_same_price_places_the_replacement")

    assert final["status"] == "refunded"
    assert [c.reservation_id for c in fakes.called("confirm")] == [hold]
    assert fakes.called("release") == []
    # The whole refund became store credit that the replacement spends.
    [credit] = fakes.called("refund")
    assert (credit.payment_id, credit.amount_minor, credit.to_store_credit) == (
        "pay-card",
        2000,
        True,
    )
    assert credit.customer_id == request.customer_id
    [placed] = fakes.called("place_exchange")
    assert placed.order_id == request.exchange.order_id
    assert [(c.code, c.amount_minor) for c in placed.credits] == [
        (f"sc-{request.customer_id}", 2000)
    ]
    refunds = fakes.return_progress[-1].refunds
    assert [(r.tender_type, r.amount_minor) for r in refunds] == [("store_credit", 2000)]
    assert [p.event_type for p in fakes.return_progress] == [
        "awaiting_receipt",
        "received",
        "exchange_placed",
        "refunded",
    ]


async def test_dearer_replacement_credits_the_whole_refund_and_leaves_the_difference_to_the_order(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = an_exchange(fakes, 2000, 3500)
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        await handle.result()

    # Nothing refunded to the card; the store credit pays 2000 of 3500, the
    # orders service authorizes the 1500 difference on the original card.
    [credit] = fakes.called("refund")
    assert (credit.amount_minor, credit.to_store_credit) == (2000, True)
    [placed] = fakes.called("place_exchange")
    assert [c.amount_minor for c in placed.credits] == [2000]


async def test_cheaper_replacement_refunds_the_difference_once_to_the_original_tenders(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(
        payments={
            "pay-card": captured("pay-card", "card", 3000),
            "pay-gift": captured("pay-gift", "gift_card", 1000),
        }
    )
    request = an_exchange(fakes, 3000, 1200)
    rid = request.return_id
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        final = await handle.result()
        await keep_history(handle, "a_cheaper_exchange_refunds_the_difference")

    # The replacement takes 1200 of the refund (gift card first), the 1800
    # difference goes back to the original tenders: the gift card's rest, then the card.
    refunds = [(r.payment_id, r.amount_minor, r.to_store_credit) for r in fakes.called("refund")]
    assert refunds == [
        ("pay-gift", 1000, True),
        ("pay-card", 200, True),
        ("pay-card", 1800, False),
    ]
    keys = [r.idempotency_key for r in fakes.called("refund")]
    assert keys == [
        f"return-{rid}/exchange/pay-gift",
        f"return-{rid}/exchange/pay-card",
        f"return-{rid}/refund/pay-card",
    ]
    assert fakes.payments["pay-card"].refunded_minor == 2000
    [placed] = fakes.called("place_exchange")
    assert sum(c.amount_minor for c in placed.credits) == 1200
    assert final["refunded_minor"] == 3000


async def test_expired_exchange_releases_the_replacement_and_charges_nothing(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = an_exchange(fakes, 2000, 3500, method="mail")
    assert request.exchange is not None
    hold = request.exchange.reservation_ids[0]
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await env.sleep(timedelta(days=31))
        final = await handle.result()
        await keep_history(handle, "an_expired_exchange_releases_the_replacement")

    assert final["status"] == "expired"
    assert [r.reservation_id for r in fakes.called("release")] == [hold]
    assert hold not in fakes.active_reservations
    assert fakes.called("refund") == [] and fakes.called("authorize") == []
    assert fakes.called("place_exchange") == []
    [cancelled] = fakes.order_progress
    assert (cancelled.order_id, cancelled.status, cancelled.event_type) == (
        request.exchange.order_id,
        "cancelled",
        "exchange_cancelled",
    )


async def test_a_hold_lapsed_before_the_return_started_is_given_back_and_the_return_is_plain(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = an_exchange(fakes, 2000, 2000)
    assert request.exchange is not None
    fakes.expired_holds.add(request.exchange.reservation_ids[0])
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        await handle.result()

    assert fakes.called("place_exchange") == []
    [refund] = fakes.called("refund")
    assert (refund.amount_minor, refund.to_store_credit) == (2000, False)
    assert [p.status for p in fakes.order_progress] == ["cancelled"]


async def test_a_refused_replacement_keeps_the_credit_and_refunds_only_the_rest(
    env: WorkflowEnvironment,
) -> None:
    fakes = FakeServices(payments={"pay-card": captured("pay-card", "card", 5000)})
    request = an_exchange(fakes, 2000, 3500)
    assert request.exchange is not None
    fakes.refused_exchanges.add(request.exchange.order_id)
    async with running_worker(env.client, fakes) as queue:
        handle = await start(env.client, request, queue)
        await hand_over(handle, request)
        final = await handle.result()

    assert final["status"] == "refunded"
    # The 2000 is the customer's store credit (the placement gave its hold back).
    [credit] = fakes.called("refund")
    assert (credit.amount_minor, credit.to_store_credit) == (2000, True)
    assert "exchange_refused" in [p.event_type for p in fakes.return_progress]
