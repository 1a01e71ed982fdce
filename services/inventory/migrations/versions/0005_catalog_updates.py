"""Catalog updates (issue 13): products can be deactivated, channels have their
own prices, locations name their tax region.

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "products", sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column(
        "products",
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    # GET /v1/products?query= matches a name fragment case-insensitively.
    op.execute("CREATE INDEX products_lower_name ON products (lower(name) text_pattern_ops)")
    op.create_table(
        "product_channel_prices",
        sa.Column("sku", sa.String(64), sa.ForeignKey("products.sku"), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("price_amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.CheckConstraint("price_amount_minor > 0", name="product_channel_prices_positive"),
    )
    op.add_column(
        "locations",
        sa.Column("tax_region", sa.String(32), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("locations", "tax_region")
    op.drop_table("product_channel_prices")
    op.execute("DROP INDEX products_lower_name")
    op.drop_column("products", "updated_at")
    op.drop_column("products", "active")
