"""services/common/plain_session.py on real PostgreSQL (the payments schema):
the store functions' statements sent on bare asyncpg read and write what
they do through the ORM, savepoints roll back alone, and run_once keeps its
rules (refusals remembered as JSON, a key reused with other parameters
refused, a failure rolls the key back)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy import bindparam, select

from omni.payments.v1 import payments_pb2 as pb
from omni.words import PaymentStatus, TenderType
from services.common.db import Database
from services.common.errors import BusinessRuleViolation, Conflict, Unavailable
from services.common.idempotency import KEY_REUSED, run_once
from services.common.money import Money
from services.common.plain_session import PlainDatabase, SqlSession
from services.payments import domain
from services.payments.store import gift_cards, payments
from services.payments.store.tables import idempotency_keys
from services.payments.store.tables import payments as payments_table


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("payments")


@pytest.fixture
async def plain(database_url: str) -> AsyncIterator[PlainDatabase]:
    opened = await PlainDatabase.open(database_url, 4)
    yield opened
    await opened.close()


@pytest.fixture
async def orm(database_url: str) -> AsyncIterator[Database]:
    opened = Database(database_url, pool_size=2)
    yield opened
    await opened.dispose()


def _cash(reference: str, amount_minor: int = 500) -> domain.Payment:
    return domain.recorded_cash(
        payment_id=f"pay-{reference}", reference=reference, amount=Money(amount_minor, "EUR")
    )


async def test_a_payment_written_plain_reads_back_the_same_through_the_orm(
    plain: PlainDatabase, orm: Database
) -> None:
    async with plain.transaction() as session:
        written = await payments.insert(session, _cash("ref-same"), "cash-key-1")
    async with orm.transaction() as session:
        read = await payments.get(session, written.payment_id)
    # server defaults (created_at, refunded 0) filled in: only the given columns were sent
    assert read == written
    assert written.status is PaymentStatus.CAPTURED
    assert written.refunded_minor == 0


async def test_a_conditional_update_with_an_in_list_applies_or_refuses(
    plain: PlainDatabase,
) -> None:
    async with plain.transaction() as session:
        card = domain.authorized_payment(
            payment_id="pay-in-list",
            reference="ref-in-list",
            tender=domain.Tender(TenderType.CARD, token="tok_visa"),
            amount=Money(1000, "EUR"),
            expires_at=None,
        )
        await payments.insert(session, card, "tok_visa")
    async with plain.transaction() as session:
        after = domain.capture(card, Money(400, "EUR"), final=False)
        saved = await payments.record_capture(session, after, Money(400, "EUR"))
    assert saved.captured_minor == 400
    # a void's condition (nothing captured) no longer holds: refused, unchanged
    with pytest.raises(Conflict):
        async with plain.transaction() as session:
            await payments.record_void(session, "pay-in-list")
    async with plain.transaction() as session:
        unchanged = await payments.get(session, "pay-in-list", lock=True)
    assert unchanged is not None and unchanged.captured_minor == 400


async def test_a_savepoint_rolls_back_alone(plain: PlainDatabase, orm: Database) -> None:
    async with plain.transaction() as session:
        await payments.insert(session, _cash("ref-kept"), "cash-kept")
        savepoint = await session.begin_nested()
        await payments.insert(session, _cash("ref-undone"), "cash-undone")
        await savepoint.rollback()
    async with orm.transaction() as session:
        kept = await payments.list_for_reference(session, "ref-kept")
        undone = await payments.list_for_reference(session, "ref-undone")
    assert [p.reference for p in kept] == ["ref-kept"]
    assert undone == []


async def test_an_error_rolls_the_whole_transaction_back(plain: PlainDatabase) -> None:
    with pytest.raises(RuntimeError):
        async with plain.transaction() as session:
            await payments.insert(session, _cash("ref-error"), "cash-error")
            raise RuntimeError("after the insert")
    async with plain.transaction() as session:
        assert await payments.list_for_reference(session, "ref-error") == []


async def test_scalar_one_and_first(plain: PlainDatabase) -> None:
    async with plain.transaction() as session:
        await payments.insert(session, _cash("ref-scalar"), "cash-scalar")
        by_reference = select(payments_table.c.payment_id).where(
            payments_table.c.reference == "ref-scalar"
        )
        assert await session.scalar(by_reference) == "pay-ref-scalar"
        nothing = select(payments_table.c.payment_id).where(payments_table.c.reference == "none")
        assert await session.scalar(nothing) is None
        assert (await session.execute(nothing)).first() is None
        with pytest.raises(LookupError):
            (await session.execute(nothing)).one()


async def test_one_statement_object_given_other_columns_compiles_again(
    plain: PlainDatabase,
) -> None:
    """An INSERT without values() sets what it is given: the same object
    executed with other keys must not reuse the first compilation."""
    statement = payments_table.insert().returning(payments_table.c.card_brand)
    row = {
        "payment_id": "pay-cols-1",
        "reference": "ref-cols",
        "tender_type": "cash",
        "tender_identity": "c1",
        "status": "captured",
        "currency": "EUR",
        "authorized_minor": 100,
        "captured_minor": 100,
    }
    async with plain.transaction() as session:
        first = (await session.execute(statement, row)).one()
        branded = row | {"payment_id": "pay-cols-2", "tender_identity": "c2", "card_brand": "visa"}
        second = (await session.execute(statement, branded)).one()
    assert (first.card_brand, second.card_brand) == ("", "visa")


async def test_gift_card_changes_and_their_ledger(plain: PlainDatabase) -> None:
    async with plain.transaction() as session:
        await gift_cards.issue(session, "GC-PLAIN-1", Money(5000, "EUR"))
        await gift_cards.hold(session, "GC-PLAIN-1", Money(1200, "EUR"), "ref-gc")
    with pytest.raises(BusinessRuleViolation):
        async with plain.transaction() as session:
            await gift_cards.hold(session, "GC-PLAIN-1", Money(9000, "EUR"), "ref-gc-2")
    async with plain.transaction() as session:
        card = await gift_cards.get(session, "GC-PLAIN-1")
    assert card is not None
    assert (card.balance_minor, card.held_minor) == (3800, 1200)
    assert [entry.kind.value for entry in card.history] == ["issue", "hold"]


async def test_run_once_remembers_a_refusal_as_json(plain: PlainDatabase) -> None:
    calls: list[str] = []

    async def refuse(session: SqlSession) -> pb.AuthorizePaymentResponse:
        calls.append("work")
        await payments.insert(session, _cash("ref-refused"), "cash-refused")
        raise BusinessRuleViolation("NOT_TODAY", "refused", {"why": "a test"})

    request = pb.AuthorizePaymentRequest(reference="ref-refused")
    for _ in range(2):
        with pytest.raises(BusinessRuleViolation) as refused:
            await run_once(
                plain, idempotency_keys, "key-refused", request, pb.AuthorizePaymentResponse, refuse
            )
        assert (refused.value.reason, refused.value.metadata) == ("NOT_TODAY", {"why": "a test"})
    assert calls == ["work"]
    async with plain.transaction() as session:
        # the refused work's insert went with its savepoint
        assert await payments.list_for_reference(session, "ref-refused") == []


async def test_run_once_answers_a_repeat_and_refuses_other_parameters(
    plain: PlainDatabase,
) -> None:
    calls: list[str] = []

    async def authorize(session: SqlSession) -> pb.AuthorizePaymentResponse:
        calls.append("work")
        saved = await payments.insert(session, _cash("ref-answer"), "cash-answer")
        return pb.AuthorizePaymentResponse(payment=pb.Payment(payment_id=saved.payment_id))

    request = pb.AuthorizePaymentRequest(reference="ref-answer")
    answers = await asyncio.gather(
        *(
            run_once(
                plain,
                idempotency_keys,
                "key-answer",
                request,
                pb.AuthorizePaymentResponse,
                authorize,
            )
            for _ in range(5)
        )
    )
    assert {answer.payment.payment_id for answer in answers} == {"pay-ref-answer"}
    assert calls == ["work"]
    other = pb.AuthorizePaymentRequest(reference="ref-other")
    with pytest.raises(BusinessRuleViolation) as reused:
        await run_once(
            plain, idempotency_keys, "key-answer", other, pb.AuthorizePaymentResponse, authorize
        )
    assert reused.value.reason == KEY_REUSED


async def test_run_once_rolls_the_key_back_with_a_failure(plain: PlainDatabase) -> None:
    attempts: list[int] = []

    async def flaky(session: SqlSession) -> pb.AuthorizePaymentResponse:
        attempts.append(len(attempts))
        await payments.insert(session, _cash("ref-flaky"), "cash-flaky")
        if len(attempts) == 1:
            raise Unavailable("the provider is away")
        return pb.AuthorizePaymentResponse(payment=pb.Payment(payment_id="pay-ref-flaky"))

    request = pb.AuthorizePaymentRequest(reference="ref-flaky")
    with pytest.raises(Unavailable):
        await run_once(
            plain, idempotency_keys, "key-flaky", request, pb.AuthorizePaymentResponse, flaky
        )
    answer = await run_once(
        plain, idempotency_keys, "key-flaky", request, pb.AuthorizePaymentResponse, flaky
    )
    assert answer.payment.payment_id == "pay-ref-flaky"
    async with plain.transaction() as session:
        assert len(await payments.list_for_reference(session, "ref-flaky")) == 1


async def test_a_bound_parameter_beside_a_literal_in_list(plain: PlainDatabase) -> None:
    """Built once with a bindparam and a fixed IN list (as orders' visible
    fulfillment read): the list is expanded, the parameter still asked for."""
    statement = select(payments_table.c.payment_id).where(
        payments_table.c.reference == bindparam("the_reference"),
        payments_table.c.status.in_(["captured", "refunded"]),
    )
    async with plain.transaction() as session:
        await payments.insert(session, _cash("ref-bound-1"), "cash-bound-1")
        await payments.insert(session, _cash("ref-bound-2"), "cash-bound-2")
        first = await session.scalar(statement, {"the_reference": "ref-bound-1"})
        second = await session.scalar(statement, {"the_reference": "ref-bound-2"})
        with pytest.raises(KeyError):
            await session.execute(statement)
    assert (first, second) == ("pay-ref-bound-1", "pay-ref-bound-2")
