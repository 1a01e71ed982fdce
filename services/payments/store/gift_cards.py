"""Gift cards and their ledger (store credit is a gift card too): the only SQL for them.

A balance changes in one conditional UPDATE that applies its deltas only
while neither balance nor hold goes negative, and writes a ledger entry; when
the condition fails, the card is read once to say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select, update

from omni.words import GiftCardEntryKind, GiftCardKind
from services.common.money import Money
from services.common.plain_session import SqlSession
from services.payments import domain
from services.payments.domain import GiftCard, GiftCardEntry
from services.payments.store.tables import gift_card_entries, gift_cards


def to_gift_card(row: Row[Any], history: Sequence[Row[Any]] = ()) -> GiftCard:
    return GiftCard(
        code=row.code,
        kind=GiftCardKind(row.kind),
        customer_id=row.customer_id,
        currency=row.currency,
        balance_minor=row.balance_minor,
        held_minor=row.held_minor,
        created_at=row.created_at,
        history=tuple(
            GiftCardEntry(
                kind=GiftCardEntryKind(entry.kind),
                amount=Money(entry.amount_minor, entry.currency),
                reference=entry.reference,
                at=entry.at,
            )
            for entry in history
        ),
    )


async def _add_entry(
    session: SqlSession, code: str, kind: GiftCardEntryKind, amount: Money, reference: str = ""
) -> None:
    await session.execute(
        gift_card_entries.insert().values(
            code=code,
            kind=kind.value,
            amount_minor=amount.amount_minor,
            currency=amount.currency,
            reference=reference,
        )
    )


async def issue(session: SqlSession, code: str, initial_balance: Money) -> GiftCard:
    row = (
        await session.execute(
            gift_cards.insert()
            .values(
                code=code,
                kind=GiftCardKind.GIFT_CARD.value,
                currency=initial_balance.currency,
                balance_minor=initial_balance.amount_minor,
            )
            .returning(*gift_cards.c)
        )
    ).one()
    await _add_entry(session, code, GiftCardEntryKind.ISSUE, initial_balance)
    return to_gift_card(row)


async def _change(
    session: SqlSession,
    code: str,
    amount: Money,
    *,
    entry_kind: GiftCardEntryKind,
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
        raise await _why_unchanged(session, code, amount, releasing_hold=held_delta < 0)
    await _add_entry(session, code, entry_kind, amount, reference)
    return to_gift_card(row)


async def _why_unchanged(
    session: SqlSession, code: str, amount: Money, *, releasing_hold: bool
) -> Exception:
    row = (await session.execute(select(gift_cards).where(gift_cards.c.code == code))).first()
    if row is None:
        return domain.gift_card_not_found()
    if row.currency != amount.currency:
        return domain.wrong_gift_card_currency(row.currency)
    if releasing_hold:
        return domain.hold_too_small(row.held_minor)
    return domain.insufficient_balance(row.balance_minor)


async def credit(
    session: SqlSession,
    code: str,
    amount: Money,
    *,
    entry_kind: GiftCardEntryKind,
    reference: str = "",
) -> GiftCard:
    """Reload or refund: more to spend."""
    return await _change(
        session,
        code,
        amount,
        entry_kind=entry_kind,
        reference=reference,
        balance_delta=amount.amount_minor,
        held_delta=0,
    )


async def hold(session: SqlSession, code: str, amount: Money, reference: str) -> GiftCard:
    """Sets `amount` aside for an authorized payment, only if the balance covers it."""
    return await _change(
        session,
        code,
        amount,
        entry_kind=GiftCardEntryKind.HOLD,
        reference=reference,
        balance_delta=-amount.amount_minor,
        held_delta=amount.amount_minor,
    )


async def redeem_hold(session: SqlSession, code: str, amount: Money, reference: str) -> GiftCard:
    """A capture: the held amount is spent."""
    return await _change(
        session,
        code,
        amount,
        entry_kind=GiftCardEntryKind.REDEEM,
        reference=reference,
        balance_delta=0,
        held_delta=-amount.amount_minor,
    )


async def release_hold(session: SqlSession, code: str, amount: Money, reference: str) -> GiftCard:
    """A void, a final capture's rest or an expiry: the held amount can be spent again."""
    return await _change(
        session,
        code,
        amount,
        entry_kind=GiftCardEntryKind.RELEASE,
        reference=reference,
        balance_delta=amount.amount_minor,
        held_delta=-amount.amount_minor,
    )


async def get(session: SqlSession, code: str) -> GiftCard | None:
    """The card with its ledger, oldest entry first."""
    row = (await session.execute(select(gift_cards).where(gift_cards.c.code == code))).first()
    if row is None:
        return None
    history = (
        await session.execute(
            select(gift_card_entries)
            .where(gift_card_entries.c.code == code)
            .order_by(gift_card_entries.c.entry_id)
        )
    ).all()
    return to_gift_card(row, history)
