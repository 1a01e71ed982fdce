"""The associates registry (issue 14): who may hold an associate token and be
credited with a sale, with their home store; and an index for looking orders
up by store.

Revision ID: 0006
Revises: 0005
Create Date: 2027-03-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "associates",
        sa.Column("associate_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("store_id", sa.String(128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default="true"),
        sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "active = (deactivated_at IS NULL)", name="ck_associates_deactivated_at"
        ),
    )
    op.create_index("ix_associates_store_id", "associates", ["store_id", "associate_id"])
    op.create_index("ix_orders_store_id", "orders", ["store_id"])
    op.create_index("ix_orders_created_at", "orders", ["created_at", "order_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_created_at", table_name="orders")
    op.drop_index("ix_orders_store_id", table_name="orders")
    op.drop_index("ix_associates_store_id", table_name="associates")
    op.drop_table("associates")
