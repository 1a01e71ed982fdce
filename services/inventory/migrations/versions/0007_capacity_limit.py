"""Daily order capacity is a hard limit, counted in the store's own day.

Locations get `timezone` (IANA name, default UTC: where the store's day starts)
and `curbside_sla_minutes` (0: the default, 10 min to hand over at the curb).

A trigger on reservations refuses a fulfillment (a reservation without a TTL:
a new one, or a soft hold being confirmed) at a location whose
`daily_order_capacity` (0: no limit) is used up for the store's day: the
location row is locked first, so concurrent fulfillments at one store are
counted one after the other and exactly `capacity` of them get in. It raises
OM002 (DETAIL: the capacity), which the service answers as STORE_AT_CAPACITY.
Counted: fulfillments created since the store's midnight and not given back
(active or committed), as sourcing counts them. A retry of an existing id is
let through (the insert's ON CONFLICT answers it). Because it is a trigger,
reserve_stock(), reserve_stock_batch() and ConfirmReservation all keep it.

Revision ID: 0007
Revises: 0006
Create Date: 2027-03-01

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_CAPACITY_FUNCTION = """
CREATE FUNCTION check_daily_capacity() RETURNS trigger AS $$
DECLARE
    v_capacity int;
    v_timezone text;
    v_used bigint;
BEGIN
    IF NEW.ttl_seconds <> 0 THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.ttl_seconds = 0 THEN
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
    -- One fulfillment at a time per limited store, until the transaction ends.
    SELECT l.daily_order_capacity, l.timezone INTO v_capacity, v_timezone
    FROM locations l WHERE l.location_id = NEW.location_id FOR UPDATE;
    SELECT count(*) INTO v_used
    FROM reservations r
    WHERE r.location_id = NEW.location_id
      AND r.ttl_seconds = 0
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
    op.add_column(
        "locations",
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
    )
    op.add_column(
        "locations",
        sa.Column("curbside_sla_minutes", sa.Float, nullable=False, server_default="0"),
    )
    op.execute(_CAPACITY_FUNCTION)
    op.execute(
        "CREATE TRIGGER reservations_daily_capacity"
        " BEFORE INSERT OR UPDATE OF ttl_seconds ON reservations"
        " FOR EACH ROW EXECUTE FUNCTION check_daily_capacity()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER reservations_daily_capacity ON reservations")
    op.execute("DROP FUNCTION check_daily_capacity()")
    op.drop_column("locations", "curbside_sla_minutes")
    op.drop_column("locations", "timezone")
