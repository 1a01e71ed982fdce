"""The payments service as a real process on a real database, called over gRPC."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import grpc
import pytest
from sqlalchemy import text

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from omni.words import PaymentStatus, ProviderOperationKind, ProviderOutcome, TenderType
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from services.common.money import Money
from services.payments.adapters.dev_provider import DevPaymentProvider
from tests.support.identity import trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

Stub = payments_pb2_grpc.PaymentsServiceStub


@pytest.fixture(scope="module")
def payments_database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("payments")


@pytest.fixture(scope="module")
def payments_address(payments_database_url: str, logs_dir: Path) -> Iterator[str]:
    port = free_port()
    process = start_module(
        "services.payments.main",
        {"DATABASE_URL": payments_database_url, "GRPC_PORT": str(port), "PAYMENT_PROVIDER": "dev"},
        logs_dir / "payments.log",
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_grpc_healthy(address, process)
        yield address
    finally:
        stop_process(process)


@pytest.fixture
async def payments(payments_address: str) -> AsyncIterator[Stub]:
    # A plain channel: no client-side retries, so each UNAVAILABLE is seen.
    async with trusted_channel(payments_address) as channel:
        yield payments_pb2_grpc.PaymentsServiceStub(channel)


def usd(amount_minor: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency="USD")


CARD = TenderType.CARD.to_proto()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def authorize(
    payments: Stub, amount_minor: int = 1000, token: str = "tok_approve", reference: str = ""
) -> payments_pb2.Payment:
    reply = await payments.AuthorizePayment(
        payments_pb2.AuthorizePaymentRequest(
            idempotency_key=unique("auth"),
            reference=reference or unique("order"),
            tender=payments_pb2.Tender(type=CARD, token=token),
            amount=usd(amount_minor),
        )
    )
    return reply.payment


async def capture(payments: Stub, payment_id: str, amount_minor: int) -> payments_pb2.Payment:
    reply = await payments.CapturePayment(
        payments_pb2.CapturePaymentRequest(
            idempotency_key=unique("cap"), payment_id=payment_id, amount=usd(amount_minor)
        )
    )
    return reply.payment


def amounts(payment: payments_pb2.Payment) -> tuple[str | None, int, int, int]:
    return (
        PaymentStatus.from_proto(payment.status),
        payment.authorized.amount_minor,
        payment.captured.amount_minor,
        payment.refunded.amount_minor,
    )


@dataclass(frozen=True)
class ProviderOperation:
    """One of ListProviderOperations' answers, in the words REST shows."""

    operation: ProviderOperationKind | None
    amount: common_pb2.Money
    outcome: ProviderOutcome | None


@dataclass(frozen=True)
class ProviderOperations:
    operations: list[ProviderOperation]


async def provider_operations(payments: Stub, reference: str) -> ProviderOperations:
    reply = await payments.ListProviderOperations(
        payments_pb2.ListProviderOperationsRequest(reference=reference)
    )
    return ProviderOperations(
        [
            ProviderOperation(
                ProviderOperationKind.from_proto(op.operation),
                op.amount,
                ProviderOutcome.from_proto(op.outcome),
            )
            for op in reply.operations
        ]
    )


async def test_authorize_capture_refund_happy_path(payments: Stub) -> None:
    payment = await authorize(payments, 1000)
    assert amounts(payment) == ("authorized", 1000, 0, 0)
    assert (payment.card_brand, payment.card_last4, TenderType.from_proto(payment.tender_type)) == (
        "visa",
        "4242",
        "card",
    )

    assert amounts(await capture(payments, payment.payment_id, 400)) == ("captured", 1000, 400, 0)
    assert amounts(await capture(payments, payment.payment_id, 600)) == ("captured", 1000, 1000, 0)

    refunded = await payments.RefundPayment(
        payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("ref"), payment_id=payment.payment_id, amount=usd(250)
        )
    )
    assert amounts(refunded.payment) == ("captured", 1000, 1000, 250)
    refunded = await payments.RefundPayment(
        payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("ref"), payment_id=payment.payment_id, amount=usd(750)
        )
    )
    assert amounts(refunded.payment) == ("refunded", 1000, 1000, 1000)

    fetched = await payments.GetPayment(
        payments_pb2.GetPaymentRequest(payment_id=payment.payment_id)
    )
    assert amounts(fetched.payment) == ("refunded", 1000, 1000, 1000)
    listed = await payments.ListPayments(
        payments_pb2.ListPaymentsRequest(reference=payment.reference)
    )
    assert [p.payment_id for p in listed.payments] == [payment.payment_id]
    operations = await provider_operations(payments, payment.reference)
    assert [(op.operation, op.amount.amount_minor, op.outcome) for op in operations.operations] == [
        ("authorize", 1000, "approved"),
        ("capture", 400, "approved"),
        ("capture", 600, "approved"),
        ("refund", 250, "approved"),
        ("refund", 750, "approved"),
    ]


