"""Alembic, shared: every service keeps its own `migrations/` folder and
database, and both its env.py and the `omni migrate` command come through here."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from services.common.db import async_url

SERVICES_DIR = Path(__file__).resolve().parent.parent
SERVICES_WITH_DATABASES = ("inventory", "orders", "customers", "payments", "gateway")
# pg_advisory_xact_lock key that serialises concurrent upgrades of one database.
MIGRATION_LOCK = 7_262_001


def alembic_config(service: str, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    config.set_main_option("sqlalchemy.url", async_url(database_url))
    return config


def upgrade(service: str, database_url: str, revision: str = "head") -> None:
    """Brings `service`'s database to `revision`. Not for use inside a running loop."""
    command.upgrade(alembic_config(service, database_url), revision)


def run_env(target_metadata: MetaData) -> None:
    """The body of every service's migrations/env.py (online mode, asyncpg)."""
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            # Pods starting together (each runs the migration in an init
            # container) take turns; the later ones find the database current.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()

    async def run() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())
