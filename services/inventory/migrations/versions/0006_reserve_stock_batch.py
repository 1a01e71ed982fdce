"""reserve_stock_batch(): many reservations of the same rows in one statement.

A hot SKU under a flash sale is one stock row that every buyer locks in turn;
one statement per reservation pays a lock hand-off, a commit and a round trip
each. The inventory service groups concurrent reservations for the same
location and skus (store/fast_path.py, `ReserveBatcher`) and sends them here
together: the row is locked once, the batch commits once.

Each reservation keeps its own record and its own all-or-nothing outcome, as
in reserve_stock(): its id inserted first (ON CONFLICT DO NOTHING: an existing
id, also one repeated inside the batch, answers created = false); then every
line's conditional update; when any line is short, the lines it did reserve
are given back and its reservation row deleted, in the same transaction, and
the short skus are answered (no exception, so the others in the batch stand),
or `out_unknown` when the location or a short sku does not exist (what
reserve_stock() reports as a foreign key violation).
No subtransaction per member (a PL/pgSQL EXCEPTION block would make one, and
more than 64 in a transaction overflow every backend's subxid cache).

Revision ID: 0006
Revises: 0005
Create Date: 2027-02-02

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Member i's lines are p_skus[p_first_line[i] .. p_first_line[i + 1] - 1]
# (p_first_line has one entry more than there are members).
_RESERVE_STOCK_BATCH = """
CREATE FUNCTION reserve_stock_batch(
    p_location_id text,
    p_reservation_ids text[],
    p_order_ids text[],
    p_channels text[],
    p_ttl_seconds bigint[],
    p_fingerprints text[],
    p_first_line int[],
    p_skus text[],
    p_quantities bigint[]
) RETURNS TABLE (
    out_created boolean, out_expires_at timestamptz, out_short text, out_unknown boolean
) AS $$
DECLARE
    v_expires timestamptz;
    v_short text[];
    v_done int[];
    i int;
    j int;
BEGIN
    FOR i IN 1 .. cardinality(p_reservation_ids) LOOP
        INSERT INTO reservations AS r (
            reservation_id, order_id, location_id, channel, ttl_seconds, status, fingerprint,
            expires_at
        )
        VALUES (
            p_reservation_ids[i], p_order_ids[i], p_location_id, p_channels[i],
            p_ttl_seconds[i], 'active', p_fingerprints[i],
            CASE WHEN p_ttl_seconds[i] > 0
                 THEN now() + make_interval(secs => p_ttl_seconds[i]) END
        )
        ON CONFLICT (reservation_id) DO NOTHING
        RETURNING r.expires_at INTO v_expires;
        IF NOT FOUND THEN
            out_created := false; out_expires_at := NULL; out_short := NULL;
            out_unknown := false;
            RETURN NEXT;
            CONTINUE;
        END IF;
        v_short := '{}';
        v_done := '{}';
        FOR j IN p_first_line[i] .. p_first_line[i + 1] - 1 LOOP
            UPDATE stock AS s
            SET reserved = s.reserved + p_quantities[j], updated_at = now()
            WHERE s.location_id = p_location_id AND s.sku = p_skus[j]
              AND stock_available(s.on_hand, s.reserved,
                    (SELECT ss.quantity FROM safety_stock AS ss
                     WHERE ss.location_id = p_location_id AND ss.sku = p_skus[j]
                       AND ss.channel = p_channels[i])) >= p_quantities[j];
            IF FOUND THEN
                v_done := v_done || j;
            ELSE
                v_short := v_short || p_skus[j];
            END IF;
        END LOOP;
        IF cardinality(v_short) > 0 THEN
            -- All or nothing for this member: give back what it took.
            FOREACH j IN ARRAY v_done LOOP
                UPDATE stock AS s
                SET reserved = s.reserved - p_quantities[j], updated_at = now()
                WHERE s.location_id = p_location_id AND s.sku = p_skus[j];
            END LOOP;
            DELETE FROM reservations WHERE reservation_id = p_reservation_ids[i];
            out_created := false; out_expires_at := NULL;
            out_short := array_to_string(v_short, ',');
            -- What reserve_stock() reports as a foreign key violation.
            out_unknown := NOT EXISTS (SELECT 1 FROM locations WHERE location_id = p_location_id)
                OR EXISTS (SELECT 1 FROM unnest(v_short) AS u(sku)
                           WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = u.sku));
            RETURN NEXT;
            CONTINUE;
        END IF;
        INSERT INTO reservation_lines (reservation_id, sku, quantity)
        SELECT p_reservation_ids[i], p_skus[g.line], p_quantities[g.line]
        FROM generate_series(p_first_line[i], p_first_line[i + 1] - 1) AS g(line);
        out_created := true; out_expires_at := v_expires; out_short := NULL;
        out_unknown := false;
        RETURN NEXT;
    END LOOP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.execute(_RESERVE_STOCK_BATCH)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION reserve_stock_batch(text, text[], text[], text[], bigint[], text[],"
        " int[], text[], bigint[])"
    )
