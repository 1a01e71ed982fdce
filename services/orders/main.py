"""Wiring for the orders service: `python -m services.orders.main`."""

from __future__ import annotations

import logging
from datetime import timedelta

from temporalio.client import Client

from omni.customers.v1 import customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2_grpc
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from services.common.channels import open_channel
from services.common.db import Database
from services.common.identity import always, service_identity
from services.common.server import run_then_exit, serve
from services.common.settings import ServiceSettings
from services.common.telemetry import temporal_interceptors
from services.common.temporal_codec import data_converter
from services.orders.access import ACCESS
from services.orders.adapters.catalog import InventoryCatalog
from services.orders.adapters.customers import CustomerMerges
from services.orders.adapters.journeys import TemporalJourneys
from services.orders.adapters.products import InventoryProducts
from services.orders.quoting import Pricing, QuoteCache
from services.orders.service import OrdersServicer
from services.orders.store import PostgresStorage
from services.orders.store.pricing import PostgresPricingTables
from services.orders.use_cases import Dependencies


class OrdersSettings(ServiceSettings):
    grpc_port: int = 50052
    inventory_addr: str = "127.0.0.1:50051"
    # Quotes and carts keep their pricing inputs this long (0: never); orders
    # always read them fresh (services/orders/quoting.py).
    quote_cache_seconds: float = 1.0
    # Resolves customers' merged ids for the object-level checks (access.py).
    customers_addr: str = "127.0.0.1:50053"
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    # How long PlaceOrder waits for the journey's answer (stock + payment).
    place_timeout_seconds: float = 60.0
    action_timeout_seconds: float = 30.0


async def run(settings: OrdersSettings) -> None:
    database = Database(settings.database_url)
    inventory_channel = open_channel(settings.inventory_addr, always(service_identity("orders")))
    customers_channel = open_channel(settings.customers_addr, always(service_identity("orders")))

    # Built before serving: no OMNI_CODEC_KEY, no start (services/common/temporal_codec.py).
    converter = data_converter()

    async def connect() -> Client:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            interceptors=temporal_interceptors(),
            data_converter=converter,
        )

    # The table of tax rates is the default TaxProvider.
    pricing_tables = PostgresPricingTables(database)
    journeys = TemporalJourneys(
        connect,
        place_timeout=timedelta(seconds=settings.place_timeout_seconds),
        action_timeout=timedelta(seconds=settings.action_timeout_seconds),
    )
    servicer = OrdersServicer(
        same_customer=CustomerMerges(
            customers_pb2_grpc.CustomersServiceStub(customers_channel)
        ).same_customer,
        dependencies=Dependencies(
            storage=PostgresStorage(database),
            journeys=journeys,
            products=InventoryProducts(inventory_pb2_grpc.InventoryServiceStub(inventory_channel)),
            pricing=Pricing(
                catalog=InventoryCatalog(
                    inventory_pb2_grpc.InventoryServiceStub(inventory_channel)
                ),
                tables=pricing_tables,
                tax=pricing_tables,
                cache=QuoteCache(settings.quote_cache_seconds),
            ),
        ),
    )

    async def on_stop() -> None:
        await inventory_channel.close()
        await customers_channel.close()

    await serve(
        settings=settings,
        database=database,
        register=lambda server: orders_pb2_grpc.add_OrdersServiceServicer_to_server(
            servicer, server
        ),
        service_names=[orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name],
        access=ACCESS,
        on_stop=on_stop,
    )


def main() -> None:
    settings = OrdersSettings()  # DATABASE_URL from the env
    run_then_exit("orders", settings.log_level, lambda: run(settings), logging.getLogger(__name__))


if __name__ == "__main__":
    main()
