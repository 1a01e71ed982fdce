"""A return's refund method: the order's tenders or store credit.

Revision ID: 0002
Revises: 0001
Create Date: 2026-05-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "returns",
        sa.Column("refund_method", sa.String(16), nullable=False, server_default="original"),
    )


def downgrade() -> None:
    op.drop_column("returns", "refund_method")