async def test_void_releases_an_uncaptured_authorization(payments: Stub) -> None:
    payment = await authorize(payments, 500)
    voided = await payments.VoidPayment(
        payments_pb2.VoidPaymentRequest(
            idempotency_key=unique("void"), payment_id=payment.payment_id
        )
    )
    assert amounts(voided.payment) == ("voided", 500, 0, 0)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await capture(payments, payment.payment_id, 100)
    assert refused.value.code() == grpc.StatusCode.ABORTED
    assert describe_rpc_error(refused.value).reason == "INVALID_PAYMENT_STATE"


async def test_decline_is_failed_precondition_payment_declined(payments: Stub) -> None:
    reference = unique("order")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await authorize(payments, 1000, token="tok_decline", reference=reference)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(refused.value).reason == "PAYMENT_DECLINED"
    listed = await payments.ListPayments(payments_pb2.ListPaymentsRequest(reference=reference))
    assert list(listed.payments) == []
    operations = await provider_operations(payments, reference)
    assert [(op.operation, op.outcome) for op in operations.operations] == [
        ("authorize", "declined")
    ]


async def test_flaky_provider_two_unavailable_then_one_authorization(payments: Stub) -> None:
    reference = unique("order")
    request = payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=reference,
        tender=payments_pb2.Tender(type=CARD, token="tok_flaky"),
        amount=usd(1500),
    )
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as unavailable:
            await payments.AuthorizePayment(request)
        assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE
    first = await payments.AuthorizePayment(request)
    again = await payments.AuthorizePayment(request)
    assert PaymentStatus.from_proto(first.payment.status) == "authorized"
    assert again.payment == first.payment

    operations = await provider_operations(payments, reference)
    outcomes = [(op.operation, op.outcome) for op in operations.operations]
    assert outcomes == [("authorize", "error"), ("authorize", "error"), ("authorize", "approved")]

    capture_request = payments_pb2.CapturePaymentRequest(
        idempotency_key=unique("cap"), payment_id=first.payment.payment_id, amount=usd(1500)
    )
    for _ in range(2):
        with pytest.raises(grpc.aio.AioRpcError) as unavailable:
            await payments.CapturePayment(capture_request)
        assert unavailable.value.code() == grpc.StatusCode.UNAVAILABLE
    captured = await payments.CapturePayment(capture_request)
    assert amounts(captured.payment) == ("captured", 1500, 1500, 0)
    operations = await provider_operations(payments, reference)
    captures = [op.outcome for op in operations.operations if op.operation == "capture"]
    assert captures == ["error", "error", "approved"]


async def test_repeated_key_returns_the_same_payment(payments: Stub) -> None:
    request = payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=unique("order"),
        tender=payments_pb2.Tender(type=CARD, token="tok_approve"),
        amount=usd(700),
    )
    first = await payments.AuthorizePayment(request)
    second = await payments.AuthorizePayment(request)
    assert second.payment == first.payment
    listed = await payments.ListPayments(
        payments_pb2.ListPaymentsRequest(reference=request.reference)
    )
    assert len(listed.payments) == 1

    capture_request = payments_pb2.CapturePaymentRequest(
        idempotency_key=unique("cap"), payment_id=first.payment.payment_id, amount=usd(300)
    )
    await payments.CapturePayment(capture_request)
    repeated = await payments.CapturePayment(capture_request)
    assert repeated.payment.captured.amount_minor == 300


async def test_same_key_different_amount_is_refused(payments: Stub) -> None:
    request = payments_pb2.AuthorizePaymentRequest(
        idempotency_key=unique("auth"),
        reference=unique("order"),
        tender=payments_pb2.Tender(type=CARD, token="tok_approve"),
        amount=usd(700),
    )
    await payments.AuthorizePayment(request)
    request.amount.amount_minor = 701
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await payments.AuthorizePayment(request)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(refused.value).reason == "IDEMPOTENCY_KEY_REUSED"


