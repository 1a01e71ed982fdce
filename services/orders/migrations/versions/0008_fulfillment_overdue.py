"""A fulfillment the store is late with (issue 11): the journey's store clocks
set `overdue` (a pick past the location's pick SLA, a curbside pickup past its
hand-off SLA) and the store's task list shows it.

Revision ID: 0008
Revises: 0007
Create Date: 2027-03-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "fulfillments",
        sa.Column("overdue", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("fulfillments", "overdue")
