"""The development provider: test tokens that approve, decline, fail or dawdle.

tok_approve approves; tok_decline declines authorization; tok_flaky answers
"unavailable" to the first two attempts of each operation of a reference,
then approves; tok_decline_reauth approves the first authorization of a
reference and declines every later one (a card cancelled after the order, so
a re-authorization is declined); tok_slow acts, then takes SLOW_SECONDS to answer (so a caller
that gives up early meets the ambiguous case: done, but not told).

It stands for an external system, so it keeps its own books: the table
`dev_provider.operations`, in a schema of its own that the payments
migrations never create. `create_books` makes them, and main.py calls it only
when PAYMENT_PROVIDER=dev. The books are written in their own transactions,
on their own small pool: what the provider did stays done even when the
payments service's transaction rolls back, and it never waits for a
connection that a payments transaction waiting for it holds.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    Row,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.schema import CreateSchema

from omni.words import ProviderOperationKind, ProviderOutcome
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.payments.adapters.provider import (
    PaymentProvider,
    ProviderOperation,
    ProviderResult,
)

SCHEMA = "dev_provider"
# pg_advisory_xact_lock key: payments processes starting together take turns
# creating the books.
BOOKS_LOCK = 7_262_054

books = MetaData(schema=SCHEMA)

operations = Table(
    "operations",
    books,
    Column("operation_id", BigInteger, primary_key=True, autoincrement=True),
    Column("reference", String(200), nullable=False),
    Column("merchant_reference", String(200), nullable=False),
    Column("provider_reference", String(200), nullable=False),
    # A ProviderOperationKind word.
    Column("operation", String(20), nullable=False),
    # How the token behaves: approve, decline, flaky, slow or decline_reauth.
    Column("behaviour", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    # A ProviderOutcome word.
    Column("outcome", String(20), nullable=False),
    Column("card_brand", String(40), nullable=False, server_default=""),
    Column("card_last4", String(4), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Index("ix_operations_reference", "reference"),
    Index("ix_operations_merchant_reference", "merchant_reference"),
    Index("ix_operations_provider_reference", "provider_reference"),
)

BEHAVIOUR_BY_TOKEN = {
    "tok_approve": "approve",
    "tok_decline": "decline",
    "tok_flaky": "flaky",
    "tok_slow": "slow",
    # A card read at a till (card_present, issue 14): the same behaviours.
    "tokp_approve": "approve",
    "tokp_decline": "decline",
    "tok_decline_reauth": "decline_reauth",
}
FLAKY_FAILURES = 2
SLOW_SECONDS = 3.0
CARD_BRAND = "visa"
CARD_LAST4 = "4242"


async def create_books(database: Database) -> None:
    """The provider's own migration step: its schema and table, if missing."""
    async with database.engine.begin() as connection:
        await connection.execute(select(func.pg_advisory_xact_lock(BOOKS_LOCK)))
        await connection.execute(CreateSchema(SCHEMA, if_not_exists=True))
        await connection.run_sync(books.create_all)


# --- the books ----------------------------------------------------------------


async def _add(
    session: AsyncSession,
    *,
    reference: str,
    merchant_reference: str,
    provider_reference: str,
    operation: ProviderOperationKind,
    behaviour: str,
    amount: Money,
    outcome: ProviderOutcome,
    card_brand: str = "",
    card_last4: str = "",
) -> None:
    await session.execute(
        operations.insert().values(
            reference=reference,
            merchant_reference=merchant_reference,
            provider_reference=provider_reference,
            operation=operation.value,
            behaviour=behaviour,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            outcome=outcome.value,
            card_brand=card_brand,
            card_last4=card_last4,
        )
    )


async def _count(
    session: AsyncSession,
    *,
    reference: str,
    operation: ProviderOperationKind,
    outcome: ProviderOutcome,
) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(operations)
        .where(
            operations.c.reference == reference,
            operations.c.operation == operation.value,
            operations.c.outcome == outcome.value,
        )
    )
    return int(count or 0)


async def _behaviour_of(session: AsyncSession, provider_reference: str) -> str | None:
    """How the token behind an authorization behaves."""
    behaviour: str | None = await session.scalar(
        select(operations.c.behaviour)
        .where(operations.c.provider_reference == provider_reference)
        .order_by(operations.c.operation_id)
        .limit(1)
    )
    return behaviour


async def _uncaptured_minor(session: AsyncSession, provider_reference: str) -> int:
    """What the provider still holds of an authorization: authorized, less what
    was captured or released since."""
    approved = operations.c.outcome == ProviderOutcome.APPROVED.value
    authorized = await session.scalar(
        select(operations.c.amount_minor)
        .where(
            operations.c.provider_reference == provider_reference,
            operations.c.operation == ProviderOperationKind.AUTHORIZE.value,
            approved,
        )
        .order_by(operations.c.operation_id)
        .limit(1)
    )
    spent = await session.scalar(
        select(func.coalesce(func.sum(operations.c.amount_minor), 0)).where(
            operations.c.provider_reference == provider_reference,
            operations.c.operation.in_(
                [ProviderOperationKind.CAPTURE.value, ProviderOperationKind.RELEASE.value]
            ),
            approved,
        )
    )
    return int(authorized or 0) - int(spent or 0)


async def _first_approved(session: AsyncSession, merchant_reference: str) -> Row[Any] | None:
    return (
        await session.execute(
            select(operations)
            .where(
                operations.c.merchant_reference == merchant_reference,
                operations.c.outcome == ProviderOutcome.APPROVED.value,
            )
            .order_by(operations.c.operation_id)
            .limit(1)
        )
    ).first()


