"""Gift cards and store credit, authorization expiry, remembered refusals.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("failure", JSONB, nullable=True))
    op.add_column("payments", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    op.create_check_constraint(
        "ck_payments_status",
        "payments",
        "status IN ('authorized', 'captured', 'refunded', 'voided', 'expired', 'declined')",
    )
    op.create_check_constraint(
        "ck_payments_expired_uncaptured", "payments", "status <> 'expired' OR captured_minor = 0"
    )
    op.create_table(
        "gift_cards",
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger, nullable=False),
        sa.Column("held_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("balance_minor >= 0", name="ck_gift_cards_balance_not_negative"),
        sa.CheckConstraint("held_minor >= 0", name="ck_gift_cards_held_not_negative"),
        sa.CheckConstraint("kind IN ('gift_card', 'store_credit')", name="ck_gift_cards_kind"),
    )
    op.create_index(
        "ux_gift_cards_store_credit",
        "gift_cards",
        ["customer_id", "currency"],
        unique=True,
        postgresql_where=sa.text("kind = 'store_credit'"),
    )
    op.create_table(
        "gift_card_entries",
        sa.Column("entry_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False, server_default=""),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.clock_timestamp(),
        ),
        sa.CheckConstraint("amount_minor > 0", name="ck_gift_card_entries_amount_positive"),
    )
    op.create_index("ix_gift_card_entries_code", "gift_card_entries", ["code"])


def downgrade() -> None:
    op.drop_table("gift_card_entries")
    op.drop_table("gift_cards")
    op.drop_constraint("ck_payments_expired_uncaptured", "payments", type_="check")
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    op.create_check_constraint(
        "ck_payments_status",
        "payments",
        "status IN ('authorized', 'captured', 'refunded', 'voided', 'declined')",
    )
    op.drop_column("payments", "expires_at")
    op.drop_column("idempotency_keys", "failure")
