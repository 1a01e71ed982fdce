"""The orders database's tables. Status, type and channel columns hold the
words of omni.words (the REST strings), so the enums never need a data migration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from services.common.idempotency import idempotency_table

metadata = MetaData()


def _timestamps() -> list[Column[Any]]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ]


# PlaceOrder and CreateReturn keys, and the journeys' progress event ids.
idempotency_keys = idempotency_table(metadata)

orders = Table(
    "orders",
    metadata,
    Column("order_id", String(64), primary_key=True),
    Column("customer_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("fulfillment_type", String(16), nullable=False),
    Column("location_id", String(128), nullable=False, server_default=""),
    Column("address", JSONB, nullable=True),
    Column("associate_id", String(128), nullable=False, server_default=""),
    Column("store_id", String(128), nullable=False, server_default=""),
    Column("referral_associate_id", String(128), nullable=False, server_default=""),
    Column("workflow_id", String(128), nullable=False),
    Column("rejection_reason", String(64), nullable=False, server_default=""),
    Column("rejection_message", Text, nullable=False, server_default=""),
    Column("rejection_details", JSONB, nullable=False, server_default="{}"),
    Column("completed_at", DateTime(timezone=True), nullable=True),
    # What the order was priced at (services/orders/domain/pricing.py), kept for
    # its whole life: total_minor = subtotal - discount + shipping + tax.
    Column("subtotal_minor", BigInteger, nullable=False, server_default="0"),
    Column("discount_minor", BigInteger, nullable=False, server_default="0"),
    Column("shipping_minor", BigInteger, nullable=False, server_default="0"),
    Column("shipping_tax_minor", BigInteger, nullable=False, server_default="0"),
    Column("tax_minor", BigInteger, nullable=False, server_default="0"),
    Column("tax_rule", String(128), nullable=False, server_default=""),
    Column("shipping_method", String(64), nullable=False, server_default=""),
    Column("coupon_codes", JSONB, nullable=False, server_default="[]"),
    Column("promotions_applied", JSONB, nullable=False, server_default="[]"),
    # Set when recovery took over a pending placement that stopped moving
    # (store/placements.py); the journey it starts gives everything back.
    Column("abandoned_at", DateTime(timezone=True), nullable=True),
    # An exchange's replacement (issue 11): the return it replaces goods of.
    # Pending until the goods come back; recovery leaves it to its return.
    Column("exchange_for", String(64), nullable=False, server_default=""),
    *_timestamps(),
    Index("ix_orders_customer_id", "customer_id"),
    Index("ix_orders_store_id", "store_id"),
    Index("ix_orders_created_at", "created_at", "order_id"),
    # Recovery's scan for placements that stopped moving (store/placements.py).
    Index(
        "ix_orders_pending_updated_at", "updated_at", postgresql_where=text("status = 'pending'")
    ),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("sku", String(128), nullable=False),
    Column("position", Integer, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("returnable_days", Integer, nullable=False),
    # Held by returns that are not rejected or expired.
    Column("returned_quantity", BigInteger, nullable=False, server_default="0"),
    Column("discount_minor", BigInteger, nullable=False, server_default="0"),
    Column("tax_minor", BigInteger, nullable=False, server_default="0"),
    # Units given up by line cancels (issue 11; store/line_cancels.py).
    Column("quantity_cancelled", BigInteger, nullable=False, server_default="0"),
    PrimaryKeyConstraint("order_id", "sku"),
    CheckConstraint(
        "returned_quantity >= 0 AND returned_quantity <= quantity",
        name="ck_order_lines_returned_quantity",
    ),
    CheckConstraint(
        "quantity_cancelled >= 0 AND quantity_cancelled <= quantity",
        name="ck_order_lines_quantity_cancelled",
    ),
)

fulfillments = Table(
    "fulfillments",
    metadata,
    Column("fulfillment_id", String(128), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("type", String(16), nullable=False),
    Column("location_id", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("pickup_code", String(64), nullable=False, server_default=""),
    Column("carrier", String(128), nullable=False, server_default=""),
    Column("tracking_number", String(128), nullable=False, server_default=""),
    Column("arrived_at", DateTime(timezone=True), nullable=True),
    # The store's work on it is late (pick SLA, curbside hand-off SLA): the journey says so.
    Column("overdue", Boolean, nullable=False, server_default=text("false")),
    Column("arrival_note", Text, nullable=False, server_default=""),
    *_timestamps(),
    Index("ix_fulfillments_order_id", "order_id"),
    Index("ix_fulfillments_location_status", "location_id", "status"),
)


def _events_table(name: str, owner: Table, key: str) -> Table:
    """The append-only history of one kind of resource, keyed by the owner's `key`."""
    return Table(
        name,
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column(key, String(64), ForeignKey(owner.c[key]), nullable=False),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("type", String(64), nullable=False),
        Column("detail", Text, nullable=False, server_default=""),
        Index(f"ix_{name}_{key}", key),
    )


