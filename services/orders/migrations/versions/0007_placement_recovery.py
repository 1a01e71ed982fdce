"""Placement taken by the orders service (issue 10): a pending order is a
placement in progress; `abandoned_at` says recovery took it over (it starts the
journey with `abandoned`), and a partial index finds the pending rows that
stopped moving.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("orders", sa.Column("abandoned_at", sa.DateTime(timezone=True)))
    op.create_index(
        "ix_orders_pending_updated_at",
        "orders",
        ["updated_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_orders_pending_updated_at", table_name="orders")
    op.drop_column("orders", "abandoned_at")
