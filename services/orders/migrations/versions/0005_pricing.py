"""Pricing (issue 13): promotions, tax regions and shipping methods; each
order and line keeps the discount, tax and totals it was priced at.

Orders placed before this revision keep total = sum of their lines: their
subtotal is back-filled to it, discounts, shipping and tax are 0.

Revision ID: 0005
Revises: 0004
Create Date: 2027-02-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    for name in ("subtotal_minor", "discount_minor", "shipping_minor", "shipping_tax_minor",
                 "tax_minor"):  # fmt: skip
        op.add_column(
            "orders", sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
        )
    op.add_column(
        "orders", sa.Column("tax_rule", sa.String(128), nullable=False, server_default="")
    )
    op.add_column(
        "orders", sa.Column("shipping_method", sa.String(64), nullable=False, server_default="")
    )
    op.add_column("orders", sa.Column("coupon_codes", JSONB, nullable=False, server_default="[]"))
    op.add_column(
        "orders", sa.Column("promotions_applied", JSONB, nullable=False, server_default="[]")
    )
    op.execute("UPDATE orders SET subtotal_minor = total_minor")
    for name in ("discount_minor", "tax_minor"):
        op.add_column(
            "order_lines", sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "promotions",
        sa.Column("promotion_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("skus", JSONB, nullable=False, server_default="[]"),
        sa.Column("channels", JSONB, nullable=False, server_default="[]"),
        sa.Column("code", sa.String(64), nullable=False, server_default=""),
        sa.Column("min_subtotal_minor", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("min_subtotal_currency", sa.String(3), nullable=False, server_default=""),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        *_timestamps(),
        sa.CheckConstraint("value > 0", name="ck_promotions_value"),
        sa.CheckConstraint("kind IN ('percent_off', 'amount_off')", name="ck_promotions_kind"),
        sa.CheckConstraint("kind <> 'percent_off' OR value <= 100", name="ck_promotions_percent"),
        sa.CheckConstraint("starts_at < ends_at", name="ck_promotions_window"),
    )
    op.create_index("ix_promotions_code", "promotions", ["code"])
    op.create_table(
        "tax_regions",
        sa.Column("region", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint("rate_bps >= 0 AND rate_bps <= 10000", name="ck_tax_regions_rate"),
    )
    op.create_table(
        "shipping_methods",
        sa.Column("method_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("free_over_minor", sa.BigInteger(), nullable=True),
        sa.Column("countries", JSONB, nullable=False),
        *_timestamps(),
        sa.CheckConstraint("price_minor >= 0", name="ck_shipping_methods_price"),
    )


def downgrade() -> None:
    op.drop_table("shipping_methods")
    op.drop_table("tax_regions")
    op.drop_index("ix_promotions_code", "promotions")
    op.drop_table("promotions")
    for name in ("discount_minor", "tax_minor"):
        op.drop_column("order_lines", name)
    for name in ("subtotal_minor", "discount_minor", "shipping_minor", "shipping_tax_minor",
                 "tax_minor", "tax_rule", "shipping_method", "coupon_codes",
                 "promotions_applied"):  # fmt: skip
        op.drop_column("orders", name)
