"""Units of an order line cancelled by a line cancel (issue 11): the read
model shows them per line (`quantity_cancelled`), never more than ordered.

Revision ID: 0010
Revises: 0009
Create Date: 2027-03-08

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "order_lines",
        sa.Column("quantity_cancelled", sa.BigInteger, nullable=False, server_default="0"),
    )
    op.create_check_constraint(
        "ck_order_lines_quantity_cancelled",
        "order_lines",
        "quantity_cancelled >= 0 AND quantity_cancelled <= quantity",
    )


def downgrade() -> None:
    op.drop_constraint("ck_order_lines_quantity_cancelled", "order_lines", type_="check")
    op.drop_column("order_lines", "quantity_cancelled")
