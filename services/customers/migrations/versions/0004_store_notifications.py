"""The store outbox (issue 11): messages to a store's associates.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store_notifications",
        sa.Column("notification_id", sa.String(200), primary_key=True),
        sa.Column("store_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False, server_default=""),
        sa.Column("body", sa.String(1000), nullable=False, server_default=""),
        sa.Column("reference_id", sa.String(200), nullable=False, server_default=""),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            nullable=False,
            server_default=sa.func.clock_timestamp(),
        ),
        sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False, unique=True),
    )
    op.create_index(
        "ix_store_notifications_newest", "store_notifications", ["store_id", "created_at", "seq"]
    )


def downgrade() -> None:
    op.drop_index("ix_store_notifications_newest", table_name="store_notifications")
    op.drop_table("store_notifications")
