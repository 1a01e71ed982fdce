"""Gift cards, store credit, cash, expiry, remembered refusals and ambiguous
provider timeouts: the payments service as real processes on a real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from omni.words import Channel, GiftCardEntryKind, GiftCardKind, PaymentStatus, TenderType
from services.common.grpc_errors import describe_rpc_error
from tests.integration.test_payments_service import (
    CARD,
    Stub,
    amounts,
    authorize,
    capture,
    payments,
    payments_address,
    payments_database_url,
    provider_operations,
    unique,
    usd,
)
from tests.support.identity import trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

__all__ = ["payments", "payments_address", "payments_database_url"]


@contextmanager
def payments_process(database_url: str, logs: Path, **env: str) -> Iterator[str]:
    """Another payments process on the same database with its own settings."""
    port = free_port()
    process = start_module(
        "services.payments.main",
        {"DATABASE_URL": database_url, "GRPC_PORT": str(port), "PAYMENT_PROVIDER": "dev", **env},
        logs,
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_grpc_healthy(address, process)
        yield address
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def lapsing_address(payments_database_url: str, logs_dir: Path) -> Iterator[str]:
    """Authorizations lapse at once; a capture renews them."""
    with payments_process(
        payments_database_url,
        logs_dir / "payments-lapsing.log",
        CARD_NOT_PRESENT_AUTHORIZATION_HOURS="0",
        CARD_PRESENT_AUTHORIZATION_HOURS="0",
    ) as address:
        yield address


@pytest.fixture(scope="module")
def no_renewal_address(payments_database_url: str, logs_dir: Path) -> Iterator[str]:
    """Authorizations lapse at once and are never renewed."""
    with payments_process(
        payments_database_url,
        logs_dir / "payments-no-renewal.log",
        CARD_NOT_PRESENT_AUTHORIZATION_HOURS="0",
        REAUTHORIZE_EXPIRED_AUTHORIZATIONS="false",
    ) as address:
        yield address


@pytest.fixture(scope="module")
def impatient_address(payments_database_url: str, logs_dir: Path) -> Iterator[str]:
    """Gives the provider 0.5 s: tok_slow (acts, then answers after 3 s) times out."""
    with payments_process(
        payments_database_url,
        logs_dir / "payments-impatient.log",
        PROVIDER_TIMEOUT_SECONDS="0.5",
        CARD_PRESENT_AUTHORIZATION_HOURS="1",
        CARD_NOT_PRESENT_AUTHORIZATION_HOURS="2",
    ) as address:
        yield address


async def stub_for(address: str) -> AsyncIterator[Stub]:
    async with trusted_channel(address) as channel:
        yield payments_pb2_grpc.PaymentsServiceStub(channel)


@pytest.fixture
async def lapsing(lapsing_address: str) -> AsyncIterator[Stub]:
    async for stub in stub_for(lapsing_address):
        yield stub


@pytest.fixture
async def no_renewal(no_renewal_address: str) -> AsyncIterator[Stub]:
    async for stub in stub_for(no_renewal_address):
        yield stub


@pytest.fixture
async def impatient(impatient_address: str) -> AsyncIterator[Stub]:
    async for stub in stub_for(impatient_address):
        yield stub


# ------------------------------------------------------------------ helpers


async def issue(payments: Stub, amount_minor: int) -> str:
    reply = await payments.IssueGiftCard(
        payments_pb2.IssueGiftCardRequest(
            idempotency_key=unique("issue"), initial_balance=usd(amount_minor)
        )
    )
    return reply.gift_card.code


async def balance(payments: Stub, code: str) -> tuple[int, int]:
    card = (await payments.GetGiftCard(payments_pb2.GetGiftCardRequest(code=code))).gift_card
    return card.balance.amount_minor, card.held.amount_minor


def gift_card_request(
    code: str,
    amount_minor: int,
    reference: str = "",
    tender_type: TenderType = TenderType.GIFT_CARD,
) -> payments_pb2.AuthorizePaymentRequest:
    return payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=reference or unique("order"),
        tender=payments_pb2.Tender(
            type=tender_type.to_proto(), code=code, amount_minor=amount_minor
        ),
        amount=usd(amount_minor),
    )


async def refused(call: Callable[[], object]) -> grpc.aio.AioRpcError:
    try:
        await call()  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error
    raise AssertionError("the call was not refused")


async def operations(payments: Stub, reference: str) -> list[tuple[str | None, int, str | None]]:
    reply = await provider_operations(payments, reference)
    return [(op.operation, op.amount.amount_minor, op.outcome) for op in reply.operations]


def history(card: payments_pb2.GiftCard) -> list[tuple[str | None, int]]:
    """The card's ledger in the words REST shows: (kind, amount_minor), oldest first."""
    return [(GiftCardEntryKind.from_proto(e.kind), e.amount.amount_minor) for e in card.history]


