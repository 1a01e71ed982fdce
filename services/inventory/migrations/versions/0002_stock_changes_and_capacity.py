"""Stock change notifications (LISTEN/NOTIFY) and today's fulfillments per location.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A trigger rather than code in each query: no path that changes stock (reserve,
# release, commit, adjust, the expiry sweep, a hand-run fix) can forget to tell
# the watchers, and every replica's listener hears it.
_NOTIFY_FUNCTION = """
CREATE FUNCTION notify_stock_changed() RETURNS trigger AS $$
BEGIN
    -- Nested: plpgsql may evaluate every operand, and safety_stock has no on_hand.
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'stock' THEN
        IF NEW.on_hand = OLD.on_hand AND NEW.reserved = OLD.reserved THEN
            RETURN NULL;
        END IF;
    END IF;
    PERFORM pg_notify(
        'stock_changed',
        json_build_object('location_id', NEW.location_id, 'sku', NEW.sku)::text
    );
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.execute(_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER stock_changed AFTER INSERT OR UPDATE ON stock"
        " FOR EACH ROW EXECUTE FUNCTION notify_stock_changed()"
    )
    op.execute(
        "CREATE TRIGGER safety_stock_changed AFTER INSERT OR UPDATE ON safety_stock"
        " FOR EACH ROW EXECUTE FUNCTION notify_stock_changed()"
    )
    op.create_index(
        "reservations_fulfilments_by_day",
        "reservations",
        ["location_id", "created_at"],
        postgresql_where=sa.text("ttl_seconds = 0"),
    )


def downgrade() -> None:
    op.drop_index("reservations_fulfilments_by_day", table_name="reservations")
    op.execute("DROP TRIGGER safety_stock_changed ON safety_stock")
    op.execute("DROP TRIGGER stock_changed ON stock")
    op.execute("DROP FUNCTION notify_stock_changed()")
