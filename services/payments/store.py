"""Payments tables and queries: the only place with SQL.

Amount changes are single conditional UPDATEs, and CHECK constraints hold the
invariants (refunded <= captured <= authorized) even against a buggy caller.
"""

from __future__ import annotations

from collections.abc import Sequence

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
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import Conflict, NotFound
from services.common.idempotency import idempotency_table
from services.payments import domain
from services.payments.domain import Money, Payment
from services.payments.provider import ProviderOperation

metadata = MetaData()

idempotency_keys = idempotency_table(metadata)

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
    Column("card_brand", String(40), nullable=False, server_default=""),
    Column("card_last4", String(4), nullable=False, server_default=""),
    Column("provider_reference", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
        "status IN ('authorized', 'captured', 'refunded', 'voided', 'declined')",
        name="ck_payments_status",
    ),
    CheckConstraint("status <> 'voided' OR captured_minor = 0", name="ck_payments_void_uncaptured"),
    Index("ix_payments_reference", "reference"),
    Index(
        "ux_payments_tender",
        "reference",
        "tender_type",
        "tender_identity",
        unique=True,
        postgresql_where="status <> 'declined'",
    ),
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


async def record_capture(session: AsyncSession, after: Payment, amount: Money) -> Payment:
    """Adds `amount` to captured, only while it stays within what was authorized."""
    captured = payments.c.captured_minor
    row = (
        await session.execute(
            update(payments)
            .where(
                payments.c.payment_id == after.payment_id,
                payments.c.status.in_([domain.AUTHORIZED, domain.CAPTURED]),
                captured + amount.amount_minor <= payments.c.authorized_minor,
            )
            .values(
                captured_minor=captured + amount.amount_minor,
                status=after.status,
                updated_at=func.now(),
            )
            .returning(*payments.c)
        )
    ).first()
    if row is None:
        raise _changed_nothing(after.payment_id)
    return _payment(row)


async def record_refund(session: AsyncSession, after: Payment, amount: Money) -> Payment:
    """Adds `amount` to refunded, only while it stays within what was captured."""
    refunded = payments.c.refunded_minor
    row = (
        await session.execute(
            update(payments)
            .where(
                payments.c.payment_id == after.payment_id,
                payments.c.status == domain.CAPTURED,
                refunded + amount.amount_minor <= payments.c.captured_minor,
            )
            .values(
                refunded_minor=refunded + amount.amount_minor,
                status=after.status,
                updated_at=func.now(),
            )
            .returning(*payments.c)
        )
    ).first()
    if row is None:
        raise _changed_nothing(after.payment_id)
    return _payment(row)


async def record_void(session: AsyncSession, payment_id: str) -> Payment:
    row = (
        await session.execute(
            update(payments)
            .where(
                payments.c.payment_id == payment_id,
                payments.c.status == domain.AUTHORIZED,
                payments.c.captured_minor == 0,
            )
            .values(status=domain.VOIDED, updated_at=func.now())
            .returning(*payments.c)
        )
    ).first()
    if row is None:
        raise _changed_nothing(payment_id)
    return _payment(row)


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
