"""The development provider's books leave the payments schema.

Databases migrated while 0001 still created dev_provider_operations have
it; the dev provider now keeps its books in its own `dev_provider`
schema, made by its own step only when PAYMENT_PROVIDER=dev
(services/payments/adapters/dev_provider.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-06-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP TABLE IF EXISTS dev_provider_operations")


def downgrade() -> None:
    # The table belonged to the dev provider, which makes its own books.
    pass
