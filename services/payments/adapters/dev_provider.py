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
connection that a payments transaction waiting for it holds. The pool is
plain asyncpg (services/common/plain_sql.py) and an operation is one
autocommitted statement unless its behaviour needs several: a real provider
costs the payments service a network wait and no CPU, so its stand-in should
cost as little as it can (on SQLAlchemy it was a third of payments' CPU in a
till sale: a unit of work per lookup and per operation).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.schema import CreateSchema

from omni.words import ProviderOperationKind, ProviderOutcome
from services.common.db import Database
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.common.plain_sql import create_hot_pool, sql_span
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


async def create_books(database_url: str) -> None:
    """The provider's own migration step: its schema and table, if missing."""
    database = Database(database_url, pool_size=1)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(select(func.pg_advisory_xact_lock(BOOKS_LOCK)))
            await connection.execute(CreateSchema(SCHEMA, if_not_exists=True))
            await connection.run_sync(books.create_all)
    finally:
        await database.dispose()


# --- the books ----------------------------------------------------------------

_APPROVED = ProviderOutcome.APPROVED.value
_ADD = f"""
INSERT INTO {SCHEMA}.operations (reference, merchant_reference, provider_reference, operation,
                                 behaviour, amount_minor, currency, outcome, card_brand, card_last4)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""
_COUNT = f"""
SELECT count(*) FROM {SCHEMA}.operations WHERE reference = $1 AND operation = $2 AND outcome = $3
"""
# How the token behind an authorization behaves.
_BEHAVIOUR = f"""
SELECT behaviour FROM {SCHEMA}.operations WHERE provider_reference = $1
ORDER BY operation_id LIMIT 1
"""
# What the provider still holds of an authorization: authorized, less what
# was captured or released since.
_UNCAPTURED = f"""
SELECT coalesce((SELECT amount_minor FROM {SCHEMA}.operations
                 WHERE provider_reference = $1 AND operation = '{ProviderOperationKind.AUTHORIZE}'
                   AND outcome = '{_APPROVED}'
                 ORDER BY operation_id LIMIT 1), 0)
     - (SELECT coalesce(sum(amount_minor), 0) FROM {SCHEMA}.operations
        WHERE provider_reference = $1
          AND operation IN ('{ProviderOperationKind.CAPTURE}', '{ProviderOperationKind.RELEASE}')
          AND outcome = '{_APPROVED}')
"""
_FIRST_APPROVED = f"""
SELECT provider_reference, card_brand, card_last4 FROM {SCHEMA}.operations
WHERE merchant_reference = $1 AND outcome = '{_APPROVED}'
ORDER BY operation_id LIMIT 1
"""
_LIST = f"""
SELECT operation, amount_minor, currency, outcome, at FROM {SCHEMA}.operations
WHERE reference = $1 ORDER BY operation_id
"""


class _Books:
    """The provider's books on one connection, each statement with its span."""

    def __init__(self, connection: PoolConnectionProxy[asyncpg.Record], database_name: str) -> None:
        self._connection = connection
        self._database_name = database_name

    async def value(self, statement: str, *arguments: Any) -> Any:
        with sql_span(statement, self._database_name):
            return await self._connection.fetchval(statement, *arguments)

    async def row(self, statement: str, *arguments: Any) -> asyncpg.Record | None:
        with sql_span(statement, self._database_name):
            row: asyncpg.Record | None = await self._connection.fetchrow(statement, *arguments)
            return row

    async def rows(self, statement: str, *arguments: Any) -> list[asyncpg.Record]:
        with sql_span(statement, self._database_name):
            rows: list[asyncpg.Record] = await self._connection.fetch(statement, *arguments)
            return rows

    async def add(
        self,
        *,
        reference: str,
        merchant_reference: str,
        provider_reference: str,
        operation: ProviderOperationKind,
        behaviour: str,
        amount: Money,
        outcome: ProviderOutcome,
        card: bool = False,
    ) -> None:
        with sql_span(_ADD, self._database_name):
            await self._connection.execute(
                _ADD,
                reference,
                merchant_reference,
                provider_reference,
                operation.value,
                behaviour,
                amount.amount_minor,
                amount.currency,
                outcome.value,
                CARD_BRAND if card else "",
                CARD_LAST4 if card else "",
            )

    async def count(
        self, reference: str, operation: ProviderOperationKind, outcome: ProviderOutcome
    ) -> int:
        return int(await self.value(_COUNT, reference, operation.value, outcome.value) or 0)


