"""One customer everywhere: aliases and merges, loyalty cards and points,
timeline, carts, notifications, preferences and erasure.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _now() -> sa.Column[sa.DateTime]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def _customer_fk() -> sa.Column[sa.String]:
    return sa.Column(
        "customer_id", sa.String(36), sa.ForeignKey("customers.customer_id"), nullable=False
    )


def upgrade() -> None:
    op.add_column(
        "customers", sa.Column("loyalty_debt", sa.BigInteger, nullable=False, server_default="0")
    )
    op.add_column("customers", sa.Column("merged_into", sa.String(36), nullable=True))
    op.add_column("customers", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "customers",
        sa.Column("channels", sa.String(100), nullable=False, server_default=""),
    )
    op.add_column(
        "customers",
        sa.Column("marketing_consent", sa.String(100), nullable=False, server_default=""),
    )
    op.create_index("ix_customers_merged_into", "customers", ["merged_into"])
    op.drop_constraint("ck_customer_identities_kind", "customer_identities")
    op.create_check_constraint(
        "ck_customer_identities_kind",
        "customer_identities",
        "kind IN ('email', 'phone', 'loyalty_card')",
    )
    op.create_table(
        "customer_merges",
        sa.Column("merge_id", sa.String(36), primary_key=True),
        sa.Column("survivor_id", sa.String(36), nullable=False),
        sa.Column("duplicate_id", sa.String(36), nullable=False, unique=True),
        sa.Column("actor", sa.String(200), nullable=False, server_default=""),
        _now(),
    )
    op.create_table(
        "timeline_events",
        sa.Column("event_id", sa.String(200), primary_key=True),
        _customer_fk(),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("reference_id", sa.String(200), nullable=False),
        sa.Column("order_id", sa.String(200), nullable=False, server_default=""),
        sa.Column("channel", sa.String(40), nullable=False, server_default=""),
        sa.Column("summary", sa.String(500), nullable=False, server_default=""),
        sa.Column("amount_minor", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    )
    op.create_index("ix_timeline_events_newest", "timeline_events", ["customer_id", "at", "seq"])
    op.create_table(
        "carts",
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.customer_id"),
            primary_key=True,
        ),
        sa.Column("lines", sa.JSON, nullable=False),
        sa.Column("channel", sa.String(40), nullable=False, server_default=""),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "loyalty_ledger",
        sa.Column("entry_id", sa.String(200), primary_key=True),
        _customer_fk(),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("reference_id", sa.String(200), nullable=False, server_default=""),
        sa.Column("points", sa.BigInteger, nullable=False),
        sa.Column("balance_after", sa.BigInteger, nullable=False),
        sa.Column("debt_after", sa.BigInteger, nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.clock_timestamp(),
        ),
    )
    op.create_index("ix_loyalty_ledger_customer", "loyalty_ledger", ["customer_id", "at"])
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.String(200), primary_key=True),
        _customer_fk(),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False, server_default=""),
        sa.Column("subject", sa.String(200), nullable=False, server_default=""),
        sa.Column("body", sa.String(1000), nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("marketing", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("reference_id", sa.String(200), nullable=False, server_default=""),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.clock_timestamp(),
        ),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    )
    op.create_index("ix_notifications_newest", "notifications", ["customer_id", "seq"])


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_table("loyalty_ledger")
    op.drop_table("carts")
    op.drop_table("timeline_events")
    op.drop_table("customer_merges")
    op.drop_constraint("ck_customer_identities_kind", "customer_identities")
    op.create_check_constraint(
        "ck_customer_identities_kind", "customer_identities", "kind IN ('email', 'phone')"
    )
    op.drop_index("ix_customers_merged_into", "customers")
    for column in ("marketing_consent", "channels", "erased_at", "merged_into", "loyalty_debt"):
        op.drop_column("customers", column)