async def _list(session: AsyncSession, reference: str) -> list[ProviderOperation]:
    rows = await session.execute(
        select(operations)
        .where(operations.c.reference == reference)
        .order_by(operations.c.operation_id)
    )
    return [
        ProviderOperation(
            operation=ProviderOperationKind(row.operation),
            amount=Money(row.amount_minor, row.currency),
            outcome=ProviderOutcome(row.outcome),
            at=row.at,
        )
        for row in rows
    ]


# --- the provider --------------------------------------------------------------


class DevPaymentProvider(PaymentProvider):
    def __init__(self, database: Database, *, slow_seconds: float = SLOW_SECONDS) -> None:
        self._database = database
        self._slow_seconds = slow_seconds

    def validate_token(self, token: str) -> None:
        if token not in BEHAVIOUR_BY_TOKEN:
            raise InvalidArgument.field(
                "tender.token", f"is not a test token ({', '.join(BEHAVIOUR_BY_TOKEN)})"
            )

    async def authorize(
        self, *, merchant_reference: str, reference: str, token: str, amount: Money
    ) -> ProviderResult:
        self.validate_token(token)
        return await self._perform(
            operation=ProviderOperationKind.AUTHORIZE,
            behaviour=BEHAVIOUR_BY_TOKEN[token],
            merchant_reference=merchant_reference,
            reference=reference,
            provider_reference=f"dev_{uuid.uuid4().hex}",
            amount=amount,
        )

    async def capture(
        self,
        *,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        final: bool = False,
    ) -> ProviderResult:
        return await self._follow_up(
            ProviderOperationKind.CAPTURE,
            merchant_reference,
            reference,
            provider_reference,
            amount,
            final=final,
        )

    async def void(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult:
        return await self._follow_up(
            ProviderOperationKind.VOID, merchant_reference, reference, provider_reference, amount
        )

    async def refund(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult:
        return await self._follow_up(
            ProviderOperationKind.REFUND, merchant_reference, reference, provider_reference, amount
        )

    async def lookup(self, merchant_reference: str) -> ProviderResult | None:
        async with self._database.unit_of_work() as uow:
            row = await _first_approved(uow.session, merchant_reference)
        if row is None:
            return None
        return ProviderResult(
            outcome=ProviderOutcome.APPROVED,
            provider_reference=row.provider_reference,
            card_brand=row.card_brand,
            card_last4=row.card_last4,
        )

    async def list_operations(self, reference: str) -> list[ProviderOperation]:
        async with self._database.unit_of_work() as uow:
            return await _list(uow.session, reference)

    async def _follow_up(
        self,
        operation: ProviderOperationKind,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        *,
        final: bool = False,
    ) -> ProviderResult:
        async with self._database.unit_of_work() as uow:
            behaviour = await _behaviour_of(uow.session, provider_reference)
        return await self._perform(
            operation=operation,
            behaviour=behaviour or "approve",
            merchant_reference=merchant_reference,
            reference=reference,
            provider_reference=provider_reference,
            amount=amount,
            final=final,
        )

    async def _perform(
        self,
        *,
        operation: ProviderOperationKind,
        behaviour: str,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        final: bool = False,
    ) -> ProviderResult:
        async with self._database.unit_of_work() as uow:

            async def record(
                done: ProviderOperationKind,
                money: Money,
                outcome: ProviderOutcome,
                *,
                card: bool = False,
            ) -> None:
                await _add(
                    uow.session,
                    reference=reference,
                    merchant_reference=merchant_reference,
                    provider_reference=provider_reference,
                    operation=done,
                    behaviour=behaviour,
                    amount=money,
                    outcome=outcome,
                    card_brand=CARD_BRAND if card else "",
                    card_last4=CARD_LAST4 if card else "",
                )

            if behaviour == "flaky":
                failures = await _count(
                    uow.session,
                    reference=reference,
                    operation=operation,
                    outcome=ProviderOutcome.ERROR,
                )
                if failures < FLAKY_FAILURES:
                    await record(operation, amount, ProviderOutcome.ERROR)
                    await uow.commit()
                    return ProviderResult(outcome=ProviderOutcome.ERROR)
            authorizing = operation is ProviderOperationKind.AUTHORIZE
            declined = authorizing and (
                behaviour == "decline"
                or (
                    behaviour == "decline_reauth"
                    and await _count(
                        uow.session,
                        reference=reference,
                        operation=operation,
                        outcome=ProviderOutcome.APPROVED,
                    )
                    > 0
                )
            )
            await record(
                operation,
                amount,
                ProviderOutcome.DECLINED if declined else ProviderOutcome.APPROVED,
                card=True,
            )
            if final and operation is ProviderOperationKind.CAPTURE:
                # No more captures: the rest of the authorization is let go now.
                rest = await _uncaptured_minor(uow.session, provider_reference)
                if rest > 0:
                    await record(
                        ProviderOperationKind.RELEASE,
                        Money(rest, amount.currency),
                        ProviderOutcome.APPROVED,
                    )
            await uow.commit()
        if behaviour == "slow":
            await asyncio.sleep(self._slow_seconds)
        if declined:
            return ProviderResult(outcome=ProviderOutcome.DECLINED)
        return ProviderResult(
            outcome=ProviderOutcome.APPROVED,
            provider_reference=provider_reference,
            card_brand=CARD_BRAND,
            card_last4=CARD_LAST4,
        )
