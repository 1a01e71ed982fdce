"""Cart checkouts (one per order), notification delivery retries, and an
identity kind column wide enough for "loyalty_card".

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # 0001 made it 10 characters; "loyalty_card" has 12.
    op.alter_column("customer_identities", "kind", type_=sa.String(20), existing_type=sa.String(10))
    op.create_table(
        "cart_checkouts",
        sa.Column("order_id", sa.String(200), primary_key=True),
        sa.Column(
            "customer_id", sa.String(36), sa.ForeignKey("customers.customer_id"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column(
        "notifications", sa.Column("attempts", sa.Integer, nullable=False, server_default="0")
    )
    op.add_column(
        "notifications", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )
    # Messages left queued before retries existed are due now.
    op.execute("UPDATE notifications SET next_attempt_at = now() WHERE status = 'queued'")
    op.create_index(
        "ix_notifications_due",
        "notifications",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_due", "notifications")
    op.drop_column("notifications", "next_attempt_at")
    op.drop_column("notifications", "attempts")
    op.drop_table("cart_checkouts")
    op.execute("DELETE FROM customer_identities WHERE kind = 'loyalty_card'")
    op.alter_column("customer_identities", "kind", type_=sa.String(10), existing_type=sa.String(20))
