"""Payments tables and queries: the only place with SQL.

Amount changes are single conditional UPDATEs, and CHECK constraints hold the
invariants (refunded <= captured <= authorized; a gift card's balance and
holds never negative) even against a buggy caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    MetaData,
    Row,
    String,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import BusinessRuleViolation, Conflict, InvalidArgument, NotFound
from services.common.idempotency import idempotency_table
from services.payments import domain
from services.payments.domain import GiftCard, GiftCardEntry, Money, Payment
from services.payments.provider import ProviderOperation

metadata = MetaData()

idempotency_keys = idempotency_table(metadata)
# Payments also remember refusals (a decline) under the key: see idempotency.py.
idempotency_keys.append_column(Column("failure", JSONB, nullable=True))

payments = Table(
    "payments",
    metadata,
    Column("payment_id", String(36), primary_key=True),
    Column("reference", String(200), nullable=False),
    Column("tender_type", String(20), nullable=False),
    # The token or gift card code: one payment per tender per order.
    Column("tender_identity", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("authorized_minor", BigInteger, nullable=False),
    Column("captured_minor", BigInteger, nullable=False, server_default="0"),
    Column("refunded_minor", BigInteger, nullable=False, server_default="0"),
    # What a final capture gave back of the authorization: never captured.
    Column("released_minor", BigInteger, nullable=False, server_default="0"),
    Column("card_brand", String(40), nullable=False, server_default=""),
    Column("card_last4", String(4), nullable=False, server_default=""),
    Column("provider_reference", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # When a card authorization lapses; NULL for tenders that never lapse.
    Column("expires_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("authorized_minor > 0", name="ck_payments_authorized_positive"),
    CheckConstraint(
        "captured_minor >= 0 AND captured_minor <= authorized_minor",
        name="ck_payments_captured_within_authorized",
    ),
    CheckConstraint(
        "refunded_minor >= 0 AND refunded_minor <= captured_minor",
        name="ck_payments_refunded_within_captured",
    ),
    CheckConstraint(
        "released_minor >= 0 AND captured_minor + released_minor <= authorized_minor",
        name="ck_payments_released_within_authorized",
    ),
    CheckConstraint(
        "status IN ('authorized', 'captured', 'refunded', 'voided', 'expired', 'declined')",
        name="ck_payments_status",
    ),
    CheckConstraint("status <> 'voided' OR captured_minor = 0", name="ck_payments_void_uncaptured"),
    CheckConstraint(
        "status <> 'expired' OR captured_minor = 0", name="ck_payments_expired_uncaptured"
    ),
    Index("ix_payments_reference", "reference"),
    # The expiry sweep's search: open authorizations by when they lapse.
    Index(
        "ix_payments_authorized_expiry",
        "expires_at",
        postgresql_where=text("status = 'authorized'"),
    ),
    Index(
        "ux_payments_tender",
        "reference",
        "tender_type",
        "tender_identity",
        unique=True,
        postgresql_where="status <> 'declined'",
    ),
)

# Gift cards and store credit (a gift card issued to a customer by a refund).
# balance is what can be spent; held is set aside for authorized payments.
gift_cards = Table(
    "gift_cards",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("customer_id", String(100), nullable=False, server_default=""),
    Column("currency", String(3), nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("held_minor", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("balance_minor >= 0", name="ck_gift_cards_balance_not_negative"),
    CheckConstraint("held_minor >= 0", name="ck_gift_cards_held_not_negative"),
    CheckConstraint("kind IN ('gift_card', 'store_credit')", name="ck_gift_cards_kind"),
    # One store credit account per customer and currency.
    Index(
        "ux_gift_cards_store_credit",
        "customer_id",
        "currency",
        unique=True,
        postgresql_where=text("kind = 'store_credit'"),
    ),
)

gift_card_entries = Table(
    "gift_card_entries",
    metadata,
    Column("entry_id", BigInteger, primary_key=True, autoincrement=True),
    Column("code", String(40), nullable=False),
    # issue, reload, hold, release, redeem or refund.
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(200), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    CheckConstraint("amount_minor > 0", name="ck_gift_card_entries_amount_positive"),
    Index("ix_gift_card_entries_code", "code"),
)

# The development provider's own books. It stands for an external system, so
# it writes them in its own transactions (see dev_provider.py).
dev_provider_operations = Table(
    "dev_provider_operations",
    metadata,
    Column("operation_id", BigInteger, primary_key=True, autoincrement=True),
    Column("reference", String(200), nullable=False),
    Column("merchant_reference", String(200), nullable=False),
    Column("provider_reference", String(200), nullable=False),
    Column("operation", String(20), nullable=False),
    # How the token behaves: approve, decline, flaky or slow.
    Column("behaviour", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("card_brand", String(40), nullable=False, server_default=""),
    Column("card_last4", String(4), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Index("ix_dev_provider_operations_reference", "reference"),
    Index("ix_dev_provider_operations_merchant_reference", "merchant_reference"),
    Index("ix_dev_provider_operations_provider_reference", "provider_reference"),
)


def _payment(row: Row) -> Payment:
    return Payment(
        payment_id=row.payment_id,
        reference=row.reference,
        tender_type=row.tender_type,
        status=row.status,
        currency=row.currency,
        authorized_minor=row.authorized_minor,
        captured_minor=row.captured_minor,
        refunded_minor=row.refunded_minor,
        card_brand=row.card_brand,
        card_last4=row.card_last4,
        provider_reference=row.provider_reference,
        created_at=row.created_at,
        expires_at=row.expires_at,
        gift_card_code=row.tender_identity if row.tender_type in domain.LEDGER_TENDERS else "",
        released_minor=row.released_minor,
    )


async def insert_payment(session: AsyncSession, payment: Payment, tender_identity: str) -> Payment:
    row = (
        await session.execute(
            payments.insert()
            .values(
                payment_id=payment.payment_id,
                reference=payment.reference,
                tender_type=payment.tender_type,
                tender_identity=tender_identity,
                status=payment.status,
                currency=payment.currency,
                authorized_minor=payment.authorized_minor,
                captured_minor=payment.captured_minor,
                refunded_minor=payment.refunded_minor,
                card_brand=payment.card_brand,
                card_last4=payment.card_last4,
                provider_reference=payment.provider_reference,
                expires_at=payment.expires_at,
            )
            .returning(*payments.c)
        )
    ).one()
    return _payment(row)


async def get_payment(session: AsyncSession, payment_id: str, *, lock: bool = False) -> Payment:
    """The payment, row-locked when `lock` so operations on it take turns."""
    query = select(payments).where(payments.c.payment_id == payment_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound(f"payment {payment_id} not found")
    return _payment(row)


async def payment_to_change(session: AsyncSession, payment_id: str) -> Payment:
    """The payment a capture, void or refund names, row-locked; an unknown id is bad input."""
    try:
        return await get_payment(session, payment_id, lock=True)
    except NotFound:
        raise InvalidArgument.field("payment_id", "names no payment") from None


async def card_token(session: AsyncSession, payment_id: str) -> str:
    """The provider token a card payment was authorized with (never a card number)."""
    token = await session.scalar(
        select(payments.c.tender_identity).where(payments.c.payment_id == payment_id)
    )
    return str(token)


async def lock_tender(
    session: AsyncSession, reference: str, tender_type: str, tender_identity: str
) -> None:
    """Serializes authorizations of one tender of one reference until the transaction ends,
    so two requests with different keys never both reach the provider."""
    await session.execute(
        select(
            func.pg_advisory_xact_lock(
                func.hashtextextended(f"{reference}\x1f{tender_type}\x1f{tender_identity}", 0)
            )
        )
    )


async def find_payment_for_tender(
    session: AsyncSession, reference: str, tender_type: str, tender_identity: str
) -> Payment | None:
    row = (
        await session.execute(
            select(payments).where(
                payments.c.reference == reference,
                payments.c.tender_type == tender_type,
                payments.c.tender_identity == tender_identity,
                payments.c.status != domain.DECLINED,
            )
        )
    ).first()
    return None if row is None else _payment(row)


async def list_payments(session: AsyncSession, reference: str) -> list[Payment]:
    rows = await session.execute(
        select(payments)
        .where(payments.c.reference == reference)
        .order_by(payments.c.created_at, payments.c.payment_id)
    )
    return [_payment(row) for row in rows]


def _changed_nothing(payment_id: str) -> Conflict:
    return Conflict(
        domain.INVALID_PAYMENT_STATE,
        "the payment changed meanwhile; read it again",
        {"payment_id": payment_id},
    )


async def _update_payment(
    session: AsyncSession, payment_id: str, *conditions: Any, **values: Any
) -> Payment:
    """One conditional UPDATE of a payment (touching updated_at); Conflict when
    the conditions no longer hold, because someone changed it meanwhile."""
    row = (
        await session.execute(
            update(payments)
            .where(payments.c.payment_id == payment_id, *conditions)
            .values(**values, updated_at=func.now())
            .returning(*payments.c)
        )
    ).first()
    if row is None:
        raise _changed_nothing(payment_id)
    return _payment(row)


async def record_capture(
    session: AsyncSession, after: Payment, amount: Money, released_minor: int = 0
) -> Payment:
    """Adds `amount` to captured (and a final capture's `released_minor` to
    released), only while both stay within what was authorized."""
    captured = payments.c.captured_minor
    released = payments.c.released_minor
    return await _update_payment(
        session,
        after.payment_id,
        payments.c.status.in_([domain.AUTHORIZED, domain.CAPTURED]),
        captured + released + amount.amount_minor + released_minor <= payments.c.authorized_minor,
        captured_minor=captured + amount.amount_minor,
        released_minor=released + released_minor,
        status=after.status,
    )


async def record_refund(session: AsyncSession, after: Payment, amount: Money) -> Payment:
    """Adds `amount` to refunded, only while it stays within what was captured."""
    refunded = payments.c.refunded_minor
    return await _update_payment(
        session,
        after.payment_id,
        payments.c.status == domain.CAPTURED,
        refunded + amount.amount_minor <= payments.c.captured_minor,
        refunded_minor=refunded + amount.amount_minor,
        status=after.status,
    )


async def _end_authorization(session: AsyncSession, payment_id: str, status: str) -> Payment:
    """Moves an authorization nothing was captured from to `status`."""
    return await _update_payment(
        session,
        payment_id,
        payments.c.status == domain.AUTHORIZED,
        payments.c.captured_minor == 0,
        status=status,
    )


async def record_void(session: AsyncSession, payment_id: str) -> Payment:
    return await _end_authorization(session, payment_id, domain.VOIDED)


async def record_expiry(session: AsyncSession, payment_id: str) -> Payment:
    return await _end_authorization(session, payment_id, domain.EXPIRED)


async def record_reauthorization(
    session: AsyncSession,
    renewed: Payment,
    provider_reference: str,
    expires_at: datetime | None,
) -> Payment:
    """A fresh authorization (provider or gift card hold) replaces a lapsed one;
    an expired payment is authorized again."""
    return await _update_payment(
        session,
        renewed.payment_id,
        payments.c.status.in_([domain.AUTHORIZED, domain.CAPTURED, domain.EXPIRED]),
        status=renewed.status,
        provider_reference=provider_reference,
        expires_at=expires_at,
    )


async def expire_lapsed(session: AsyncSession, now: datetime, limit: int) -> list[Payment]:
    """Marks up to `limit` authorizations past expires_at (nothing captured) as
    expired, in one conditional UPDATE, and gives their gift card holds back in
    the same transaction. Rows another transaction holds (a capture in flight,
    another replica's sweep) are skipped, to be looked at next time."""
    lapsed = (
        select(payments.c.payment_id)
        .where(
            payments.c.status == domain.AUTHORIZED,
            payments.c.captured_minor == 0,
            payments.c.expires_at < now,
        )
        .order_by(payments.c.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            update(payments)
            .where(payments.c.payment_id.in_(lapsed), payments.c.status == domain.AUTHORIZED)
            .values(status=domain.EXPIRED, updated_at=func.now())
            .returning(*payments.c)
        )
    ).all()
    expired = [_payment(row) for row in rows]
    for payment in expired:
        if payment.tender_type in domain.LEDGER_TENDERS:
            await release_gift_card_hold(
                session,
                payment.gift_card_code,
                Money(payment.authorized_minor, payment.currency),
                payment.reference,
            )
    return expired


# --- gift cards ---------------------------------------------------------------


def _gift_card(row: Row, history: Sequence[Row] = ()) -> GiftCard:
    return GiftCard(
        code=row.code,
        kind=row.kind,
        customer_id=row.customer_id,
        currency=row.currency,
        balance_minor=row.balance_minor,
        held_minor=row.held_minor,
        created_at=row.created_at,
        history=tuple(
            GiftCardEntry(
                kind=entry.kind,
                amount=Money(entry.amount_minor, entry.currency),
                reference=entry.reference,
                at=entry.at,
            )
            for entry in history
        ),
    )


async def _add_entry(
    session: AsyncSession, code: str, kind: str, amount: Money, reference: str = ""
) -> None:
    await session.execute(
        gift_card_entries.insert().values(
            code=code,
            kind=kind,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            reference=reference,
        )
    )


async def issue_gift_card(
    session: AsyncSession, code: str, initial_balance: Money, *, kind: str = domain.GIFT_CARD
) -> GiftCard:
    row = (
        await session.execute(
            gift_cards.insert()
            .values(
                code=code,
                kind=kind,
                currency=initial_balance.currency,
                balance_minor=initial_balance.amount_minor,
            )
            .returning(*gift_cards.c)
        )
    ).one()
    await _add_entry(session, code, "issue", initial_balance)
    return _gift_card(row)


async def store_credit_account(session: AsyncSession, customer_id: str, currency: str) -> str:
    """The code of the customer's store credit in `currency`, opened empty if need be."""
    await session.execute(
        insert(gift_cards)
        .values(
            code=domain.new_gift_card_code(),
            kind=domain.STORE_CREDIT,
            customer_id=customer_id,
            currency=currency,
            balance_minor=0,
        )
        .on_conflict_do_nothing(
            index_elements=["customer_id", "currency"],
            index_where=text("kind = 'store_credit'"),
        )
    )
    code = await session.scalar(
        select(gift_cards.c.code).where(
            gift_cards.c.kind == domain.STORE_CREDIT,
            gift_cards.c.customer_id == customer_id,
            gift_cards.c.currency == currency,
        )
    )
    return str(code)


async def _change_gift_card(
    session: AsyncSession,
    code: str,
    amount: Money,
    *,
    entry_kind: str,
    reference: str,
    balance_delta: int,
    held_delta: int,
) -> GiftCard:
    """One conditional UPDATE: applies the deltas only while neither goes negative."""
    row = (
        await session.execute(
            update(gift_cards)
            .where(
                gift_cards.c.code == code,
                gift_cards.c.currency == amount.currency,
                gift_cards.c.balance_minor + balance_delta >= 0,
                gift_cards.c.held_minor + held_delta >= 0,
            )
            .values(
                balance_minor=gift_cards.c.balance_minor + balance_delta,
                held_minor=gift_cards.c.held_minor + held_delta,
            )
            .returning(*gift_cards.c)
        )
    ).first()
    if row is None:
        raise await _why_unchanged(session, code, amount, held_delta < 0)
    await _add_entry(session, code, entry_kind, amount, reference)
    return _gift_card(row)


async def _why_unchanged(
    session: AsyncSession, code: str, amount: Money, releasing_hold: bool
) -> Exception:
    row = (await session.execute(select(gift_cards).where(gift_cards.c.code == code))).first()
    if row is None:
        return BusinessRuleViolation(
            domain.GIFT_CARD_NOT_FOUND, "no gift card has this code", {"field": "tender.code"}
        )
    if row.currency != amount.currency:
        return InvalidArgument.field("amount.currency", f"must be the gift card's {row.currency}")
    if releasing_hold:
        return Conflict(
            domain.INVALID_PAYMENT_STATE,
            "the gift card hold does not cover the amount",
            {"held_minor": str(row.held_minor)},
        )
    return domain.insufficient_balance(row.balance_minor)


async def credit_gift_card(
    session: AsyncSession, code: str, amount: Money, *, entry_kind: str, reference: str = ""
) -> GiftCard:
    """Issue, reload or refund: more to spend."""
    return await _change_gift_card(
        session,
        code,
        amount,
        entry_kind=entry_kind,
        reference=reference,
        balance_delta=amount.amount_minor,
        held_delta=0,
    )


async def hold_gift_card(
    session: AsyncSession, code: str, amount: Money, reference: str
) -> GiftCard:
    """Sets `amount` aside for an authorized payment, only if the balance covers it."""
    return await _change_gift_card(
        session,
        code,
        amount,
        entry_kind="hold",
        reference=reference,
        balance_delta=-amount.amount_minor,
        held_delta=amount.amount_minor,
    )


async def redeem_gift_card_hold(
    session: AsyncSession, code: str, amount: Money, reference: str
) -> GiftCard:
    """A capture: the held amount is spent."""
    return await _change_gift_card(
        session,
        code,
        amount,
        entry_kind="redeem",
        reference=reference,
        balance_delta=0,
        held_delta=-amount.amount_minor,
    )


async def release_gift_card_hold(
    session: AsyncSession, code: str, amount: Money, reference: str
) -> GiftCard:
    """A void: the held amount can be spent again."""
    return await _change_gift_card(
        session,
        code,
        amount,
        entry_kind="release",
        reference=reference,
        balance_delta=amount.amount_minor,
        held_delta=-amount.amount_minor,
    )


async def get_gift_card(session: AsyncSession, code: str) -> GiftCard:
    row = (await session.execute(select(gift_cards).where(gift_cards.c.code == code))).first()
    if row is None:
        raise NotFound("no gift card has this code")
    history = (
        await session.execute(
            select(gift_card_entries)
            .where(gift_card_entries.c.code == code)
            .order_by(gift_card_entries.c.entry_id)
        )
    ).all()
    return _gift_card(row, history)


async def list_store_credit(session: AsyncSession, customer_id: str) -> list[GiftCard]:
    rows = await session.execute(
        select(gift_cards)
        .where(gift_cards.c.kind == domain.STORE_CREDIT, gift_cards.c.customer_id == customer_id)
        .order_by(gift_cards.c.currency)
    )
    return [_gift_card(row) for row in rows]


# --- idempotency keys that remember refusals ------------------------------------


async def claim_key(session: AsyncSession, key: str, fingerprint: str) -> Row | None:
    """Inserts the key (waiting for a concurrent holder), or returns the row already there."""
    inserted = await session.execute(
        insert(idempotency_keys)
        .values(key=key, request_hash=fingerprint)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(idempotency_keys.c.key)
    )
    if inserted.first() is not None:
        return None
    return (
        await session.execute(
            select(
                idempotency_keys.c.request_hash,
                idempotency_keys.c.response,
                idempotency_keys.c.failure,
            ).where(idempotency_keys.c.key == key)
        )
    ).one()


async def settle_key(
    session: AsyncSession,
    key: str,
    *,
    response: bytes | None = None,
    failure: dict[str, Any] | None = None,
) -> None:
    await session.execute(
        idempotency_keys.update()
        .where(idempotency_keys.c.key == key)
        .values(response=response, failure=failure)
    )


# --- the development provider's books ---------------------------------------


async def add_dev_operation(
    session: AsyncSession,
    *,
    reference: str,
    merchant_reference: str,
    provider_reference: str,
    operation: str,
    behaviour: str,
    amount: Money,
    outcome: str,
    card_brand: str = "",
    card_last4: str = "",
) -> None:
    await session.execute(
        dev_provider_operations.insert().values(
            reference=reference,
            merchant_reference=merchant_reference,
            provider_reference=provider_reference,
            operation=operation,
            behaviour=behaviour,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            outcome=outcome,
            card_brand=card_brand,
            card_last4=card_last4,
        )
    )


async def count_dev_operations(
    session: AsyncSession, *, reference: str, operation: str, outcome: str
) -> int:
    table = dev_provider_operations
    count = await session.scalar(
        select(func.count())
        .select_from(table)
        .where(
            table.c.reference == reference,
            table.c.operation == operation,
            table.c.outcome == outcome,
        )
    )
    return int(count or 0)


async def dev_behaviour_of(session: AsyncSession, provider_reference: str) -> str | None:
    """How the token behind an authorization behaves."""
    table = dev_provider_operations
    behaviour: str | None = await session.scalar(
        select(table.c.behaviour)
        .where(table.c.provider_reference == provider_reference)
        .order_by(table.c.operation_id)
        .limit(1)
    )
    return behaviour


async def dev_uncaptured_minor(session: AsyncSession, provider_reference: str) -> int:
    """What the provider still holds of an authorization: authorized, less what
    was captured or released since."""
    table = dev_provider_operations
    approved = table.c.outcome == "approved"
    authorized = await session.scalar(
        select(table.c.amount_minor)
        .where(
            table.c.provider_reference == provider_reference,
            table.c.operation == "authorize",
            approved,
        )
        .order_by(table.c.operation_id)
        .limit(1)
    )
    spent = await session.scalar(
        select(func.coalesce(func.sum(table.c.amount_minor), 0)).where(
            table.c.provider_reference == provider_reference,
            table.c.operation.in_(["capture", "release"]),
            approved,
        )
    )
    return int(authorized or 0) - int(spent or 0)


async def find_dev_approved(session: AsyncSession, merchant_reference: str) -> Row | None:
    table = dev_provider_operations
    return (
        await session.execute(
            select(table)
            .where(table.c.merchant_reference == merchant_reference, table.c.outcome == "approved")
            .order_by(table.c.operation_id)
            .limit(1)
        )
    ).first()


async def list_dev_operations(session: AsyncSession, reference: str) -> list[ProviderOperation]:
    table = dev_provider_operations
    rows: Sequence[Row] = (
        await session.execute(
            select(table).where(table.c.reference == reference).order_by(table.c.operation_id)
        )
    ).all()
    return [
        ProviderOperation(
            operation=row.operation,
            amount=Money(row.amount_minor, row.currency),
            outcome=row.outcome,
            at=row.at,
        )
        for row in rows
    ]
