"""Curbside: when the customer of a pickup said they arrived, and their note.

Revision ID: 0003
Revises: 0002
Create Date: 2026-05-13
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("fulfillments", sa.Column("arrived_at", sa.DateTime(timezone=True)))
    op.add_column(
        "fulfillments", sa.Column("arrival_note", sa.Text, nullable=False, server_default="")
    )


def downgrade() -> None:
    op.drop_column("fulfillments", "arrival_note")
    op.drop_column("fulfillments", "arrived_at")
