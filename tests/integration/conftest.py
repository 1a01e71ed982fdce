"""The inventory service for the integration modules that test it: one process
per module on a freshly migrated database, a trusted channel and stub to it,
and direct access to its database for checks the API cannot show.

A module that needs other settings defines `inventory_settings`; modules of
the other services define their own `stub` and `database`, which take
precedence over these."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest

from services.common.db import Database
from tests.support.identity import trusted_channel
from tests.support.inventory import RunningInventory, Stub, running_inventory


@pytest.fixture(scope="module")
def inventory_settings() -> dict[str, str]:
    """Environment for the module's inventory process beyond the defaults."""
    return {}


@pytest.fixture(scope="module")
def inventory(
    request: pytest.FixtureRequest,
    migrated_database: Callable[[str], str],
    logs_dir: Path,
    inventory_settings: dict[str, str],
) -> Iterator[RunningInventory]:
    log = logs_dir / f"inventory-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    with running_inventory(migrated_database("inventory"), log, inventory_settings) as running:
        yield running


@pytest.fixture
async def channel(inventory: RunningInventory) -> AsyncIterator[grpc.aio.Channel]:
    async with trusted_channel(inventory.address) as opened:
        yield opened


@pytest.fixture
def stub(channel: grpc.aio.Channel) -> Stub:
    return Stub(channel)


@pytest.fixture
async def database(inventory: RunningInventory) -> AsyncIterator[Database]:
    db = Database(inventory.database_url, pool_size=1)
    yield db
    await db.dispose()
