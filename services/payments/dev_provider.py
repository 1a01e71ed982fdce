"""The development provider: test tokens that approve, decline, fail or dawdle.

tok_approve approves; tok_decline declines authorization; tok_flaky answers
"unavailable" to the first two attempts of each operation of a reference,
then approves; tok_slow acts, then takes SLOW_SECONDS to answer (so a caller
that gives up early meets the ambiguous case: done, but not told).
It keeps its own books in the payments database, written in their own
transactions because it stands for an external system: what it did stays done
even when the payments service's transaction rolls back.
"""

from __future__ import annotations

import asyncio
import uuid

from services.common.db import Database
from services.common.errors import InvalidArgument
from services.payments import store
from services.payments.domain import Money
from services.payments.provider import (
    APPROVED,
    AUTHORIZE,
    CAPTURE,
    DECLINED,
    REFUND,
    RELEASE,
    UNAVAILABLE,
    VOID,
    PaymentProvider,
    ProviderOperation,
    ProviderResult,
)

BEHAVIOUR_BY_TOKEN = {
    "tok_approve": "approve",
    "tok_decline": "decline",
    "tok_flaky": "flaky",
    "tok_slow": "slow",
}
FLAKY_FAILURES = 2
SLOW_SECONDS = 3.0
CARD_BRAND = "visa"
CARD_LAST4 = "4242"
# What the books say for an attempt answered "unavailable".
ERROR_OUTCOME = "error"


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
            operation=AUTHORIZE,
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
            CAPTURE, merchant_reference, reference, provider_reference, amount, final=final
        )

    async def void(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult:
        return await self._follow_up(
            VOID, merchant_reference, reference, provider_reference, amount
        )

    async def refund(
        self, *, merchant_reference: str, reference: str, provider_reference: str, amount: Money
    ) -> ProviderResult:
        return await self._follow_up(
            REFUND, merchant_reference, reference, provider_reference, amount
        )

    async def lookup(self, merchant_reference: str) -> ProviderResult | None:
        async with self._database.transaction() as session:
            row = await store.find_dev_approved(session, merchant_reference)
        if row is None:
            return None
        return ProviderResult(
            outcome=APPROVED,
            provider_reference=row.provider_reference,
            card_brand=row.card_brand,
            card_last4=row.card_last4,
        )

    async def list_operations(self, reference: str) -> list[ProviderOperation]:
        async with self._database.transaction() as session:
            return await store.list_dev_operations(session, reference)

    async def _follow_up(
        self,
        operation: str,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        *,
        final: bool = False,
    ) -> ProviderResult:
        async with self._database.transaction() as session:
            behaviour = await store.dev_behaviour_of(session, provider_reference)
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
        operation: str,
        behaviour: str,
        merchant_reference: str,
        reference: str,
        provider_reference: str,
        amount: Money,
        final: bool = False,
    ) -> ProviderResult:
        async with self._database.transaction() as session:
            if behaviour == "flaky":
                failures = await store.count_dev_operations(
                    session, reference=reference, operation=operation, outcome=ERROR_OUTCOME
                )
                if failures < FLAKY_FAILURES:
                    await store.add_dev_operation(
                        session,
                        reference=reference,
                        merchant_reference=merchant_reference,
                        provider_reference=provider_reference,
                        operation=operation,
                        behaviour=behaviour,
                        amount=amount,
                        outcome=ERROR_OUTCOME,
                    )
                    return ProviderResult(outcome=UNAVAILABLE)
            declined = behaviour == "decline" and operation == AUTHORIZE
            outcome = DECLINED if declined else APPROVED
            await store.add_dev_operation(
                session,
                reference=reference,
                merchant_reference=merchant_reference,
                provider_reference=provider_reference,
                operation=operation,
                behaviour=behaviour,
                amount=amount,
                outcome=outcome,
                card_brand=CARD_BRAND,
                card_last4=CARD_LAST4,
            )
            if final and operation == CAPTURE:
                # No more captures: the rest of the authorization is let go now.
                rest = await store.dev_uncaptured_minor(session, provider_reference)
                if rest > 0:
                    await store.add_dev_operation(
                        session,
                        reference=reference,
                        merchant_reference=merchant_reference,
                        provider_reference=provider_reference,
                        operation=RELEASE,
                        behaviour=behaviour,
                        amount=Money(rest, amount.currency),
                        outcome=APPROVED,
                    )
        if behaviour == "slow":
            await asyncio.sleep(self._slow_seconds)
        if declined:
            return ProviderResult(outcome=DECLINED)
        return ProviderResult(
            outcome=APPROVED,
            provider_reference=provider_reference,
            card_brand=CARD_BRAND,
            card_last4=CARD_LAST4,
        )