# --------------------------------------------------------------- gift cards


async def test_gift_card_hold_capture_refund_and_void(payments: Stub) -> None:
    code = await issue(payments, 5000)
    assert code.startswith("GC-")

    held = await payments.AuthorizePayment(gift_card_request(code, 3000))
    assert amounts(held.payment) == ("authorized", 3000, 0, 0)
    tender_type = TenderType.from_proto(held.payment.tender_type)
    assert (tender_type, held.payment.gift_card_code) == ("gift_card", code)
    assert not held.payment.HasField("expires_at")  # holds do not lapse
    assert await balance(payments, code) == (2000, 3000)

    assert amounts(await capture(payments, held.payment.payment_id, 3000))[2] == 3000
    assert await balance(payments, code) == (2000, 0)
    refunded = await payments.RefundPayment(
        payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("ref"), payment_id=held.payment.payment_id, amount=usd(1000)
        )
    )
    assert amounts(refunded.payment) == ("captured", 3000, 3000, 1000)
    assert await balance(payments, code) == (3000, 0)

    other = await payments.AuthorizePayment(gift_card_request(code, 500))
    assert await balance(payments, code) == (2500, 500)
    voided = await payments.VoidPayment(
        payments_pb2.VoidPaymentRequest(
            idempotency_key=unique("void"), payment_id=other.payment.payment_id
        )
    )
    assert PaymentStatus.from_proto(voided.payment.status) == "voided"
    assert await balance(payments, code) == (3000, 0)

    card = (await payments.GetGiftCard(payments_pb2.GetGiftCardRequest(code=code))).gift_card
    assert history(card) == [
        ("issue", 5000),
        ("hold", 3000),
        ("redeem", 3000),
        ("refund", 1000),
        ("hold", 500),
        ("release", 500),
    ]
    # The provider never heard of any of it.
    assert await operations(payments, held.payment.reference) == []


async def test_reload_adds_to_the_balance(payments: Stub) -> None:
    code = await issue(payments, 100)
    request = payments_pb2.ReloadGiftCardRequest(
        idempotency_key=unique("reload"), code=code, amount=usd(250)
    )
    first = await payments.ReloadGiftCard(request)
    again = await payments.ReloadGiftCard(request)
    assert first.gift_card.balance.amount_minor == again.gift_card.balance.amount_minor == 350
    assert await balance(payments, code) == (350, 0)


async def test_insufficient_balance_is_refused_and_holds_nothing(payments: Stub) -> None:
    code = await issue(payments, 1000)
    request = gift_card_request(code, 1001)
    error = await refused(lambda: payments.AuthorizePayment(request))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(error).reason == "INSUFFICIENT_GIFT_CARD_BALANCE"
    assert await balance(payments, code) == (1000, 0)
    listed = await payments.ListPayments(
        payments_pb2.ListPaymentsRequest(reference=request.reference)
    )
    assert list(listed.payments) == []


