"""Wiring for `python -m services.payments.main`: settings, database, provider, server."""

from __future__ import annotations

import asyncio

import grpc

from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.db import Database
from services.common.logs import setup_logging
from services.common.server import serve
from services.common.settings import ServiceSettings
from services.payments.dev_provider import DevPaymentProvider
from services.payments.service import PaymentsServicer

SERVICE_NAME = payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name


class PaymentsSettings(ServiceSettings):
    grpc_port: int = 50054
    # Only "dev" so far; Stripe or Adyen would plug in behind provider.PaymentProvider.
    payment_provider: str = "dev"


async def run(settings: PaymentsSettings) -> None:
    setup_logging("payments", settings.log_level)
    if settings.payment_provider != "dev":
        raise SystemExit(f"unknown PAYMENT_PROVIDER {settings.payment_provider!r}")
    database = Database(settings.database_url)
    # The dev provider stands for an external system: its own small pool, so
    # it never waits on connections held by the service's transactions.
    provider_database = Database(settings.database_url, pool_size=5)
    servicer = PaymentsServicer(database, DevPaymentProvider(provider_database))

    def register(server: grpc.aio.Server) -> None:
        payments_pb2_grpc.add_PaymentsServiceServicer_to_server(servicer, server)

    await serve(
        settings=settings,
        database=database,
        register=register,
        service_names=[SERVICE_NAME],
        on_stop=provider_database.dispose,
    )


if __name__ == "__main__":
    asyncio.run(run(PaymentsSettings()))  # type: ignore[call-arg]
