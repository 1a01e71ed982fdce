"""A placement hold counts against the store's daily capacity at once.

The orders service places an order with a soft hold (placement_hold_id:
`order-<id>/hold`, or `order-<id>/hold/<n>` for a split) that the journey
confirms a moment later; it is the order's fulfillment from the start, so the
capacity trigger (0007) and sourcing count it, and a full store refuses it
(STORE_AT_CAPACITY) when the order is placed, not when the hold is confirmed.
Other soft holds (carts) still never count. Counted: reservations without a
TTL, and placement holds, made since the store's midnight and not given back.

Revision ID: 0008
Revises: 0007
Create Date: 2027-03-01

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same words as store/reservations.py (FULFILLMENT_HOLD_PATTERN).
_COUNTED = "(r.ttl_seconds = 0 OR r.reservation_id LIKE 'order-%/hold%')"

_CAPACITY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION check_daily_capacity() RETURNS trigger AS $$
DECLARE
    v_capacity int;
    v_timezone text;
    v_used bigint;
BEGIN
    IF NOT (NEW.ttl_seconds = 0 OR NEW.reservation_id LIKE 'order-%/hold%') THEN
        RETURN NEW;
    END IF;
    -- A confirmed placement hold was counted when it was made.
    IF TG_OP = 'UPDATE' AND (OLD.ttl_seconds = 0 OR OLD.reservation_id LIKE 'order-%/hold%') THEN
        RETURN NEW;
    END IF;
    SELECT l.daily_order_capacity INTO v_capacity
    FROM locations l WHERE l.location_id = NEW.location_id;
    IF v_capacity IS NULL OR v_capacity <= 0 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' AND EXISTS (
        SELECT 1 FROM reservations r WHERE r.reservation_id = NEW.reservation_id
    ) THEN
        RETURN NEW;
    END IF;
    SELECT l.daily_order_capacity, l.timezone INTO v_capacity, v_timezone
    FROM locations l WHERE l.location_id = NEW.location_id FOR UPDATE;
    SELECT count(*) INTO v_used
    FROM reservations r
    WHERE r.location_id = NEW.location_id
      AND {_COUNTED}
      AND r.status IN ('active', 'committed')
      AND r.reservation_id <> NEW.reservation_id
      AND r.created_at >= timezone(v_timezone, date_trunc('day', timezone(v_timezone, now())));
    IF v_used >= v_capacity THEN
        RAISE EXCEPTION 'store at capacity'
            USING ERRCODE = 'OM002', DETAIL = v_capacity::text;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.execute(_CAPACITY_FUNCTION)
    op.execute(
        "CREATE INDEX reservations_placement_holds_by_day ON reservations"
        " (location_id, created_at) WHERE reservation_id LIKE 'order-%/hold%'"
    )


def downgrade() -> None:
    # The function stays as it is (0007's counted less; 0007's downgrade drops it).
    op.execute("DROP INDEX reservations_placement_holds_by_day")
