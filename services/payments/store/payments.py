"""Payment rows: the only SQL that reads or changes a payment.

Amounts change in single conditional UPDATEs: when the condition no longer
holds (someone changed the payment meanwhile) the change is refused rather
than applied to a state nobody checked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, select, update

from omni.words import PaymentStatus, TenderType
from services.common.money import Money
from services.common.plain_session import SqlSession
from services.payments import domain
from services.payments.domain import Payment
from services.payments.store.tables import payments


def _payment(row: Row[Any]) -> Payment:
    tender_type = TenderType(row.tender_type)
    return Payment(
        payment_id=row.payment_id,
        reference=row.reference,
        tender_type=tender_type,
        status=PaymentStatus(row.status),
        currency=row.currency,
        authorized_minor=row.authorized_minor,
        captured_minor=row.captured_minor,
        refunded_minor=row.refunded_minor,
        card_brand=row.card_brand,
        card_last4=row.card_last4,
        provider_reference=row.provider_reference,
        created_at=row.created_at,
        expires_at=row.expires_at,
        gift_card_code=row.tender_identity if tender_type in domain.LEDGER_TENDERS else "",
        released_minor=row.released_minor,
    )


# The statements of every authorization, built once with bound parameters:
# building one per call and walking it for its cache key cost as much again
# as executing it (services/common/db.py).
_INSERT = payments.insert().returning(*payments.c)
_LOCK_TENDER = select(func.pg_advisory_xact_lock(func.hashtextextended(bindparam("tender_key"), 0)))
_FIND_FOR_TENDER = select(payments).where(
    payments.c.reference == bindparam("reference"),
    payments.c.tender_type == bindparam("tender_type"),
    payments.c.tender_identity == bindparam("tender_identity"),
    payments.c.status != PaymentStatus.DECLINED.value,
)


async def insert(session: SqlSession, payment: Payment, tender_identity: str) -> Payment:
    row = (
        await session.execute(
            _INSERT,
            {
                "payment_id": payment.payment_id,
                "reference": payment.reference,
                "tender_type": payment.tender_type.value,
                "tender_identity": tender_identity,
                "status": payment.status.value,
                "currency": payment.currency,
                "authorized_minor": payment.authorized_minor,
                "captured_minor": payment.captured_minor,
                "refunded_minor": payment.refunded_minor,
                "card_brand": payment.card_brand,
                "card_last4": payment.card_last4,
                "provider_reference": payment.provider_reference,
                "expires_at": payment.expires_at,
            },
        )
    ).one()
    return _payment(row)


async def get(session: SqlSession, payment_id: str, *, lock: bool = False) -> Payment | None:
    """The payment, row-locked when `lock` so operations on it take turns."""
    query = select(payments).where(payments.c.payment_id == payment_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return None if row is None else _payment(row)


async def card_token(session: SqlSession, payment_id: str) -> str:
    """The provider token a card payment was authorized with (never a card number)."""
    token = await session.scalar(
        select(payments.c.tender_identity).where(payments.c.payment_id == payment_id)
    )
    return str(token)


async def lock_tender(
    session: SqlSession, reference: str, tender_type: TenderType, tender_identity: str
) -> None:
    """Serializes authorizations of one tender of one reference until the transaction ends,
    so two requests with different keys never both reach the provider."""
    await session.execute(
        _LOCK_TENDER, {"tender_key": f"{reference}\x1f{tender_type}\x1f{tender_identity}"}
    )


async def find_for_tender(
    session: SqlSession, reference: str, tender_type: TenderType, tender_identity: str
) -> Payment | None:
    """The tender's payment for this reference, unless it was declined."""
    row = (
        await session.execute(
            _FIND_FOR_TENDER,
            {
                "reference": reference,
                "tender_type": tender_type.value,
                "tender_identity": tender_identity,
            },
        )
    ).first()
    return None if row is None else _payment(row)


async def list_for_reference(session: SqlSession, reference: str) -> list[Payment]:
    rows = await session.execute(
        select(payments)
        .where(payments.c.reference == reference)
        .order_by(payments.c.created_at, payments.c.payment_id)
    )
    return [_payment(row) for row in rows]


async def _update(session: SqlSession, payment_id: str, *conditions: Any, **values: Any) -> Payment:
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
        raise domain.changed_meanwhile(payment_id)
    return _payment(row)


def _status_in(*statuses: PaymentStatus) -> Any:
    return payments.c.status.in_([status.value for status in statuses])


async def record_capture(
    session: SqlSession, after: Payment, amount: Money, released_minor: int = 0
) -> Payment:
    """Adds `amount` to captured (and a final capture's `released_minor` to
    released), only while both stay within what was authorized."""
    captured = payments.c.captured_minor
    released = payments.c.released_minor
    return await _update(
        session,
        after.payment_id,
        _status_in(PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED),
        captured + released + amount.amount_minor + released_minor <= payments.c.authorized_minor,
        captured_minor=captured + amount.amount_minor,
        released_minor=released + released_minor,
        status=after.status.value,
    )


async def record_refund(session: SqlSession, after: Payment, amount: Money) -> Payment:
    """Adds `amount` to refunded, only while it stays within what was captured."""
    refunded = payments.c.refunded_minor
    return await _update(
        session,
        after.payment_id,
        _status_in(PaymentStatus.CAPTURED),
        refunded + amount.amount_minor <= payments.c.captured_minor,
        refunded_minor=refunded + amount.amount_minor,
        status=after.status.value,
    )


async def _end_authorization(
    session: SqlSession, payment_id: str, status: PaymentStatus
) -> Payment:
    """Moves an authorization nothing was captured from to `status`."""
    return await _update(
        session,
        payment_id,
        _status_in(PaymentStatus.AUTHORIZED),
        payments.c.captured_minor == 0,
        status=status.value,
    )


async def record_void(session: SqlSession, payment_id: str) -> Payment:
    return await _end_authorization(session, payment_id, PaymentStatus.VOIDED)


async def record_expiry(session: SqlSession, payment_id: str) -> Payment:
    return await _end_authorization(session, payment_id, PaymentStatus.EXPIRED)


async def record_reauthorization(
    session: SqlSession,
    renewed: Payment,
    provider_reference: str,
    expires_at: datetime | None,
) -> Payment:
    """A fresh authorization (provider or gift card hold) replaces a lapsed one;
    an expired payment is authorized again."""
    return await _update(
        session,
        renewed.payment_id,
        _status_in(PaymentStatus.AUTHORIZED, PaymentStatus.CAPTURED, PaymentStatus.EXPIRED),
        status=renewed.status.value,
        provider_reference=provider_reference,
        expires_at=expires_at,
    )


async def expire_lapsed(session: SqlSession, now: datetime, limit: int) -> list[Payment]:
    """Marks up to `limit` authorizations past expires_at (nothing captured) as
    expired, in one conditional UPDATE. Rows another transaction holds (a
    capture in flight, another replica's sweep) are skipped, to be looked at
    next time."""
    authorized = PaymentStatus.AUTHORIZED.value
    lapsed = (
        select(payments.c.payment_id)
        .where(
            payments.c.status == authorized,
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
            .where(payments.c.payment_id.in_(lapsed), payments.c.status == authorized)
            .values(status=PaymentStatus.EXPIRED.value, updated_at=func.now())
            .returning(*payments.c)
        )
    ).all()
    return [_payment(row) for row in rows]
