"""reserve_stock(): a whole reservation in one statement.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Called without an explicit transaction, the statement commits in the same
# round trip that takes the stock row locks, so a hot SKU's row is locked for
# microseconds instead of for a client round trip. All lines or none: a short
# line raises OM001 (detail: the short skus) and the whole statement rolls back.
# Callers pass the skus merged and sorted: the lock order.
_FUNCTION = """
CREATE FUNCTION reserve_stock(
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
          AND s.on_hand - s.reserved - coalesce(
                (SELECT ss.quantity FROM safety_stock AS ss
                 WHERE ss.location_id = p_location_id AND ss.sku = p_skus[i]
                   AND ss.channel = p_channel), 0) >= p_quantities[i];
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


def upgrade() -> None:
    op.execute(_FUNCTION)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION reserve_stock(text, text, text, text, bigint, text, text[], bigint[])"
    )