async def test_concurrent_refunds_of_the_last_amount_only_one_wins(payments: Stub) -> None:
    payment = await authorize(payments, 1000)
    await capture(payments, payment.payment_id, 1000)
    await payments.RefundPayment(
        payments_pb2.RefundPaymentRequest(
            idempotency_key=unique("ref"), payment_id=payment.payment_id, amount=usd(400)
        )
    )

    async def refund_rest() -> grpc.StatusCode:
        try:
            await payments.RefundPayment(
                payments_pb2.RefundPaymentRequest(
                    idempotency_key=unique("ref"), payment_id=payment.payment_id, amount=usd(600)
                )
            )
        except grpc.aio.AioRpcError as error:
            return error.code()
        return grpc.StatusCode.OK

    codes = await asyncio.gather(*(refund_rest() for _ in range(4)))
    assert sorted(code.name for code in codes) == ["ABORTED", "ABORTED", "ABORTED", "OK"]
    fetched = await payments.GetPayment(
        payments_pb2.GetPaymentRequest(payment_id=payment.payment_id)
    )
    assert amounts(fetched.payment) == ("refunded", 1000, 1000, 1000)
    operations = await provider_operations(payments, payment.reference)
    refunds = [op.amount.amount_minor for op in operations.operations if op.operation == "refund"]
    assert refunds == [400, 600]


