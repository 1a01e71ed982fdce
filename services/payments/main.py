"""Wiring for `python -m services.payments.main`: settings, database, provider, server."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import grpc

from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from services.common.db import Database
from services.common.logs import setup_logging
from services.common.server import serve
from services.common.settings import ServiceSettings
from services.payments.dev_provider import DevPaymentProvider
from services.payments.provider import DEFAULT_TIMEOUT_SECONDS
from services.payments.service import PaymentPolicy, PaymentsServicer

SERVICE_NAME = payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"].full_name


class PaymentsSettings(ServiceSettings):
    grpc_port: int = 50054
    # Only "dev" so far; Stripe or Adyen would plug in behind provider.PaymentProvider.
    payment_provider: str = "dev"
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
    setup_logging("payments", settings.log_level)
    if settings.payment_provider != "dev":
        raise SystemExit(f"unknown PAYMENT_PROVIDER {settings.payment_provider!r}")
    database = Database(settings.database_url)
    # The dev provider stands for an external system: its own small pool, so
    # it never waits on connections held by the service's transactions.
    provider_database = Database(settings.database_url, pool_size=5)
    servicer = PaymentsServicer(database, DevPaymentProvider(provider_database), settings.policy())
    sweeper = asyncio.create_task(
        servicer.expire_lapsed_forever(settings.expiry_sweep_interval_seconds)
    )

    def register(server: grpc.aio.Server) -> None:
        payments_pb2_grpc.add_PaymentsServiceServicer_to_server(servicer, server)

    async def stop_sweeping() -> None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper

    await serve(
        settings=settings,
        database=database,
        register=register,
        service_names=[SERVICE_NAME],
        on_stopping=stop_sweeping,
        on_stop=provider_database.dispose,
    )


if __name__ == "__main__":
    asyncio.run(run(PaymentsSettings()))  # type: ignore[call-arg]
