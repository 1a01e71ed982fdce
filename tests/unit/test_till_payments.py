"""Issue 14: a card read at a till (card_present) is a card at the provider,
with the card-present authorization lifetime whatever the channel says, and
it is captured and refunded through the provider like any card."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from omni.payments.v1 import payments_pb2 as pb
from omni.words import Channel, PaymentStatus, ProviderOperationKind, TenderType
from services.common.errors import BusinessRuleViolation
from services.payments.use_cases import App
from tests.unit.test_payments_use_cases import (
    NOW,
    FakeProvider,
    State,
    World,
    amounts,
    authorize,
    capture,
    fields,
    key,
    refund,
    refusal,
    usd,
)


@pytest.fixture
def world() -> World:
    return World(State(), FakeProvider(), [NOW])


@pytest.fixture
def app(world: World) -> App:
    return world.app()


def card_present(token: str, amount_minor: int = 1500) -> pb.AuthorizePaymentRequest:
    return pb.AuthorizePaymentRequest(
        idempotency_key=key(),
        reference="order-till",
        tender=pb.Tender(type=TenderType.CARD_PRESENT.to_proto(), token=token),
        amount=usd(amount_minor),
        channel=Channel.WEB.to_proto(),
    )


async def test_card_present_is_authorized_captured_and_refunded_at_the_provider(
    app: App, world: World
) -> None:
    payment = await authorize(app, card_present("tok_approve"))
    assert TenderType.from_proto(payment.tender_type) is TenderType.CARD_PRESENT
    assert payment.expires_at.ToDatetime(tzinfo=UTC) == NOW + timedelta(days=2)
    captured = await capture(app, payment.payment_id, 1500, final=True)
    assert amounts(captured) == (PaymentStatus.CAPTURED, 1500, 1500, 0)
    refunded = await refund(app, payment.payment_id, 500)
    assert amounts(refunded.payment)[3] == 500
    assert world.provider.kinds() == [
        ProviderOperationKind.AUTHORIZE,
        ProviderOperationKind.CAPTURE,
        ProviderOperationKind.REFUND,
    ]


async def test_a_declined_card_present_stores_nothing(app: App, world: World) -> None:
    error = await refusal(authorize(app, card_present("tok_decline")))
    assert isinstance(error, BusinessRuleViolation)
    assert error.reason == "PAYMENT_DECLINED"
    assert world.state.payments == {}


async def test_card_present_needs_a_token(app: App, world: World) -> None:
    error = await refusal(authorize(app, card_present("")))
    assert fields(error) == ["tender.token"]
    assert world.provider.done == []


# --- a card_present sold at once (AuthorizePaymentRequest.capture) ---------------------


def card_present_sale(token: str, amount_minor: int = 1500) -> pb.AuthorizePaymentRequest:
    request = card_present(token, amount_minor)
    request.channel = Channel.POS.to_proto()
    request.capture = True
    return request


async def test_a_card_present_sale_is_authorized_and_captured_final_in_one_call(
    app: App, world: World
) -> None:
    request = card_present_sale("tok_approve")
    sold = await authorize(app, request)
    assert amounts(sold) == (PaymentStatus.CAPTURED, 1500, 1500, 0)
    assert sold.released.amount_minor == 0
    assert world.state.payments[sold.payment_id].status is PaymentStatus.CAPTURED
    assert world.provider.kinds() == [
        ProviderOperationKind.AUTHORIZE,
        ProviderOperationKind.CAPTURE,
    ]
    # Refunded like any captured card (a till sale given back after the card was read).
    refunded = await refund(app, sold.payment_id, 1500)
    assert amounts(refunded.payment) == (PaymentStatus.REFUNDED, 1500, 1500, 1500)


async def test_a_declined_card_present_sale_stores_nothing_and_captures_nothing(
    app: App, world: World
) -> None:
    error = await refusal(authorize(app, card_present_sale("tok_decline")))
    assert isinstance(error, BusinessRuleViolation)
    assert error.reason == "PAYMENT_DECLINED"
    assert world.state.payments == {}
    assert world.provider.kinds() == [ProviderOperationKind.AUTHORIZE]


async def test_only_a_card_present_is_sold_at_once(app: App, world: World) -> None:
    for tender in (
        pb.Tender(type=TenderType.CARD.to_proto(), token="tok_approve"),
        pb.Tender(type=TenderType.GIFT_CARD.to_proto(), code="GC-1"),
        pb.Tender(type=TenderType.CASH.to_proto()),
    ):
        request = card_present_sale("tok_approve")
        request.tender.CopyFrom(tender)
        error = await refusal(authorize(app, request))
        assert fields(error) == ["capture"], tender
    assert world.state.payments == {}
    assert world.provider.done == []