async def test_unknown_gift_card_code_is_a_business_refusal(payments: Stub) -> None:
    error = await refused(
        lambda: payments.AuthorizePayment(gift_card_request("GC-NOSUCHCARDATALL", 100))
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(error).reason == "GIFT_CARD_NOT_FOUND"
    error = await refused(
        lambda: payments.GetGiftCard(payments_pb2.GetGiftCardRequest(code="GC-NOSUCHCARDATALL"))
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_gift_card_in_another_currency_is_invalid(payments: Stub) -> None:
    code = await issue(payments, 1000)
    request = gift_card_request(code, 100)
    request.amount.currency = "EUR"
    error = await refused(lambda: payments.AuthorizePayment(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(error).violations] == ["amount.currency"]
    assert await balance(payments, code) == (1000, 0)


async def test_racing_redemptions_never_take_the_balance_below_zero(payments: Stub) -> None:
    code = await issue(payments, 1000)

    async def redeem() -> str:
        try:
            held = await payments.AuthorizePayment(gift_card_request(code, 300))
            await capture(payments, held.payment.payment_id, 300)
        except grpc.aio.AioRpcError as error:
            return describe_rpc_error(error).reason
        return "redeemed"

    outcomes = await asyncio.gather(*(redeem() for _ in range(6)))
    assert sorted(outcomes) == ["INSUFFICIENT_GIFT_CARD_BALANCE"] * 3 + ["redeemed"] * 3
    assert await balance(payments, code) == (100, 0)


# ------------------------------------------------------- store credit, cash


async def test_refund_as_store_credit_then_spend_it(payments: Stub) -> None:
    customer_id = unique("C")
    payment = await authorize(payments, 2000)
    await capture(payments, payment.payment_id, 2000)
    refunded = await payments.RefundPayment(
        payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("ref"),
            payment_id=payment.payment_id,
            amount=usd(800),
            to_store_credit=True,
            customer_id=customer_id,
        )
    )
    assert amounts(refunded.payment) == ("captured", 2000, 2000, 800)
    credit = refunded.store_credit
    kind = GiftCardKind.from_proto(credit.kind)
    assert (kind, credit.customer_id, credit.balance.amount_minor) == (
        "store_credit",
        customer_id,
        800,
    )
    # Store credit is not the card: the provider refunded nothing.
    assert [op[0] for op in await operations(payments, payment.reference)] == [
        "authorize",
        "capture",
    ]

    listed = await payments.ListStoreCredit(
        payments_pb2.ListStoreCreditRequest(customer_id=customer_id)
    )
    assert [(c.code, c.balance.amount_minor) for c in listed.store_credit] == [(credit.code, 800)]

    spent = await payments.AuthorizePayment(
        gift_card_request(credit.code, 500, tender_type=TenderType.STORE_CREDIT)
    )
    spent_with = TenderType.from_proto(spent.payment.tender_type)
    assert (spent_with, PaymentStatus.from_proto(spent.payment.status)) == (
        "store_credit",
        "authorized",
    )
    assert await balance(payments, credit.code) == (300, 500)


async def test_cash_is_captured_as_it_is_recorded(payments: Stub) -> None:
    reference = unique("order")
    recorded = await payments.AuthorizePayment(
        payments_pb2.AuthorizePaymentRequest(
            idempotency_key=unique("cash"),
            reference=reference,
            tender=payments_pb2.Tender(type=TenderType.CASH.to_proto()),
            amount=usd(1250),
            channel=Channel.POS.to_proto(),
        )
    )
    assert amounts(recorded.payment) == ("captured", 1250, 1250, 0)
    refunded = await payments.RefundPayment(
        payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("ref"), payment_id=recorded.payment.payment_id, amount=usd(250)
        )
    )
    assert amounts(refunded.payment) == ("captured", 1250, 1250, 250)
    assert await operations(payments, reference) == []


# ---------------------------------------------------------- idempotency


async def test_a_repeated_decline_answers_the_same_without_asking_again(payments: Stub) -> None:
    request = payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=unique("order"),
        tender=payments_pb2.Tender(type=CARD, token="tok_decline"),
        amount=usd(900),
    )

    async def attempt() -> tuple[grpc.StatusCode, str]:
        error = await refused(lambda: payments.AuthorizePayment(request))
        return error.code(), describe_rpc_error(error).reason

    first = await attempt()
    repeats = await asyncio.gather(*(attempt() for _ in range(3)))
    assert first == (grpc.StatusCode.FAILED_PRECONDITION, "PAYMENT_DECLINED")
    assert repeats == [first] * 3
    assert await operations(payments, request.reference) == [("authorize", 900, "declined")]

    request.amount.amount_minor = 901
    error = await refused(lambda: payments.AuthorizePayment(request))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(error).reason == "IDEMPOTENCY_KEY_REUSED"


async def test_concurrent_declines_under_one_key_reach_the_provider_once(payments: Stub) -> None:
    request = payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=unique("order"),
        tender=payments_pb2.Tender(type=CARD, token="tok_decline"),
        amount=usd(400),
    )
    errors = await asyncio.gather(
        *(refused(lambda: payments.AuthorizePayment(request)) for _ in range(4))
    )
    assert {describe_rpc_error(e).reason for e in errors} == {"PAYMENT_DECLINED"}
    assert await operations(payments, request.reference) == [("authorize", 400, "declined")]


async def test_concurrent_repeats_authorize_once(payments: Stub) -> None:
    request = payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=unique("order"),
        tender=payments_pb2.Tender(type=CARD, token="tok_approve"),
        amount=usd(650),
    )
    replies = await asyncio.gather(*(payments.AuthorizePayment(request) for _ in range(5)))
    assert len({reply.payment.payment_id for reply in replies}) == 1
    assert await operations(payments, request.reference) == [("authorize", 650, "approved")]