order_events = _events_table("order_events", orders, "order_id")

returns = Table(
    "returns",
    metadata,
    Column("return_id", String(64), primary_key=True),
    Column("order_id", String(64), ForeignKey("orders.order_id"), nullable=False),
    Column("customer_id", String(128), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("method", String(16), nullable=False),
    Column("location_id", String(128), nullable=False, server_default=""),
    Column("currency", String(3), nullable=False),
    Column("refund_minor", BigInteger, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("refunds", JSONB, nullable=False, server_default="[]"),
    Column("workflow_id", String(128), nullable=False),
    # Set once a rejected/expired return has given its quantities back.
    Column("quantities_released", Boolean, nullable=False, server_default="false"),
    # "original" tenders or "store_credit".
    Column("refund_method", String(16), nullable=False, server_default="original"),
    # An exchange (issue 11): its replacement order and where its stock is held.
    Column("replacement_order_id", String(64), nullable=False, server_default=""),
    Column("replacement_location_id", String(128), nullable=False, server_default=""),
    *_timestamps(),
    Index("ix_returns_order_id", "order_id"),
    Index("ix_returns_location_status", "location_id", "status"),
)

return_events = _events_table("return_events", returns, "return_id")

# The pricing tables (issue 13): what services/orders/domain/pricing.py is fed.
promotions = Table(
    "promotions",
    metadata,
    Column("promotion_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("value", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False, server_default=""),
    Column("skus", JSONB, nullable=False, server_default="[]"),
    Column("channels", JSONB, nullable=False, server_default="[]"),
    # "" for automatic promotions; stored upper-case.
    Column("code", String(64), nullable=False, server_default=""),
    Column("min_subtotal_minor", BigInteger, nullable=False, server_default="0"),
    Column("min_subtotal_currency", String(3), nullable=False, server_default=""),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    *_timestamps(),
    CheckConstraint("value > 0", name="ck_promotions_value"),
    CheckConstraint("kind IN ('percent_off', 'amount_off')", name="ck_promotions_kind"),
    CheckConstraint("kind <> 'percent_off' OR value <= 100", name="ck_promotions_percent"),
    CheckConstraint("starts_at < ends_at", name="ck_promotions_window"),
    Index("ix_promotions_code", "code"),
)

tax_regions = Table(
    "tax_regions",
    metadata,
    Column("region", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("rate_bps", Integer, nullable=False),
    *_timestamps(),
    CheckConstraint("rate_bps >= 0 AND rate_bps <= 10000", name="ck_tax_regions_rate"),
)

shipping_methods = Table(
    "shipping_methods",
    metadata,
    Column("method_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("free_over_minor", BigInteger, nullable=True),
    Column("countries", JSONB, nullable=False),
    *_timestamps(),
    CheckConstraint("price_minor >= 0", name="ck_shipping_methods_price"),
)

# The associates registry (issue 14): staff who may hold an associate token
# and be credited with sales, each with a home store.
associates = Table(
    "associates",
    metadata,
    Column("associate_id", String(128), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("store_id", String(128), nullable=False),
    Column("active", Boolean, nullable=False, server_default="true"),
    Column("deactivated_at", DateTime(timezone=True), nullable=True),
    *_timestamps(),
    CheckConstraint("active = (deactivated_at IS NULL)", name="ck_associates_deactivated_at"),
    Index("ix_associates_store_id", "store_id", "associate_id"),
)
