"""Idempotency answers keep their headers and the customer they belong to
(issue 12: replays carry headers; erase forgets a customer's answers).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
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
        "http_idempotency_keys",
        sa.Column("headers", sa.Text, nullable=False, server_default="[]"),
    )
    op.add_column(
        "http_idempotency_keys",
        sa.Column("customer_id", sa.String(200), nullable=False, server_default=""),
    )
    op.create_index(
        "ix_http_idempotency_keys_customer_id", "http_idempotency_keys", ["customer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_http_idempotency_keys_customer_id", "http_idempotency_keys")
    op.drop_column("http_idempotency_keys", "customer_id")
    op.drop_column("http_idempotency_keys", "headers")
