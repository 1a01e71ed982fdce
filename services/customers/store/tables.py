"""The customers database's tables (migrations/ creates them; keep the two in step)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    false,
    func,
    text,
)

metadata = MetaData()


def _customer_fk(*, primary_key: bool = False) -> Column[str]:
    return Column(
        "customer_id",
        String(36),
        ForeignKey("customers.customer_id"),
        nullable=False,
        primary_key=primary_key,
    )


customers = Table(
    "customers",
    metadata,
    Column("customer_id", String(36), primary_key=True),
    Column("name", String(200), nullable=False, server_default=""),
    Column("loyalty_points", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("loyalty_debt", BigInteger, nullable=False, server_default="0"),
    # Set on a merged duplicate: the survivor every lookup resolves to.
    Column("merged_into", String(36), nullable=True, index=True),
    Column("erased_at", DateTime(timezone=True), nullable=True),
    # Comma-separated channel names (Preferences).
    Column("channels", String(100), nullable=False, server_default=""),
    Column("marketing_consent", String(100), nullable=False, server_default=""),
)

customer_identities = Table(
    "customer_identities",
    metadata,
    Column("kind", String(20), nullable=False),
    Column("value", String(254), nullable=False),
    Column("customer_id", String(36), ForeignKey("customers.customer_id"), nullable=False),
    Column(
        "created_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    ),
    PrimaryKeyConstraint("kind", "value", name="pk_customer_identities"),
    CheckConstraint(
        "kind IN ('email', 'phone', 'loyalty_card')", name="ck_customer_identities_kind"
    ),
    Index("ix_customer_identities_customer_id", "customer_id"),
)

customer_activities = Table(
    "customer_activities",
    metadata,
    Column("activity_id", BigInteger, primary_key=True, autoincrement=True),
    Column("customer_id", String(36), ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("reference_id", String(200), nullable=False),
    Column("channel", String(200), nullable=False, server_default=""),
    Column("status", String(200), nullable=False, server_default=""),
    Column("order_id", String(200), nullable=False, server_default=""),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint(
        "customer_id", "kind", "reference_id", name="uq_customer_activities_reference"
    ),
    CheckConstraint("kind IN ('order', 'return')", name="ck_customer_activities_kind"),
    Index("ix_customer_activities_newest", "customer_id", "occurred_at", "activity_id"),
)

customer_merges = Table(
    "customer_merges",
    metadata,
    Column("merge_id", String(36), primary_key=True),
    Column("survivor_id", String(36), nullable=False),
    Column("duplicate_id", String(36), nullable=False, unique=True),
    Column("actor", String(200), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

timeline_events = Table(
    "timeline_events",
    metadata,
    Column("event_id", String(200), primary_key=True),
    _customer_fk(),
    Column("kind", String(40), nullable=False),
    Column("reference_id", String(200), nullable=False),
    Column("order_id", String(200), nullable=False, server_default=""),
    Column("channel", String(40), nullable=False, server_default=""),
    Column("summary", String(500), nullable=False, server_default=""),
    Column("amount_minor", BigInteger, nullable=False, server_default="0"),
    Column("currency", String(3), nullable=False, server_default=""),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Index("ix_timeline_events_newest", "customer_id", "at", "seq"),
)

carts = Table(
    "carts",
    metadata,
    _customer_fk(primary_key=True),
    # [{"sku": ..., "quantity": ...}, ...]
    Column("lines", JSON, nullable=False),
    Column("channel", String(40), nullable=False, server_default=""),
    # Bumped by every write: the ETag a writer must present.
    Column("version", BigInteger, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

loyalty_ledger = Table(
    "loyalty_ledger",
    metadata,
    # The timeline event (or merge) that caused it: one entry per event.
    Column("entry_id", String(200), primary_key=True),
    _customer_fk(),
    Column("reason", String(20), nullable=False),
    Column("reference_id", String(200), nullable=False, server_default=""),
    Column("points", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("debt_after", BigInteger, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()),
    Index("ix_loyalty_ledger_customer", "customer_id", "at"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(200), primary_key=True),
    _customer_fk(),
    Column("kind", String(40), nullable=False),
    # The channel name only: the address is looked up at delivery, never copied here.
    Column("channel", String(10), nullable=False, server_default=""),
    Column("subject", String(200), nullable=False, server_default=""),
    Column("body", String(1000), nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("marketing", Boolean, nullable=False, server_default=false()),
    Column("reference_id", String(200), nullable=False, server_default=""),
    Column(
        "created_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    ),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    # Delivery: tries so far, and when the drainer may try (again); also the
    # lease that keeps two senders off one message.
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Index("ix_notifications_newest", "customer_id", "seq"),
    Index(
        "ix_notifications_due",
        "next_attempt_at",
        postgresql_where=text("status = 'queued'"),
    ),
)

# One row per order whose lines left the cart: a retried checkout changes nothing.
cart_checkouts = Table(
    "cart_checkouts",
    metadata,
    Column("order_id", String(200), primary_key=True),
    _customer_fk(),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The store outbox (issue 11): messages to a store's associates, once per id.
store_notifications = Table(
    "store_notifications",
    metadata,
    Column("notification_id", String(200), primary_key=True),
    Column("store_id", String(64), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(200), nullable=False, server_default=""),
    Column("body", String(1000), nullable=False, server_default=""),
    Column("reference_id", String(200), nullable=False, server_default=""),
    Column(
        "created_at", DateTime(timezone=True), nullable=False, server_default=func.clock_timestamp()
    ),
    Column("seq", BigInteger, Identity(), nullable=False, unique=True),
    Index("ix_store_notifications_newest", "store_id", "created_at", "seq"),
)
