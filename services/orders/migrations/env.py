"""Alembic environment for the orders database."""

from services.common.migrations import run_env
from services.orders.store.tables import metadata

run_env(metadata)
