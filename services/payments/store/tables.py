"""The payments database's tables (what migrations/ creates).

CHECK constraints hold the invariants (refunded <= captured <= authorized; a
gift card's balance and holds never negative) even against a buggy caller.
Columns hold the words of omni.words (PaymentStatus, TenderType, ...).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    func,
    text,
)

from services.common.idempotency import idempotency_table

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
    # A GiftCardEntryKind word: issue, reload, hold, release, redeem or refund.
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("reference", String(200), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    CheckConstraint("amount_minor > 0", name="ck_gift_card_entries_amount_positive"),
    Index("ix_gift_card_entries_code", "code"),
)
