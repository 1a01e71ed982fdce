"""Store credit accounts: one gift card per customer and currency, opened by a refund."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert

from omni.words import GiftCardKind
from services.common.plain_session import SqlSession
from services.payments import domain
from services.payments.domain import GiftCard
from services.payments.store.gift_cards import to_gift_card
from services.payments.store.tables import gift_cards

_STORE_CREDIT = GiftCardKind.STORE_CREDIT.value


async def account(session: SqlSession, customer_id: str, currency: str) -> str:
    """The code of the customer's store credit in `currency`, opened empty if need be."""
    await session.execute(
        insert(gift_cards)
        .values(
            code=domain.new_gift_card_code(),
            kind=_STORE_CREDIT,
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
            gift_cards.c.kind == _STORE_CREDIT,
            gift_cards.c.customer_id == customer_id,
            gift_cards.c.currency == currency,
        )
    )
    return str(code)


async def list_for_customer(session: SqlSession, customer_id: str) -> list[GiftCard]:
    rows = await session.execute(
        select(gift_cards)
        .where(gift_cards.c.kind == _STORE_CREDIT, gift_cards.c.customer_id == customer_id)
        .order_by(gift_cards.c.currency)
    )
    return [to_gift_card(row) for row in rows]
