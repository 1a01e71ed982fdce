"""Wiring for `python -m services.customers.main`: settings, database, server."""

from __future__ import annotations

import asyncio

import grpc

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.db import Database
from services.common.logs import setup_logging
from services.common.server import serve
from services.common.settings import ServiceSettings
from services.customers.service import CustomersServicer

SERVICE_NAME = customers_pb2.DESCRIPTOR.services_by_name["CustomersService"].full_name


class CustomersSettings(ServiceSettings):
    grpc_port: int = 50053


async def run(settings: CustomersSettings) -> None:
    setup_logging("customers", settings.log_level)
    database = Database(settings.database_url)
    servicer = CustomersServicer(database)

    def register(server: grpc.aio.Server) -> None:
        customers_pb2_grpc.add_CustomersServiceServicer_to_server(servicer, server)

    await serve(
        settings=settings, database=database, register=register, service_names=[SERVICE_NAME]
    )


if __name__ == "__main__":
    asyncio.run(run(CustomersSettings()))  # type: ignore[call-arg]
