"""Settling what an order did not use: final captures release the rest, and the
expiry sweep gives back authorizations nobody captured. Real payments
processes on a real database."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from omni.payments.v1 import payments_pb2
from omni.words import PaymentStatus
from services.common.grpc_errors import describe_rpc_error
from tests.integration.test_payments_service import (
    Stub,
    amounts,
    authorize,
    payments,
    payments_address,
    payments_database_url,
    unique,
    usd,
)
from tests.integration.test_payments_tenders import (
    balance,
    gift_card_request,
    history,
    issue,
    operations,
    payments_process,
    refused,
    stub_for,
)

__all__ = ["payments", "payments_address", "payments_database_url"]

# About 1.8 s: long enough to capture within, short enough to wait out.
SHORT_LIFETIME_HOURS = "0.0005"
SWEEP_DEADLINE_SECONDS = 20.0


@pytest.fixture(scope="module")
def sweeping_address(payments_database_url: str, logs_dir: Path) -> Iterator[str]:
    """Authorizations and gift card holds live about 2 s; the sweep runs 5 times a second."""
    with payments_process(
        payments_database_url,
        logs_dir / "payments-sweeping.log",
        CARD_NOT_PRESENT_AUTHORIZATION_HOURS=SHORT_LIFETIME_HOURS,
        GIFT_CARD_HOLD_HOURS=SHORT_LIFETIME_HOURS,
        EXPIRY_SWEEP_INTERVAL_SECONDS="0.2",
    ) as address:
        yield address


@pytest.fixture
async def sweeping(sweeping_address: str) -> AsyncIterator[Stub]:
    async for stub in stub_for(sweeping_address):
        yield stub


def capture_request(
    payment_id: str, amount_minor: int, *, final: bool = False
) -> payments_pb2.CapturePaymentRequest:
    return payments_pb2.CapturePaymentRequest(
        idempotency_key=unique("cap"), payment_id=payment_id, amount=usd(amount_minor), final=final
    )


async def status_of(payments: Stub, payment_id: str) -> PaymentStatus | None:
    reply = await payments.GetPayment(payments_pb2.GetPaymentRequest(payment_id=payment_id))
    return PaymentStatus.from_proto(reply.payment.status)


async def wait_until_expired(payments: Stub, *payment_ids: str) -> None:
    """Polls until the sweep has marked every payment expired, or fails at the deadline."""
    deadline = time.monotonic() + SWEEP_DEADLINE_SECONDS
    while True:
        statuses = [await status_of(payments, payment_id) for payment_id in payment_ids]
        if statuses == ["expired"] * len(payment_ids):
            return
        assert time.monotonic() < deadline, f"not expired in time: {statuses}"
        await asyncio.sleep(0.1)


# ------------------------------------------------------------- final capture


async def test_a_final_partial_capture_gives_the_rest_of_a_gift_card_hold_back(
    payments: Stub,
) -> None:
    code = await issue(payments, 5000)
    held = (await payments.AuthorizePayment(gift_card_request(code, 3000))).payment
    assert await balance(payments, code) == (2000, 3000)

    request = capture_request(held.payment_id, 1800, final=True)
    captured = (await payments.CapturePayment(request)).payment
    assert amounts(captured) == ("captured", 3000, 1800, 0)
    assert captured.released.amount_minor == 1200
    # Spendable again: everything but what was captured.
    assert await balance(payments, code) == (5000 - 1800, 0)
    again = (await payments.CapturePayment(request)).payment
    assert again == captured
    assert await balance(payments, code) == (3200, 0)

    card = (await payments.GetGiftCard(payments_pb2.GetGiftCardRequest(code=code))).gift_card
    assert history(card) == [
        ("issue", 5000),
        ("hold", 3000),
        ("redeem", 1800),
        ("release", 1200),
    ]
    # Nothing more can be captured after a final capture.
    error = await refused(lambda: payments.CapturePayment(capture_request(held.payment_id, 1)))
    assert error.code() == grpc.StatusCode.ABORTED  # a Conflict: the state does not allow it
    described = describe_rpc_error(error)
    assert (described.reason, described.metadata["capturable_minor"]) == (
        "INVALID_PAYMENT_STATE",
        "0",
    )
    assert await balance(payments, code) == (3200, 0)


async def test_a_capture_that_is_not_final_keeps_the_rest_held(payments: Stub) -> None:
    code = await issue(payments, 1000)
    held = (await payments.AuthorizePayment(gift_card_request(code, 1000))).payment
    captured = (await payments.CapturePayment(capture_request(held.payment_id, 400))).payment
    assert (captured.captured.amount_minor, captured.released.amount_minor) == (400, 0)
    assert await balance(payments, code) == (0, 600)


async def test_a_final_partial_card_capture_releases_the_rest_at_the_provider(
    payments: Stub,
) -> None:
    payment = await authorize(payments, 2000)
    await payments.CapturePayment(capture_request(payment.payment_id, 500))
    final = (
        await payments.CapturePayment(capture_request(payment.payment_id, 700, final=True))
    ).payment
    assert amounts(final) == ("captured", 2000, 1200, 0)
    assert final.released.amount_minor == 800
    assert await operations(payments, payment.reference) == [
        ("authorize", 2000, "approved"),
        ("capture", 500, "approved"),
        ("capture", 700, "approved"),
        ("release", 800, "approved"),
    ]


async def test_a_final_capture_of_everything_releases_nothing(payments: Stub) -> None:
    payment = await authorize(payments, 900)
    final = (
        await payments.CapturePayment(capture_request(payment.payment_id, 900, final=True))
    ).payment
    assert (final.captured.amount_minor, final.released.amount_minor) == (900, 0)
    assert [op[0] for op in await operations(payments, payment.reference)] == [
        "authorize",
        "capture",
    ]


# ------------------------------------------------------------- expiry sweep


async def test_the_sweep_expires_uncaptured_authorizations_and_gives_holds_back(
    sweeping: Stub,
) -> None:
    code = await issue(sweeping, 1000)
    held = (await sweeping.AuthorizePayment(gift_card_request(code, 700))).payment
    assert held.HasField("expires_at")
    card = await authorize(sweeping, 900)
    assert await balance(sweeping, code) == (300, 700)

    await wait_until_expired(sweeping, held.payment_id, card.payment_id)

    assert await balance(sweeping, code) == (1000, 0)
    swept = (await sweeping.GetGiftCard(payments_pb2.GetGiftCardRequest(code=code))).gift_card
    assert history(swept) == [
        ("issue", 1000),
        ("hold", 700),
        ("release", 700),
    ]
    # The card authorization lapsed at the provider by itself: nothing to tell it.
    assert await operations(sweeping, card.reference) == [("authorize", 900, "approved")]

    # Voiding what expired is a harmless repeat (an order's compensation).
    voided = await sweeping.VoidPayment(
        payments_pb2.VoidPaymentRequest(idempotency_key=unique("void"), payment_id=held.payment_id)
    )
    assert PaymentStatus.from_proto(voided.payment.status) == "expired"
    assert await balance(sweeping, code) == (1000, 0)


async def test_capturing_after_the_sweep_authorizes_again_first(sweeping: Stub) -> None:
    code = await issue(sweeping, 1000)
    held = (await sweeping.AuthorizePayment(gift_card_request(code, 600))).payment
    card = await authorize(sweeping, 800)
    await wait_until_expired(sweeping, held.payment_id, card.payment_id)

    # The gift card is held again, then redeemed; the card authorized again, then captured.
    gift = (await sweeping.CapturePayment(capture_request(held.payment_id, 600))).payment
    assert amounts(gift) == ("captured", 600, 600, 0)
    assert await balance(sweeping, code) == (400, 0)
    captured = (await sweeping.CapturePayment(capture_request(card.payment_id, 800))).payment
    assert amounts(captured) == ("captured", 800, 800, 0)
    assert await operations(sweeping, card.reference) == [
        ("authorize", 800, "approved"),
        ("authorize", 800, "approved"),
        ("capture", 800, "approved"),
    ]


async def test_a_swept_hold_whose_balance_was_spent_cannot_be_captured(sweeping: Stub) -> None:
    code = await issue(sweeping, 1000)
    held = (await sweeping.AuthorizePayment(gift_card_request(code, 800))).payment
    await wait_until_expired(sweeping, held.payment_id)
    # Someone else spends the released balance (a hold that is never swept:
    # captured at once).
    other = (await sweeping.AuthorizePayment(gift_card_request(code, 500))).payment
    await sweeping.CapturePayment(capture_request(other.payment_id, 500))

    error = await refused(lambda: sweeping.CapturePayment(capture_request(held.payment_id, 800)))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(error).reason == "AUTHORIZATION_EXPIRED"
    assert await status_of(sweeping, held.payment_id) == "expired"
    assert await balance(sweeping, code) == (500, 0)
