"""The inventory database's tables (the migrations create them; this is what
the queries and Alembic's autogenerate read).

Columns store the words of omni.words (`kind`, `reason`, `status`, `channel`);
the CHECK constraints list the same words, made from the enums.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    text,
)

from omni.words import LocationKind, ReservationStatus, StockMovementReason
from services.common.idempotency import idempotency_table

metadata = MetaData()


def _one_of(column: str, words: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(str(word)) for word in words)})"


locations = Table(
    "locations",
    metadata,
    Column("location_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("pickup_enabled", Boolean, nullable=False),
    Column("ship_from_enabled", Boolean, nullable=False),
    Column("daily_order_capacity", Integer, nullable=False),
    Column("pickup_window_hours", Float, nullable=False),
    Column("pick_sla_minutes", Float, nullable=False),
    Column("tax_region", String(32), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Where the store's day starts (IANA name): daily_order_capacity counts its day.
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    Column("curbside_sla_minutes", Float, nullable=False, server_default="0"),
    CheckConstraint(_one_of("kind", LocationKind), name="locations_kind"),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_amount_minor", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("returnable_days", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("price_amount_minor > 0", name="products_price_positive"),
    CheckConstraint("returnable_days >= 0", name="products_returnable_days"),
)

# A channel's own price for a product (a marketplace surcharge); without a row
# the channel pays the product's price.
product_channel_prices = Table(
    "product_channel_prices",
    metadata,
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("price_amount_minor", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    CheckConstraint("price_amount_minor > 0", name="product_channel_prices_positive"),
)

stock = Table(
    "stock",
    metadata,
    Column("location_id", String(64), ForeignKey("locations.location_id"), primary_key=True),
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("reserved >= 0", name="stock_reserved_not_negative"),
    CheckConstraint("on_hand >= reserved", name="stock_on_hand_covers_reserved"),
    Index("stock_sku", "sku"),
)

safety_stock = Table(
    "safety_stock",
    metadata,
    Column("location_id", String(64), ForeignKey("locations.location_id"), primary_key=True),
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("channel", String(200), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    CheckConstraint("quantity >= 0", name="safety_stock_not_negative"),
)

# Append-only: on_hand of a (location, sku) is always the sum of its deltas.
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("movement_id", BigInteger, Identity(), primary_key=True),
    Column("location_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("delta", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ForeignKeyConstraint(["location_id", "sku"], ["stock.location_id", "stock.sku"]),
    CheckConstraint(_one_of("reason", StockMovementReason), name="stock_movements_reason"),
    Index("stock_movements_location_sku", "location_id", "sku"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("reservation_id", String(200), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("location_id", String(64), ForeignKey("locations.location_id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("ttl_seconds", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    # Hash of the parameters, to tell a retry from a reused id.
    Column("fingerprint", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_one_of("status", ReservationStatus), name="reservations_status"),
    Index("reservations_order_id", "order_id"),
    # The expiry sweep only ever looks at active soft holds.
    Index(
        "reservations_active_expiry",
        "expires_at",
        postgresql_where=text(f"status = '{ReservationStatus.ACTIVE}' AND expires_at IS NOT NULL"),
    ),
    # Fulfillments (holds without a TTL) assigned to a location today, for sourcing.
    Index(
        "reservations_fulfillments_by_day",
        "location_id",
        "created_at",
        postgresql_where=text("ttl_seconds = 0"),
    ),
    # Placement holds count too (migration 0008).
    Index(
        "reservations_placement_holds_by_day",
        "location_id",
        "created_at",
        postgresql_where=text("reservation_id LIKE 'order-%/hold%'"),
    ),
)

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column(
        "reservation_id",
        String(200),
        ForeignKey("reservations.reservation_id"),
        primary_key=True,
    ),
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("committed_quantity", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="reservation_lines_quantity_positive"),
    CheckConstraint(
        "committed_quantity >= 0 AND committed_quantity <= quantity",
        name="reservation_lines_committed_within_quantity",
    ),
)

idempotency_keys = idempotency_table(metadata)
