"""Alembic environment for the customers database."""

from services.common.migrations import run_env
from services.customers.store import metadata

run_env(metadata)
