"""Payments and the idempotency keys.

(It once also made the development provider's books, dev_provider_operations;
that table now lives in the dev provider's own schema: see 0004.)

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "payments",
        sa.Column("payment_id", sa.String(36), primary_key=True),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("tender_type", sa.String(20), nullable=False),
        sa.Column("tender_identity", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("authorized_minor", sa.BigInteger, nullable=False),
        sa.Column("captured_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("refunded_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("card_brand", sa.String(40), nullable=False, server_default=""),
        sa.Column("card_last4", sa.String(4), nullable=False, server_default=""),
        sa.Column("provider_reference", sa.String(200), nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("authorized_minor > 0", name="ck_payments_authorized_positive"),
        sa.CheckConstraint(
            "captured_minor >= 0 AND captured_minor <= authorized_minor",
            name="ck_payments_captured_within_authorized",
        ),
        sa.CheckConstraint(
            "refunded_minor >= 0 AND refunded_minor <= captured_minor",
            name="ck_payments_refunded_within_captured",
        ),
        sa.CheckConstraint(
            "status IN ('authorized', 'captured', 'refunded', 'voided', 'declined')",
            name="ck_payments_status",
        ),
        sa.CheckConstraint(
            "status <> 'voided' OR captured_minor = 0", name="ck_payments_void_uncaptured"
        ),
    )
    op.create_index("ix_payments_reference", "payments", ["reference"])
    op.create_index(
        "ux_payments_tender",
        "payments",
        ["reference", "tender_type", "tender_identity"],
        unique=True,
        postgresql_where=sa.text("status <> 'declined'"),
    )


def downgrade() -> None:
    op.drop_table("payments")
    op.drop_table("idempotency_keys")
