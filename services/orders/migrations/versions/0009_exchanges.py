"""Exchanges (issue 11): a replacement order names the return it replaces
goods of (`orders.exchange_for`), and the return names its replacement and
where its stock is held (`returns.replacement_order_id`,
`replacement_location_id`).

Revision ID: 0009
Revises: 0008
Create Date: 2027-03-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "orders", sa.Column("exchange_for", sa.String(64), nullable=False, server_default="")
    )
    op.add_column(
        "returns",
        sa.Column("replacement_order_id", sa.String(64), nullable=False, server_default=""),
    )
    op.add_column(
        "returns",
        sa.Column("replacement_location_id", sa.String(128), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("returns", "replacement_location_id")
    op.drop_column("returns", "replacement_order_id")
    op.drop_column("orders", "exchange_for")
