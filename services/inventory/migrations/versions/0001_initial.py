"""Locations, products, stock, safety stock, the movement ledger, reservations.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "locations",
        sa.Column("location_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("pickup_enabled", sa.Boolean, nullable=False),
        sa.Column("ship_from_enabled", sa.Boolean, nullable=False),
        sa.Column("daily_order_capacity", sa.Integer, nullable=False),
        sa.Column("pickup_window_hours", sa.Float, nullable=False),
        sa.Column("pick_sla_minutes", sa.Float, nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("kind IN ('store', 'warehouse')", name="locations_kind"),
    )
    op.create_table(
        "products",
        sa.Column("sku", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("price_amount_minor", sa.BigInteger, nullable=False),
        sa.Column("price_currency", sa.String(3), nullable=False),
        sa.Column("returnable_days", sa.Integer, nullable=False),
        _timestamp("created_at"),
        sa.CheckConstraint("price_amount_minor > 0", name="products_price_positive"),
        sa.CheckConstraint("returnable_days >= 0", name="products_returnable_days"),
    )
    op.create_table(
        "stock",
        sa.Column(
            "location_id",
            sa.String(64),
            sa.ForeignKey("locations.location_id"),
            primary_key=True,
        ),
        sa.Column("sku", sa.String(64), sa.ForeignKey("products.sku"), primary_key=True),
        sa.Column("on_hand", sa.BigInteger, nullable=False),
        sa.Column("reserved", sa.BigInteger, nullable=False, server_default="0"),
        _timestamp("updated_at"),
        sa.CheckConstraint("reserved >= 0", name="stock_reserved_not_negative"),
        sa.CheckConstraint("on_hand >= reserved", name="stock_on_hand_covers_reserved"),
    )
    op.create_index("stock_sku", "stock", ["sku"])
    op.create_table(
        "safety_stock",
        sa.Column(
            "location_id",
            sa.String(64),
            sa.ForeignKey("locations.location_id"),
            primary_key=True,
        ),
        sa.Column("sku", sa.String(64), sa.ForeignKey("products.sku"), primary_key=True),
        sa.Column("channel", sa.String(200), primary_key=True),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.CheckConstraint("quantity >= 0", name="safety_stock_not_negative"),
    )
    op.create_table(
        "stock_movements",
        sa.Column("movement_id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("location_id", sa.String(64), nullable=False),
        sa.Column("sku", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("delta", sa.BigInteger, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["location_id", "sku"], ["stock.location_id", "stock.sku"]),
        sa.CheckConstraint(
            "reason IN ('receipt', 'pos_sale', 'cycle_count', 'damage', 'return_restock',"
            " 'commit')",
            name="stock_movements_reason",
        ),
    )
    op.create_index("stock_movements_location_sku", "stock_movements", ["location_id", "sku"])
    op.create_table(
        "reservations",
        sa.Column("reservation_id", sa.String(200), primary_key=True),
        sa.Column("order_id", sa.String(200), nullable=False),
        sa.Column(
            "location_id",
            sa.String(64),
            sa.ForeignKey("locations.location_id"),
            nullable=False,
        ),
        sa.Column("channel", sa.String(200), nullable=False),
        sa.Column("ttl_seconds", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.CheckConstraint(
            "status IN ('active', 'committed', 'released', 'expired')",
            name="reservations_status",
        ),
    )
    op.create_index("reservations_order_id", "reservations", ["order_id"])
    op.create_index(
        "reservations_active_expiry",
        "reservations",
        ["expires_at"],
        postgresql_where=sa.text("status = 'active' AND expires_at IS NOT NULL"),
    )
    op.create_table(
        "reservation_lines",
        sa.Column(
            "reservation_id",
            sa.String(200),
            sa.ForeignKey("reservations.reservation_id"),
            primary_key=True,
        ),
        sa.Column("sku", sa.String(64), sa.ForeignKey("products.sku"), primary_key=True),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("committed_quantity", sa.BigInteger, nullable=False, server_default="0"),
        sa.CheckConstraint("quantity > 0", name="reservation_lines_quantity_positive"),
        sa.CheckConstraint(
            "committed_quantity >= 0 AND committed_quantity <= quantity",
            name="reservation_lines_committed_within_quantity",
        ),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=True),
        _timestamp("created_at"),
    )


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "reservation_lines",
        "reservations",
        "stock_movements",
        "safety_stock",
        "stock",
        "products",
        "locations",
    ):
        op.drop_table(table)
