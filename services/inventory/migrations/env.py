"""Alembic environment of the inventory database."""

from services.common.migrations import run_env
from services.inventory.store.tables import metadata

run_env(metadata)