async def test_a_refused_capture_is_remembered_even_after_things_change(payments: Stub) -> None:
    payment = await authorize(payments, 1000)
    request = payments_pb2.CapturePaymentRequest(
        idempotency_key=unique("cap"), payment_id=payment.payment_id, amount=usd(1001)
    )
    first = await refused(lambda: payments.CapturePayment(request))
    assert describe_rpc_error(first).reason == "INVALID_PAYMENT_STATE"
    again = await refused(lambda: payments.CapturePayment(request))
    assert (again.code(), again.details()) == (first.code(), first.details())


async def test_unknown_payment_is_bad_input_and_stores_nothing(payments: Stub) -> None:
    request = payments_pb2.RefundPaymentRequest(
        idempotency_key=unique("ref"), payment_id=unique("missing"), amount=usd(100)
    )
    error = await refused(lambda: payments.RefundPayment(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(error).violations] == ["payment_id"]
    # Nothing was kept under the key: the same key may now be used for a real refund.
    payment = await authorize(payments, 100)
    await capture(payments, payment.payment_id, 100)
    request.payment_id = payment.payment_id
    reply = await payments.RefundPayment(request)
    assert amounts(reply.payment) == ("refunded", 100, 100, 100)


@pytest.mark.parametrize("field", ["code", "idempotency_key"])
async def test_a_card_number_in_any_field_is_refused(payments: Stub, field: str) -> None:
    request = payments_pb2.ReloadGiftCardRequest(
        idempotency_key=unique("reload"), code="GC-ANY", amount=usd(100)
    )
    setattr(request, field, "4012-8888-8888-1881")
    error = await refused(lambda: payments.ReloadGiftCard(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(error).violations] == [field]
    assert "8888" not in (error.details() or "")


# ----------------------------------------------------------------- expiry


async def test_lifetimes_follow_the_channel(impatient: Stub) -> None:
    async def lifetime_hours(channel: Channel) -> float:
        reply = await impatient.AuthorizePayment(
            payments_pb2.AuthorizePaymentRequest(
                idempotency_key=unique("auth"),
                reference=unique("order"),
                tender=payments_pb2.Tender(type=CARD, token="tok_approve"),
                amount=usd(100),
                channel=channel.to_proto(),
            )
        )
        payment = reply.payment
        lived = payment.expires_at.ToDatetime() - payment.created_at.ToDatetime()
        return round(lived.total_seconds() / 3600)

    assert await lifetime_hours(Channel.POS) == 1
    assert await lifetime_hours(Channel.WEB) == 2


async def test_capturing_a_lapsed_authorization_renews_it_first(lapsing: Stub) -> None:
    payment = await authorize(lapsing, 1200)
    captured = await capture(lapsing, payment.payment_id, 1200)
    assert amounts(captured) == ("captured", 1200, 1200, 0)
    assert await operations(lapsing, payment.reference) == [
        ("authorize", 1200, "approved"),
        ("authorize", 1200, "approved"),
        ("capture", 1200, "approved"),
    ]


async def test_without_renewal_a_lapsed_authorization_expires(no_renewal: Stub) -> None:
    payment = await authorize(no_renewal, 700)
    request = payments_pb2.CapturePaymentRequest(
        idempotency_key=unique("cap"), payment_id=payment.payment_id, amount=usd(700)
    )
    error = await refused(lambda: no_renewal.CapturePayment(request))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(error).reason == "AUTHORIZATION_EXPIRED"
    fetched = await no_renewal.GetPayment(
        payments_pb2.GetPaymentRequest(payment_id=payment.payment_id)
    )
    assert amounts(fetched.payment) == ("expired", 700, 0, 0)

    # An expired authorization is never captured, whatever the key.
    request.idempotency_key = unique("cap")
    error = await refused(lambda: no_renewal.CapturePayment(request))
    assert describe_rpc_error(error).reason == "AUTHORIZATION_EXPIRED"
    assert [op[0] for op in await operations(no_renewal, payment.reference)] == ["authorize"]


# ------------------------------------------------------ ambiguous failures


async def test_a_timeout_after_the_provider_acted_is_resolved_by_lookup(impatient: Stub) -> None:
    # tok_slow authorizes at once but answers after 3 s; this process waits 0.5 s.
    payment = await authorize(impatient, 800, token="tok_slow")
    assert PaymentStatus.from_proto(payment.status) == "authorized"
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    captured = await capture(impatient, payment.payment_id, 800)
    assert amounts(captured) == ("captured", 800, 800, 0)
    assert await operations(impatient, payment.reference) == [
        ("authorize", 800, "approved"),
        ("capture", 800, "approved"),
    ]
