"""The shared idempotency helper's key table replaces request_keys and applied_events.

PlaceOrder and CreateReturn keys move over with the id they claimed (stored as
a google.protobuf.StringValue, the response services.orders.store keeps), so a
key used before the upgrade still finds its order or return. A request sent
before the upgrade and repeated after it fingerprints differently (its enum
fields changed encoding): it is refused as IDEMPOTENCY_KEY_REUSED, never placed
twice. Progress event ids are not carried over: a journey's step repeated
across the upgrade is applied again (the same status, one more timeline
entry; returned quantities are still given back once).

Revision ID: 0004
Revises: 0003
Create Date: 2026-05-20
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("response", sa.LargeBinary, nullable=True),
        sa.Column("failure", JSONB, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    # StringValue{value: id} is 0x0a, the id's length (one byte: ids are at
    # most 64 ASCII characters), then the id.
    op.execute(
        """
        INSERT INTO idempotency_keys (key, request_hash, response, created_at)
        SELECT key,
               request_hash,
               decode('0a', 'hex')
                 || set_byte('\\x00'::bytea, 0, octet_length(convert_to(resource_id, 'UTF8')))
                 || convert_to(resource_id, 'UTF8'),
               created_at
        FROM request_keys
        """
    )
    op.drop_table("request_keys")
    op.drop_table("applied_events")


def downgrade() -> None:
    op.create_table(
        "applied_events",
        sa.Column("event_id", sa.String(300), primary_key=True),
        sa.Column(
            "applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_table(
        "request_keys",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("resource_id", sa.String(64), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.execute(
        """
        INSERT INTO request_keys (key, kind, resource_id, request_hash, created_at)
        SELECT key,
               CASE WHEN convert_from(substring(response FROM 3), 'UTF8') LIKE 'ret\\_%'
                    THEN 'return' ELSE 'order' END,
               convert_from(substring(response FROM 3), 'UTF8'),
               request_hash,
               created_at
        FROM idempotency_keys
        WHERE key NOT LIKE 'progress:%' AND response IS NOT NULL
        """
    )
    op.execute(
        """
        INSERT INTO applied_events (event_id, applied_at)
        SELECT substring(key FROM 10), created_at
        FROM idempotency_keys
        WHERE key LIKE 'progress:%'
        """
    )
    op.drop_table("idempotency_keys")
