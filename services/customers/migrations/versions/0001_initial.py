"""Customers, their identities and their order/return history.

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
        "customers",
        sa.Column("customer_id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("loyalty_points", sa.BigInteger, nullable=False, server_default="0"),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "customer_identities",
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("value", sa.String(254), nullable=False),
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.customer_id"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.clock_timestamp(),
        ),
        sa.PrimaryKeyConstraint("kind", "value", name="pk_customer_identities"),
        sa.CheckConstraint("kind IN ('email', 'phone')", name="ck_customer_identities_kind"),
    )
    op.create_index("ix_customer_identities_customer_id", "customer_identities", ["customer_id"])
    op.create_table(
        "customer_activities",
        sa.Column("activity_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "customer_id",
            sa.String(36),
            sa.ForeignKey("customers.customer_id"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("reference_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(200), nullable=False, server_default=""),
        sa.Column("order_id", sa.String(200), nullable=False, server_default=""),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint(
            "customer_id", "kind", "reference_id", name="uq_customer_activities_reference"
        ),
        sa.CheckConstraint("kind IN ('order', 'return')", name="ck_customer_activities_kind"),
    )
    op.create_index(
        "ix_customer_activities_newest",
        "customer_activities",
        ["customer_id", "occurred_at", "activity_id"],
    )


def downgrade() -> None:
    op.drop_table("customer_activities")
    op.drop_table("customer_identities")
    op.drop_table("customers")