# --- the provider --------------------------------------------------------------


class DevPaymentProvider(PaymentProvider):
    def __init__(
        self, pool: asyncpg.Pool, database_name: str, *, slow_seconds: float = SLOW_SECONDS
    ) -> None:
        self._pool = pool
        self._database_name = database_name
        self._slow_seconds = slow_seconds

    @classmethod
    async def open(
        cls, database_url: str, pool_size: int, *, slow_seconds: float = SLOW_SECONDS
    ) -> DevPaymentProvider:
        """The provider on a pool of its own (close it with `close`)."""
        pool = await create_hot_pool(database_url, pool_size)
        return cls(pool, make_url(database_url).database or "", slow_seconds=slow_seconds)

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def _books(self) -> AsyncIterator[_Books]:
        async with self._pool.acquire() as connection:
            yield _Books(connection, self._database_name)

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
        async with self._books() as books:
            row = await books.row(_FIRST_APPROVED, merchant_reference)
        if row is None:
            return None
        return ProviderResult(
            outcome=ProviderOutcome.APPROVED,
            provider_reference=row["provider_reference"],
            card_brand=row["card_brand"],
            card_last4=row["card_last4"],
        )

    async def list_operations(self, reference: str) -> list[ProviderOperation]:
        async with self._books() as books:
            rows = await books.rows(_LIST, reference)
        return [
            ProviderOperation(
                operation=ProviderOperationKind(row["operation"]),
                amount=Money(row["amount_minor"], row["currency"]),
                outcome=ProviderOutcome(row["outcome"]),
                at=row["at"],
            )
            for row in rows
        ]

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
        async with self._books() as books:
            behaviour = await books.value(_BEHAVIOUR, provider_reference)
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
        releasing = final and operation is ProviderOperationKind.CAPTURE
        # One INSERT commits by itself; reading the books before or after
        # writing them is one transaction, as a provider's operation is.
        several = releasing or behaviour in ("flaky", "decline_reauth")
        async with self._pool.acquire() as connection:
            books = _Books(connection, self._database_name)
            async with connection.transaction() if several else nullcontext():

                async def record(
                    done: ProviderOperationKind,
                    money: Money,
                    outcome: ProviderOutcome,
                    *,
                    card: bool = False,
                ) -> None:
                    await books.add(
                        reference=reference,
                        merchant_reference=merchant_reference,
                        provider_reference=provider_reference,
                        operation=done,
                        behaviour=behaviour,
                        amount=money,
                        outcome=outcome,
                        card=card,
                    )

                if behaviour == "flaky":
                    failures = await books.count(reference, operation, ProviderOutcome.ERROR)
                    if failures < FLAKY_FAILURES:
                        await record(operation, amount, ProviderOutcome.ERROR)
                        return ProviderResult(outcome=ProviderOutcome.ERROR)
                authorizing = operation is ProviderOperationKind.AUTHORIZE
                declined = authorizing and (
                    behaviour == "decline"
                    or (
                        behaviour == "decline_reauth"
                        and await books.count(reference, operation, ProviderOutcome.APPROVED) > 0
                    )
                )
                await record(
                    operation,
                    amount,
                    ProviderOutcome.DECLINED if declined else ProviderOutcome.APPROVED,
                    card=True,
                )
                if releasing:
                    # No more captures: the rest of the authorization is let go now.
                    rest = int(await books.value(_UNCAPTURED, provider_reference) or 0)
                    if rest > 0:
                        await record(
                            ProviderOperationKind.RELEASE,
                            Money(rest, amount.currency),
                            ProviderOutcome.APPROVED,
                        )
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
