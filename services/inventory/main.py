"""Runs the inventory service: `python -m services.inventory.main`."""

from __future__ import annotations

import asyncio
import contextlib

import grpc

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common import event_loop
from services.common.db import Database
from services.common.logs import setup_logging
from services.common.plain_sql import create_hot_pool, plain_postgres_url
from services.common.server import serve
from services.common.settings import ServiceSettings
from services.inventory import store
from services.inventory.access import ACCESS
from services.inventory.adapters.stock_changes import StockChanges
from services.inventory.service import InventoryServicer
from services.inventory.store.fast_path import HotPath
from services.inventory.store.keys import IdempotencyKeys
from services.inventory.use_cases import Inventory, sweep_expired_holds_forever

SERVICE_NAME = inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name


class InventorySettings(ServiceSettings):
    grpc_port: int = 50051
    # How late at most a soft hold stops counting when nothing reads it.
    hold_sweep_interval_seconds: float = 1.0
    database_pool_size: int = 20
    # Concurrent reservations of the same rows go in one statement (store/fast_path.py,
    # ReserveBatcher): at most this many (1: each alone). A busy row's next batch
    # waits this long for more (0: those that arrived in the same event-loop
    # tick); a row with nothing in flight is reserved at once. Chosen by
    # bench/inventory_reserve.py's window sweep (bench/README.md).
    reserve_batch_max: int = 64
    # The best window measured (bench inventory-reserve; bench/README.md).
    reserve_batch_window_ms: float = 8.0


async def run(settings: InventorySettings) -> None:
    database = Database(settings.database_url, pool_size=settings.database_pool_size)
    hot_pool = await create_hot_pool(settings.database_url, settings.database_pool_size)
    changes = StockChanges(plain_postgres_url(settings.database_url))
    await changes.start()
    inventory = Inventory(
        units=database,
        store=store,
        hot_path=HotPath(
            hot_pool,
            database.engine.url.database or "",
            batch_window=settings.reserve_batch_window_ms / 1000,
            batch_max=settings.reserve_batch_max,
        ),
        run_once=IdempotencyKeys(database),
        changes=changes,
    )
    sweeper = asyncio.create_task(
        sweep_expired_holds_forever(inventory, settings.hold_sweep_interval_seconds)
    )

    def register(server: grpc.aio.Server) -> None:
        inventory_pb2_grpc.add_InventoryServiceServicer_to_server(
            InventoryServicer(inventory), server
        )

    async def stop_background_work() -> None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        await changes.stop()

    async def close_hot_pool() -> None:
        await hot_pool.close()

    await serve(
        settings=settings,
        database=database,
        register=register,
        service_names=[SERVICE_NAME],
        access=ACCESS,
        on_stopping=stop_background_work,
        on_stop=close_hot_pool,
    )


def main() -> None:
    settings = InventorySettings()  # DATABASE_URL from the environment
    setup_logging("inventory", settings.log_level)
    event_loop.run(run(settings))


if __name__ == "__main__":
    main()
