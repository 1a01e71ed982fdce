"""Wiring for the orders service: `python -m services.orders.main`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client

from omni.customers.v1 import customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2_grpc
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.payments.v1 import payments_pb2_grpc
from services.common.channels import open_channel
from services.common.db import Database
from services.common.identity import always, service_identity
from services.common.plain_session import PlainDatabase
from services.common.server import run_then_exit, serve
from services.common.settings import ServiceSettings, setting
from services.common.temporal_client_tracing import ClientTracing
from services.common.temporal_codec import data_converter
from services.orders.access import ACCESS
from services.orders.adapters.catalog import InventoryCatalog
from services.orders.adapters.customers import CustomerMerges
from services.orders.adapters.journeys import TemporalJourneys
from services.orders.adapters.payments import PaymentsClient
from services.orders.adapters.placement import TemporalPlacements
from services.orders.adapters.products import InventoryProducts
from services.orders.adapters.stock import InventoryStock
from services.orders.adapters.till import CustomerHistory, TillInventory, TillPaymentsClient
from services.orders.placement import Placing, recover_placements
from services.orders.quoting import Pricing, QuoteCache
from services.orders.service import OrdersServicer
from services.orders.staff import Staff
from services.orders.store import PostgresStorage
from services.orders.store.pricing import PostgresPricingTables
from services.orders.store.staff import PostgresStaffTables
from services.orders.till import Till
from services.orders.use_cases import Dependencies

# The new-tender wait may be set up to this (PAYMENT_DEADLINE_HOURS).
MAX_PAYMENT_DEADLINE_HOURS = 720.0


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
    # Placement taken by this service (services/orders/placement.py): it
    # authorizes at payments itself. False leaves placing to the journey's
    # `place` update (the path before issue 10).
    payments_addr: str = "127.0.0.1:50054"
    placement_by_orders: bool = True
    # Recovery: a pending placement nobody moved for this long is given back
    # (its journey started with `abandoned`); looked for this often.
    placement_recovery_after_seconds: float = 120.0
    placement_recovery_every_seconds: float = 30.0
    # Test stacks only (tests/faults/test_placement_crash.py): when this file
    # names a placement step, the process kills itself (SIGKILL) right after
    # that step, once.
    placement_fault_file: str = ""
    # A shipment no one location can ship is split over at most this many (issue 11).
    max_splits: int = 3
    # How long an order whose card re-authorization was declined waits for a
    # new tender (POST /v1/orders/{id}/payment) before it is cancelled (issue
    # 11); passed into every journey this service starts. Fractional hours
    # are allowed (a test stack may wait seconds); at most 30 days.
    payment_deadline_hours: float = setting(48.0, gt=0, le=MAX_PAYMENT_DEADLINE_HOURS)


def failpoint(path: str) -> Callable[[str], None]:
    """The placement checkpoint: kills this process after the step `path` names."""
    if not path:
        return lambda _step: None
    armed = Path(path)

    def checkpoint(step: str) -> None:
        try:
            wanted = armed.read_text().strip()
        except OSError:
            return
        if wanted == step:
            armed.unlink(missing_ok=True)
            logging.getLogger(__name__).warning("failpoint: killed after %s", step)
            os.kill(os.getpid(), signal.SIGKILL)

    return checkpoint


async def recover_forever(deps: Dependencies, placing: Placing, every: float) -> None:
    """Gives back the placements that stopped half way (a crash, a lost answer)."""
    logger = logging.getLogger(__name__)
    while True:
        try:
            while await recover_placements(deps, placing):
                pass
        except Exception:
            logger.exception("placement recovery failed; trying again later")
        await asyncio.sleep(every)


async def run(settings: OrdersSettings) -> None:
    database = Database(settings.database_url)
    # Every statement of the service's stores runs on plain asyncpg
    # (services/common/plain_session.py); the engine above answers the
    # readiness pings. As many connections as the engine's pool and overflow.
    statements = await PlainDatabase.open(settings.database_url)
    inventory_channel = open_channel(settings.inventory_addr, always(service_identity("orders")))
    customers_channel = open_channel(settings.customers_addr, always(service_identity("orders")))
    payments_channel = open_channel(settings.payments_addr, always(service_identity("orders")))

    # Built before serving: no OMNI_CODEC_KEY, no start (services/common/temporal_codec.py).
    converter = data_converter()

    async def connect() -> Client:
        return await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            # The client half of Temporal's tracing only (no worker machinery).
            interceptors=[ClientTracing()],
            data_converter=converter,
        )

    # The table of tax rates is the default TaxProvider.
    pricing_tables = PostgresPricingTables(statements)
    journeys = TemporalJourneys(
        connect,
        place_timeout=timedelta(seconds=settings.place_timeout_seconds),
        action_timeout=timedelta(seconds=settings.action_timeout_seconds),
        payment_deadline_hours=settings.payment_deadline_hours,
    )
    placing = (
        Placing(
            stock=InventoryStock(inventory_pb2_grpc.InventoryServiceStub(inventory_channel)),
            payments=PaymentsClient(payments_pb2_grpc.PaymentsServiceStub(payments_channel)),
            placements=TemporalPlacements(journeys),
            checkpoint=failpoint(settings.placement_fault_file),
            recover_after=timedelta(seconds=settings.placement_recovery_after_seconds),
            max_splits=settings.max_splits,
        )
        if settings.placement_by_orders
        else None
    )
    dependencies = Dependencies(
        storage=PostgresStorage(statements),
        journeys=journeys,
        products=InventoryProducts(inventory_pb2_grpc.InventoryServiceStub(inventory_channel)),
        staff=Staff(PostgresStaffTables(statements)),
        pricing=Pricing(
            catalog=InventoryCatalog(inventory_pb2_grpc.InventoryServiceStub(inventory_channel)),
            tables=pricing_tables,
            tax=pricing_tables,
            cache=QuoteCache(settings.quote_cache_seconds),
        ),
        placing=placing,
        till=Till(
            stock=TillInventory(inventory_pb2_grpc.InventoryServiceStub(inventory_channel)),
            payments=TillPaymentsClient(payments_pb2_grpc.PaymentsServiceStub(payments_channel)),
            history=CustomerHistory(customers_pb2_grpc.CustomersServiceStub(customers_channel)),
            checkpoint=failpoint(settings.placement_fault_file),
            recover_after=timedelta(seconds=settings.placement_recovery_after_seconds),
        )
        if settings.placement_by_orders
        else None,
    )
    servicer = OrdersServicer(
        same_customer=CustomerMerges(
            customers_pb2_grpc.CustomersServiceStub(customers_channel)
        ).same_customer,
        dependencies=dependencies,
    )
    recovery = (
        asyncio.create_task(
            recover_forever(dependencies, placing, settings.placement_recovery_every_seconds)
        )
        if placing is not None
        else None
    )

    async def stop_recovery() -> None:
        if recovery is not None:
            recovery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await recovery

    async def on_stop() -> None:
        await inventory_channel.close()
        await customers_channel.close()
        await payments_channel.close()
        await statements.close()

    await serve(
        settings=settings,
        database=database,
        register=lambda server: orders_pb2_grpc.add_OrdersServiceServicer_to_server(
            servicer, server
        ),
        service_names=[orders_pb2.DESCRIPTOR.services_by_name["OrdersService"].full_name],
        access=ACCESS,
        on_stopping=stop_recovery,
        on_stop=on_stop,
    )


def main() -> None:
    settings = OrdersSettings()  # DATABASE_URL from the env
    run_then_exit("orders", settings.log_level, lambda: run(settings), logging.getLogger(__name__))


if __name__ == "__main__":
    main()
