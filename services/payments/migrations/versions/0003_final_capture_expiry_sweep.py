"""Final captures release the rest; the expiry sweep's index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "payments",
        sa.Column("released_minor", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_check_constraint(
        "ck_payments_released_within_authorized",
        "payments",
        "released_minor >= 0 AND captured_minor + released_minor <= authorized_minor",
    )
    op.create_index(
        "ix_payments_authorized_expiry",
        "payments",
        ["expires_at"],
        postgresql_where=sa.text("status = 'authorized'"),
    )


def downgrade() -> None:
    op.drop_index("ix_payments_authorized_expiry", table_name="payments")
    op.drop_constraint("ck_payments_released_within_authorized", "payments", type_="check")
    op.drop_column("payments", "released_minor")
