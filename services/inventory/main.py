"""Runs the inventory service: `python -m services.inventory.main`."""

from __future__ import annotations

import asyncio

import grpc

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common.db import Database
from services.common.logs import setup_logging
from services.common.server import serve
from services.common.settings import ServiceSettings
from services.inventory.service import InventoryService

SERVICE_NAME = inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"].full_name


class InventorySettings(ServiceSettings):
    grpc_port: int = 50051


async def run(settings: InventorySettings) -> None:
    database = Database(settings.database_url)

    def register(server: grpc.aio.Server) -> None:
        inventory_pb2_grpc.add_InventoryServiceServicer_to_server(
            InventoryService(database), server
        )

    await serve(
        settings=settings, database=database, register=register, service_names=[SERVICE_NAME]
    )


def main() -> None:
    settings = InventorySettings()  # type: ignore[call-arg]  # DATABASE_URL from the env
    setup_logging("inventory", settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
