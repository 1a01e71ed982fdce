"""stock_available(): the one definition of what a channel may sell; stored refusals.

Revision ID: 0004
Revises: 0003
Create Date: 2027-01-12

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On hand less reserved less the channel's safety stock (NULL: none), never
# negative. A plain SQL expression, so PostgreSQL inlines it into every query
# that calls it (the availability reads and reserve_stock() below) at no cost.
_STOCK_AVAILABLE = """
CREATE FUNCTION stock_available(on_hand bigint, reserved bigint, safety_stock bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN greatest(0, on_hand - reserved - coalesce(safety_stock, 0))
"""

# As in 0003, but the condition on the locked row is stock_available(): the
# row's on_hand and reserved are re-read under its lock, so the check stays
# exact under concurrency.
_RESERVE_STOCK = """
CREATE OR REPLACE FUNCTION reserve_stock(
    p_reservation_id text,
    p_order_id text,
    p_location_id text,
    p_channel text,
    p_ttl_seconds bigint,
    p_fingerprint text,
    p_skus text[],
    p_quantities bigint[]
) RETURNS TABLE (out_created boolean, out_expires_at timestamptz) AS $$
DECLARE
    v_expires timestamptz;
    v_short text[] := '{}';
    i int;
BEGIN
    INSERT INTO reservations AS r (
        reservation_id, order_id, location_id, channel, ttl_seconds, status, fingerprint,
        expires_at
    )
    VALUES (
        p_reservation_id, p_order_id, p_location_id, p_channel, p_ttl_seconds, 'active',
        p_fingerprint,
        CASE WHEN p_ttl_seconds > 0 THEN now() + make_interval(secs => p_ttl_seconds) END
    )
    ON CONFLICT (reservation_id) DO NOTHING
    RETURNING r.expires_at INTO v_expires;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, NULL::timestamptz;
        RETURN;
    END IF;
    INSERT INTO reservation_lines (reservation_id, sku, quantity)
    SELECT p_reservation_id, u.sku, u.quantity
    FROM unnest(p_skus, p_quantities) AS u(sku, quantity);
    FOR i IN 1 .. cardinality(p_skus) LOOP
        UPDATE stock AS s
        SET reserved = s.reserved + p_quantities[i], updated_at = now()
        WHERE s.location_id = p_location_id AND s.sku = p_skus[i]
          AND AVAILABLE >= p_quantities[i];
        IF NOT FOUND THEN
            v_short := v_short || p_skus[i];
        END IF;
    END LOOP;
    IF cardinality(v_short) > 0 THEN
        RAISE EXCEPTION 'insufficient stock'
            USING ERRCODE = 'OM001', DETAIL = array_to_string(v_short, ',');
    END IF;
    RETURN QUERY SELECT true, v_expires;
END;
$$ LANGUAGE plpgsql
"""

_SAFETY = """(SELECT ss.quantity FROM safety_stock AS ss
               WHERE ss.location_id = p_location_id AND ss.sku = p_skus[i]
                 AND ss.channel = p_channel)"""
_AVAILABLE = f"stock_available(s.on_hand, s.reserved, {_SAFETY})"
_AVAILABLE_0003 = f"s.on_hand - s.reserved - coalesce({_SAFETY}, 0)"


def upgrade() -> None:
    # A refusal stored under its key answers every repeat (services.common.idempotency).
    op.add_column("idempotency_keys", sa.Column("failure", JSONB, nullable=True))
    op.execute(
        "ALTER INDEX reservations_fulfilments_by_day RENAME TO reservations_fulfillments_by_day"
    )
    op.execute(_STOCK_AVAILABLE)
    op.execute(_RESERVE_STOCK.replace("AVAILABLE", _AVAILABLE))


def downgrade() -> None:
    op.execute(_RESERVE_STOCK.replace("AVAILABLE", _AVAILABLE_0003))
    op.execute("DROP FUNCTION stock_available(bigint, bigint, bigint)")
    op.execute(
        "ALTER INDEX reservations_fulfillments_by_day RENAME TO reservations_fulfilments_by_day"
    )
    op.drop_column("idempotency_keys", "failure")
