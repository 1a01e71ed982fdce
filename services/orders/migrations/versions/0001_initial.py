"""Orders, lines, fulfillments, events, returns and request keys.

Revision ID: 0001
Revises:
Create Date: 2026-05-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "request_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("total_minor", sa.BigInteger, nullable=False),
        sa.Column("fulfillment_type", sa.String(16), nullable=False),
        sa.Column("location_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("address", postgresql.JSONB, nullable=True),
        sa.Column("associate_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("store_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("referral_associate_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("workflow_id", sa.String(128), nullable=False),
        sa.Column("rejection_reason", sa.String(64), nullable=False, server_default=""),
        sa.Column("rejection_message", sa.Text, nullable=False, server_default=""),
        sa.Column("rejection_details", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
    )
    op.create_index("ix_orders_customer_id", "orders", ["customer_id"])
    op.create_table(
        "order_lines",
        sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("sku", sa.String(128), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger, nullable=False),
        sa.Column("returnable_days", sa.Integer, nullable=False),
        sa.Column("returned_quantity", sa.BigInteger, nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("order_id", "sku"),
        sa.CheckConstraint(
            "returned_quantity >= 0 AND returned_quantity <= quantity",
            name="ck_order_lines_returned_quantity",
        ),
    )
    op.create_table(
        "fulfillments",
        sa.Column("fulfillment_id", sa.String(128), primary_key=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("location_id", sa.String(128), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("pickup_code", sa.String(64), nullable=False, server_default=""),
        sa.Column("carrier", sa.String(128), nullable=False, server_default=""),
        sa.Column("tracking_number", sa.String(128), nullable=False, server_default=""),
        *_stamps(),
    )
    op.create_index("ix_fulfillments_order_id", "fulfillments", ["order_id"])
    op.create_index("ix_fulfillments_location_status", "fulfillments", ["location_id", "status"])
    op.create_table(
        "order_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_order_events_order_id", "order_events", ["order_id"])
    op.create_table(
        "applied_events",
        sa.Column("event_id", sa.String(300), primary_key=True),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "returns",
        sa.Column("return_id", sa.String(64), primary_key=True),
        sa.Column("order_id", sa.String(64), sa.ForeignKey("orders.order_id"), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("location_id", sa.String(128), nullable=False, server_default=""),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("refund_minor", sa.BigInteger, nullable=False),
        sa.Column("lines", postgresql.JSONB, nullable=False),
        sa.Column("refunds", postgresql.JSONB, nullable=False, server_default="[]"),
        sa.Column("workflow_id", sa.String(128), nullable=False),
        sa.Column("quantities_released", sa.Boolean, nullable=False, server_default="false"),
        *_stamps(),
    )
    op.create_index("ix_returns_order_id", "returns", ["order_id"])
    op.create_index("ix_returns_location_status", "returns", ["location_id", "status"])
    op.create_table(
        "return_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("return_id", sa.String(64), sa.ForeignKey("returns.return_id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_return_events_return_id", "return_events", ["return_id"])


def downgrade() -> None:
    for table in (
        "return_events",
        "returns",
        "applied_events",
        "order_events",
        "fulfillments",
        "order_lines",
        "orders",
        "request_keys",
    ):
        op.drop_table(table)
