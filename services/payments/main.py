"""Wiring for `python -m services.payments.main`: settings, database, provider, server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Literal

from omni.customers.v1 import customers_pb2_grpc
from omni.orders.v1 import orders_pb2_grpc
from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.channels import open_channel
from services.common.customer_merges import CustomerMerges
from services.common.db import Database
from services.common.identity import always, service_identity
from services.common.plain_session import PlainDatabase
from services.common.server import run_then_exit, serve
from services.common.settings import ServiceSettings
from services.payments.access import ACCESS
from services.payments.adapters import dev_provider
from services.payments.adapters.expiry_sweep import sweep_forever
from services.payments.adapters.orders import OrdersAsCaller, forward_caller
from services.payments.adapters.provider import DEFAULT_TIMEOUT_SECONDS
from services.payments.service import PaymentsServicer
from services.payments.store import gift_cards, payments, store_credit
from services.payments.store.transactions import DatabaseTransactions
from services.payments.use_cases import App, PaymentPolicy

SERVICE_NAME = payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name
# The dev provider's own pool: its books are written in their own transactions
# while a payments transaction waits for its answer, so on the service's pool
# a burst of authorizations holds every connection and waits for one more.
# Measured: 40 concurrent card authorizations took 2.0 s, all approved, with
# this pool; on the shared one 29 of 40 failed waiting for a connection.
DEV_PROVIDER_POOL_SIZE = 10  # as many as the SQLAlchemy pool it replaced (5 + 5 overflow)


class PaymentsSettings(ServiceSettings):
    grpc_port: int = 50054
    # Object checks (access.py): who may see an order (GetOrder asked as the
    # caller) and which customer ids are one after merges.
    orders_addr: str = "127.0.0.1:50052"
    customers_addr: str = "127.0.0.1:50053"
    # Required: which provider cards go to. Only "dev" so far (`omni up` and the
    # tests set it); Stripe or Adyen would plug in behind adapters.provider.
    payment_provider: Literal["dev"]
    # How long a card authorization lives: card-present (channel pos) and not.
    card_present_authorization_hours: float = 48.0
    card_not_present_authorization_hours: float = 168.0
    # How long a gift card / store credit hold lasts; unset: until captured or voided.
    gift_card_hold_hours: float | None = None
    # Capturing a lapsed authorization re-authorizes first (else it fails).
    reauthorize_expired_authorizations: bool = True
    # How often lapsed, uncaptured authorizations are marked expired (holds released).
    expiry_sweep_interval_seconds: float = 30.0
    # Longer than tok_slow's 3 s; a timeout is resolved by a lookup, not guessed.
    provider_timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS

    def policy(self) -> PaymentPolicy:
        return PaymentPolicy(
            card_present_lifetime=timedelta(hours=self.card_present_authorization_hours),
            card_not_present_lifetime=timedelta(hours=self.card_not_present_authorization_hours),
            gift_card_hold_lifetime=(
                None
                if self.gift_card_hold_hours is None
                else timedelta(hours=self.gift_card_hold_hours)
            ),
            reauthorize_expired=self.reauthorize_expired_authorizations,
            provider_timeout_seconds=self.provider_timeout_seconds,
        )


async def run(settings: PaymentsSettings) -> None:
    database = Database(settings.database_url)
    keyed_writes = await PlainDatabase.open(settings.database_url)
    await dev_provider.create_books(settings.database_url)
    provider = await dev_provider.DevPaymentProvider.open(
        settings.database_url, DEV_PROVIDER_POOL_SIZE
    )
    app = App(
        payments=payments,
        gift_cards=gift_cards,
        store_credit=store_credit,
        transactions=DatabaseTransactions(database, keyed_writes),
        provider=provider,
        policy=settings.policy(),
    )
    orders_channel = open_channel(settings.orders_addr, forward_caller)
    customers_channel = open_channel(settings.customers_addr, always(service_identity("payments")))
    servicer = PaymentsServicer(
        app, orders=OrdersAsCaller(orders_pb2_grpc.OrdersServiceStub(orders_channel)).order_visible
    )
    merges = CustomerMerges(customers_pb2_grpc.CustomersServiceStub(customers_channel))
    sweeper = asyncio.create_task(sweep_forever(app, settings.expiry_sweep_interval_seconds))

    async def stop_sweeping() -> None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    async def stop() -> None:
        await orders_channel.close()
        await customers_channel.close()
        await provider.close()
        await keyed_writes.close()

    await serve(
        settings=settings,
        database=database,
        register=lambda server: payments_pb2_grpc.add_PaymentsServiceServicer_to_server(
            servicer, server
        ),
        service_names=[SERVICE_NAME],
        access=ACCESS.with_same_customer(merges.same_customer),
        on_stopping=stop_sweeping,
        on_stop=stop,
    )


def main() -> None:
    settings = PaymentsSettings()
    run_then_exit(
        "payments", settings.log_level, lambda: run(settings), logging.getLogger(__name__)
    )


if __name__ == "__main__":
    main()
