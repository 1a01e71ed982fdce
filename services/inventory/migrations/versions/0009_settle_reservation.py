"""settle_reservation(): a reservation's settlement written in one statement.

How a reservation ends is decided in Python (domain.settle_commit,
settle_release: what is sold, what goes back, the final status, the ledger's
entries); this function only writes that decision, in the order the ORM wrote
it: each stock row changed in the order given (sku order, the lock order
reserve_stock() keeps), the ledger's entries, the lines' committed
quantities when committed, the reservation's status. One round trip instead
of one per row (a commit of one line was six statements). A stock row that no
longer covers its holds refuses the whole settlement (the invariants say it
cannot happen: refuse rather than corrupt).

Revision ID: 0009
Revises: 0008
Create Date: 2027-03-08

"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SETTLE_RESERVATION = """
CREATE FUNCTION settle_reservation(
    p_reservation_id text,
    p_location_id text,
    p_status text,
    p_committed boolean,
    p_skus text[],
    p_sold bigint[],
    p_unheld bigint[],
    p_moved_skus text[],
    p_moved_deltas bigint[],
    p_moved_reasons text[],
    p_moved_actors text[]
) RETURNS void AS $$
DECLARE
    i int;
BEGIN
    FOR i IN 1 .. coalesce(cardinality(p_skus), 0) LOOP
        CONTINUE WHEN p_unheld[i] = 0;
        UPDATE stock AS s
        SET on_hand = s.on_hand - p_sold[i], reserved = s.reserved - p_unheld[i],
            updated_at = now()
        WHERE s.location_id = p_location_id AND s.sku = p_skus[i]
          AND s.reserved >= p_unheld[i] AND s.on_hand >= p_sold[i];
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stock does not cover its holds'
                USING ERRCODE = 'OM003', DETAIL = p_skus[i];
        END IF;
    END LOOP;
    INSERT INTO stock_movements (location_id, sku, reason, delta, actor, reference)
    SELECT p_location_id, m.sku, m.reason, m.delta, m.actor, p_reservation_id
    FROM unnest(p_moved_skus, p_moved_deltas, p_moved_reasons, p_moved_actors)
         WITH ORDINALITY AS m(sku, delta, reason, actor, n)
    ORDER BY m.n;
    IF p_committed THEN
        UPDATE reservation_lines AS l
        SET committed_quantity = c.sold
        FROM unnest(p_skus, p_sold) AS c(sku, sold)
        WHERE l.reservation_id = p_reservation_id AND l.sku = c.sku;
    END IF;
    UPDATE reservations SET status = p_status, updated_at = now()
    WHERE reservation_id = p_reservation_id;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.execute(_SETTLE_RESERVATION)


def downgrade() -> None:
    op.execute(
        "DROP FUNCTION settle_reservation(text, text, text, boolean, text[], bigint[], bigint[],"
        " text[], bigint[], text[], text[])"
    )
