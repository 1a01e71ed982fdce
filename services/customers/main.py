"""Wiring for `python -m services.customers.main`: settings, database, server."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import grpc

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.codec_keys import CodecKeys
from services.common.db import Database
from services.common.plain_session import PlainDatabase
from services.common.server import run_then_exit, serve
from services.common.settings import ServiceSettings
from services.customers import access, store
from services.customers.adapters.outbox import DevelopmentSender, OutboxDrainer
from services.customers.adapters.reminders import CartReminders
from services.customers.domain import DeliveryRetry
from services.customers.service import CustomersServicer
from services.customers.use_cases import Dependencies

if TYPE_CHECKING:
    from temporalio.client import Client

SERVICE_NAME = customers_pb2.DESCRIPTOR.services_by_name["CustomersService"].full_name


class CustomersSettings(ServiceSettings):
    grpc_port: int = 50053
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # Off: carts are kept but no reminder workflow is started.
    cart_reminders: bool = True
    # How long a cart sits unchanged before the one reminder goes out.
    cart_reminder_idle_hours: float = 24.0
    # Points per whole currency unit of a completed order.
    loyalty_points_per_unit: int = 1
    # A message the sender refused is tried again after 30 s, 60 s, 120 s, ...
    # (at most an hour apart), `notification_max_attempts` times in all.
    notification_retry_base_seconds: float = 30.0
    notification_retry_max_seconds: float = 3600.0
    notification_max_attempts: int = 8
    # How often the outbox drainer looks for messages due again.
    outbox_poll_seconds: float = 5.0


async def run(settings: CustomersSettings) -> None:
    if settings.cart_reminders:
        # Reminders are Temporal workflows: no OMNI_CODEC_KEY, no start (as
        # every Temporal client of Omni), checked without importing the SDK.
        CodecKeys.from_env()
    database = Database(settings.database_url)
    # Every statement of the service runs on plain asyncpg
    # (services/common/plain_session.py); the engine answers the readiness pings.
    statements = await PlainDatabase.open(settings.database_url)

    async def connect() -> Client:
        # The Temporal SDK is imported on the first cart change, not at start:
        # it is ~20 MiB of an idle process's RSS, and only reminders need it
        # (docs/capacity.md, "Footprint"). The key was checked at start.
        from temporalio.client import Client

        from services.common.temporal_codec import data_converter

        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=data_converter(),
        )

    retry = DeliveryRetry(
        base_seconds=settings.notification_retry_base_seconds,
        max_seconds=settings.notification_retry_max_seconds,
        max_attempts=settings.notification_max_attempts,
    )
    drainer = OutboxDrainer(
        statements, DevelopmentSender(), retry, poll_seconds=settings.outbox_poll_seconds
    )
    servicer = CustomersServicer(
        Dependencies(
            database=statements,
            store=store,
            reminders=CartReminders(
                connect if settings.cart_reminders else None,
                settings.cart_reminder_idle_hours * 3600,
            ),
            deliver=drainer.deliver,
            points_per_unit=settings.loyalty_points_per_unit,
        )
    )

    def register(server: grpc.aio.Server) -> None:
        customers_pb2_grpc.add_CustomersServiceServicer_to_server(servicer, server)

    stop_draining = asyncio.Event()
    draining = asyncio.create_task(drainer.run(stop_draining))

    async def stop_drainer() -> None:
        # Before the server stops and the database is closed under it.
        stop_draining.set()
        await draining

    try:
        await serve(
            settings=settings,
            database=database,
            register=register,
            service_names=[SERVICE_NAME],
            access=access.table(statements),
            on_stopping=stop_drainer,
        )
    finally:
        await stop_drainer()
        await statements.close()


def main() -> None:
    settings = CustomersSettings()  # DATABASE_URL from the env
    run_then_exit(
        "customers", settings.log_level, lambda: run(settings), logging.getLogger(__name__)
    )


if __name__ == "__main__":
    main()
