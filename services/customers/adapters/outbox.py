"""Delivering queued notifications through a sender, and retrying the ones it refused.

The outbox row is written in the transaction that decided to send; delivery
happens after commit, through `Sender`. A refusal leaves the message queued
with a backoff (`DeliveryRetry`); `OutboxDrainer`, a background task of the
customers service, sends what is due again, and marks a message `failed` once
its attempts are spent. Delivery is at least once: a sender that times out
after delivering may deliver twice. The development sender delivers to
nowhere: the outbox itself is where tests and the console read messages
(`GET /v1/customers/{id}/notifications`). A production sender (email/SMS
provider) implements the same protocol. Only ids and kinds are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from omni.words import NotificationStatus
from services.common.plain_session import PlainDatabase
from services.customers.domain import Customer, DeliveryRetry, Notification, address_for
from services.customers.store import get_customer
from services.customers.store.notifications import claim_due, count_attempt, mark_sent, retry_at

logger = logging.getLogger(__name__)


class Sender(Protocol):
    async def send(self, address: str, message: Notification) -> None:
        """Delivers the message to `address` on `message.channel`, or raises."""


class DevelopmentSender:
    async def send(self, address: str, message: Notification) -> None:
        logger.info(
            "notification %s (%s) delivered on %s",
            message.notification_id,
            message.kind,
            message.channel,
        )


def _now() -> datetime:
    return datetime.now(UTC)


async def deliver(
    database: PlainDatabase,
    sender: Sender,
    customer: Customer,
    message: Notification,
    retry: DeliveryRetry,
    now: datetime | None = None,
) -> Notification:
    """Sends a queued message and marks it sent; a refusal is counted and the
    message stays queued for the drainer (or, out of attempts, is failed)."""
    if message.status != NotificationStatus.QUEUED:
        return message
    try:
        await sender.send(address_for(customer, message.channel), message)
    except Exception as error:
        logger.warning(
            "notification %s could not be delivered: %s",
            message.notification_id,
            type(error).__name__,
        )
        async with database.unit_of_work() as uow:
            attempts = await count_attempt(uow.session, message.notification_id)
            delay = retry.delay_after(attempts)
            at = None if delay is None else (now or _now()) + timedelta(seconds=delay)
            stored = await retry_at(uow.session, message.notification_id, at)
            await uow.commit()
        return stored
    async with database.unit_of_work() as uow:
        await mark_sent(uow.session, message.notification_id)
        await uow.commit()
    return message.sent()


class OutboxDrainer:
    """Delivers messages: once right after they are queued (`deliver`), and
    again, in the background, when a refused one's retry time has come.

    Each round leases a batch (rows other replicas hold are skipped), so any
    number of customers service replicas may drain the same outbox.
    """

    def __init__(
        self,
        database: PlainDatabase,
        sender: Sender,
        retry: DeliveryRetry,
        *,
        poll_seconds: float = 5.0,
        batch_size: int = 50,
        lease: timedelta = timedelta(seconds=60),
    ) -> None:
        self._database = database
        self._sender = sender
        self._retry = retry
        self._poll_seconds = poll_seconds
        self._batch_size = batch_size
        self._lease = lease

    async def deliver(self, customer: Customer, message: Notification) -> Notification:
        """The first delivery of a message just queued (the use cases' `Deliver`)."""
        return await deliver(self._database, self._sender, customer, message, self._retry)

    async def drain_once(self, now: datetime | None = None) -> list[Notification]:
        """One round: every message due by `now`, tried once. Returns them as they ended."""
        at = now or _now()
        async with self._database.unit_of_work() as uow:
            due = await claim_due(uow.session, at, self._batch_size, self._lease)
            await uow.commit()
        delivered: list[Notification] = []
        for customer_id, message in due:
            async with self._database.unit_of_work() as uow:
                customer = await get_customer(uow.session, customer_id)
            delivered.append(
                await deliver(self._database, self._sender, customer, message, self._retry, at)
            )
        return delivered

    async def run(self, stop: asyncio.Event) -> None:
        """Drains until `stop` is set; a failed round (database down) is logged and retried."""
        while not stop.is_set():
            try:
                await self.drain_once()
            except Exception:
                logger.exception("outbox drain failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._poll_seconds)