async def test_card_number_in_token_is_rejected_and_nothing_stored(payments: Stub) -> None:
    reference = unique("order")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await payments.AuthorizePayment(
            payments_pb2.AuthorizePaymentRequest(
                idempotency_key=unique("auth"),
                reference=reference,
                tender=payments_pb2.Tender(type=CARD, token="4111 1111 1111 1111"),
                amount=usd(100),
            )
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = describe_rpc_error(refused.value)
    assert [v.field for v in info.violations] == ["tender.token"]
    assert "4111" not in (refused.value.details() or "")
    listed = await payments.ListPayments(payments_pb2.ListPaymentsRequest(reference=reference))
    operations = await provider_operations(payments, reference)
    assert (len(listed.payments), len(operations.operations)) == (0, 0)


@pytest.mark.parametrize(
    ("tender", "amount", "field"),
    [
        (payments_pb2.Tender(type=CARD, token="tok_unknown"), usd(100), "tender.token"),
        (payments_pb2.Tender(type=cast(payments_pb2.TenderType, 99)), usd(100), "tender.type"),
        (payments_pb2.Tender(type=CARD, token="tok_approve"), usd(0), "amount.amount_minor"),
        (
            payments_pb2.Tender(type=CARD, token="tok_approve"),
            common_pb2.Money(amount_minor=100, currency="dollars"),
            "amount.currency",
        ),
    ],
)
async def test_invalid_authorize_requests_name_the_field(
    payments: Stub, tender: payments_pb2.Tender, amount: common_pb2.Money, field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await payments.AuthorizePayment(
            payments_pb2.AuthorizePaymentRequest(
                idempotency_key=unique("auth"),
                reference=unique("order"),
                tender=tender,
                amount=amount,
            )
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(refused.value).violations] == [field]


async def test_capture_in_another_currency_is_invalid(payments: Stub) -> None:
    payment = await authorize(payments, 1000)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await payments.CapturePayment(
            payments_pb2.CapturePaymentRequest(
                idempotency_key=unique("cap"),
                payment_id=payment.payment_id,
                amount=common_pb2.Money(amount_minor=100, currency="EUR"),
            )
        )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fetched = await payments.GetPayment(
        payments_pb2.GetPaymentRequest(payment_id=payment.payment_id)
    )
    assert amounts(fetched.payment) == ("authorized", 1000, 0, 0)


async def test_unknown_payment_is_not_found(payments: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await payments.GetPayment(payments_pb2.GetPaymentRequest(payment_id=unique("missing")))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def test_slow_token_takes_its_time_then_approves(payments: Stub) -> None:
    started = time.monotonic()
    payment = await authorize(payments, 300, token="tok_slow")
    assert time.monotonic() - started >= 3.0
    assert PaymentStatus.from_proto(payment.status) == "authorized"


async def test_one_tender_gets_one_payment_even_with_different_keys(payments: Stub) -> None:
    reference = unique("order")

    async def authorize_code() -> str:
        try:
            payment = await authorize(payments, 900, reference=reference)
        except grpc.aio.AioRpcError as error:
            return describe_rpc_error(error).reason
        return str(PaymentStatus.from_proto(payment.status))

    outcomes = await asyncio.gather(*(authorize_code() for _ in range(3)))
    assert sorted(outcomes) == ["PAYMENT_ALREADY_EXISTS", "PAYMENT_ALREADY_EXISTS", "authorized"]
    operations = await provider_operations(payments, reference)
    assert [op.operation for op in operations.operations] == ["authorize"]


async def test_retry_after_an_ambiguous_failure_does_not_capture_twice(
    payments: Stub, payments_database_url: str
) -> None:
    payment = await authorize(payments, 1000)
    merchant_reference = unique("cap")
    provider = await DevPaymentProvider.open(payments_database_url, 2)
    try:
        # The provider captured, but the service never learned of it (say it crashed).
        await provider.capture(
            merchant_reference=merchant_reference,
            reference=payment.reference,
            provider_reference="",
            amount=Money(1000, "USD"),
        )
        replies = await provider.list_operations(payment.reference)
        assert [op.operation for op in replies] == ["authorize", "capture"]
    finally:
        await provider.close()

    # The caller retries with the same key: the service finds the earlier capture.
    captured = await payments.CapturePayment(
        payments_pb2.CapturePaymentRequest(
            idempotency_key=merchant_reference, payment_id=payment.payment_id, amount=usd(1000)
        )
    )
    assert amounts(captured.payment) == ("captured", 1000, 1000, 0)
    operations = await provider_operations(payments, payment.reference)
    assert [op.operation for op in operations.operations] == ["authorize", "capture"]


async def test_only_the_dev_provider_makes_its_books(
    payments: Stub, payments_database_url: str, migrated_database: Callable[[str], str]
) -> None:
    async def found(url: str) -> tuple[object, ...]:
        database = Database(url, pool_size=1)
        try:
            async with database.unit_of_work() as uow:
                row = await uow.session.execute(
                    text(
                        "SELECT to_regclass('public.dev_provider_operations'),"
                        " to_regnamespace('dev_provider'), to_regclass('dev_provider.operations')"
                    )
                )
                return tuple(row.one())
        finally:
            await database.dispose()

    # The payments migrations alone: no trace of the development provider.
    fresh = await asyncio.to_thread(migrated_database, "payments")
    assert await found(fresh) == (None, None, None)
    # A payments process with PAYMENT_PROVIDER=dev made its schema and table.
    assert await found(payments_database_url) == (None, "dev_provider", "dev_provider.operations")


async def test_concurrent_reauthorizations_with_one_key_renew_once(payments: Stub) -> None:
    """Issue 11: four retries of one re-authorization at once (one workflow
    step, key derived in the journey): one new authorization, the old one
    voided once, a later expires_at; the capture goes to the new one."""
    payment = await authorize(payments, 900)
    key = unique("reauth")

    async def renew() -> payments_pb2.Payment:
        reply = await payments.ReauthorizePayment(
            payments_pb2.ReauthorizePaymentRequest(
                idempotency_key=key, payment_id=payment.payment_id
            )
        )
        return reply.payment

    renewed = await asyncio.gather(*(renew() for _ in range(4)))
    assert len({r.SerializeToString(deterministic=True) for r in renewed}) == 1
    assert renewed[0].expires_at.ToDatetime() > payment.expires_at.ToDatetime()
    await payments.CapturePayment(
        payments_pb2.CapturePaymentRequest(
            idempotency_key=unique("cap"),
            payment_id=payment.payment_id,
            amount=usd(900),
            final=True,
        )
    )
    operations = await provider_operations(payments, payment.reference)
    assert [(op.operation, op.outcome, op.amount.amount_minor) for op in operations.operations] == [
        ("authorize", "approved", 900),
        ("authorize", "approved", 900),
        ("void", "approved", 900),
        ("capture", "approved", 900),
    ]


async def test_a_declined_reauthorization_leaves_the_old_one_live(payments: Stub) -> None:
    payment = await authorize(payments, 500, token="tok_decline_reauth")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await payments.ReauthorizePayment(
            payments_pb2.ReauthorizePaymentRequest(
                idempotency_key=unique("reauth"), payment_id=payment.payment_id
            )
        )
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert describe_rpc_error(refused.value).reason == "PAYMENT_DECLINED"
    fetched = await payments.GetPayment(
        payments_pb2.GetPaymentRequest(payment_id=payment.payment_id)
    )
    assert fetched.payment == payment
    assert await capture(payments, payment.payment_id, 500)
