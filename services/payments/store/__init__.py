"""The payments store: tables.py, one module of session functions per aggregate
(payments.py, gift_cards.py, store_credit.py), and transactions.py (units of
work, and the idempotency key table that makes a keyed write run once).

The protocols below are the store as the use cases see it: those modules
satisfy them in production, an in-memory fake in the unit tests.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from omni.words import GiftCardEntryKind, TenderType
from services.common.money import Money
from services.common.plain_session import SqlSession
from services.payments.domain import GiftCard, Payment

ResponseT = TypeVar("ResponseT", bound=Message)


class PaymentRows(Protocol):
    """store/payments.py"""

    async def insert(
        self, session: SqlSession, payment: Payment, tender_identity: str
    ) -> Payment: ...
    async def get(
        self, session: SqlSession, payment_id: str, *, lock: bool = False
    ) -> Payment | None: ...
    async def card_token(self, session: SqlSession, payment_id: str) -> str: ...
    async def lock_tender(
        self, session: SqlSession, reference: str, tender_type: TenderType, tender_identity: str
    ) -> None: ...
    async def find_for_tender(
        self, session: SqlSession, reference: str, tender_type: TenderType, tender_identity: str
    ) -> Payment | None: ...
    async def list_for_reference(self, session: SqlSession, reference: str) -> list[Payment]: ...
    async def record_capture(
        self, session: SqlSession, after: Payment, amount: Money, released_minor: int = 0
    ) -> Payment: ...
    async def record_refund(
        self, session: SqlSession, after: Payment, amount: Money
    ) -> Payment: ...
    async def record_void(self, session: SqlSession, payment_id: str) -> Payment: ...
    async def record_expiry(self, session: SqlSession, payment_id: str) -> Payment: ...
    async def record_reauthorization(
        self,
        session: SqlSession,
        renewed: Payment,
        provider_reference: str,
        expires_at: datetime | None,
    ) -> Payment: ...
    async def expire_lapsed(
        self, session: SqlSession, now: datetime, limit: int
    ) -> list[Payment]: ...


class GiftCardRows(Protocol):
    """store/gift_cards.py"""

    async def issue(self, session: SqlSession, code: str, initial_balance: Money) -> GiftCard: ...
    async def credit(
        self,
        session: SqlSession,
        code: str,
        amount: Money,
        *,
        entry_kind: GiftCardEntryKind,
        reference: str = "",
    ) -> GiftCard: ...
    async def hold(
        self, session: SqlSession, code: str, amount: Money, reference: str
    ) -> GiftCard: ...
    async def redeem_hold(
        self, session: SqlSession, code: str, amount: Money, reference: str
    ) -> GiftCard: ...
    async def release_hold(
        self, session: SqlSession, code: str, amount: Money, reference: str
    ) -> GiftCard: ...
    async def get(self, session: SqlSession, code: str) -> GiftCard | None: ...


class StoreCreditRows(Protocol):
    """store/store_credit.py"""

    async def account(self, session: SqlSession, customer_id: str, currency: str) -> str: ...
    async def list_for_customer(self, session: SqlSession, customer_id: str) -> list[GiftCard]: ...


class UnitOfWork(Protocol):
    @property
    def session(self) -> SqlSession: ...

    async def commit(self) -> None: ...


class Transactions(Protocol):
    """store/transactions.py's DatabaseTransactions"""

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...
    async def run_once(
        self,
        key: str,
        request: Message,
        response_type: type[ResponseT],
        work: Callable[[SqlSession], Awaitable[ResponseT]],
    ) -> ResponseT: ...
