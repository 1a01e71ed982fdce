"""Notification delivery retries on real PostgreSQL: a sender that refuses,
the drainer's backoff, the attempt cap, and one delivery per message."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from omni.words import IdentityKind, NotificationKind, NotificationStatus
from services.common.plain_session import PlainDatabase
from services.customers import domain, store
from services.customers.adapters.outbox import OutboxDrainer, deliver
from services.customers.domain import DeliveryRetry, Identity, Notification
from services.customers.store import notifications

RETRY = DeliveryRetry(base_seconds=30, max_seconds=3600, max_attempts=4)


@dataclass
class FlakySender:
    """Refuses the first `failures` sends, then delivers; keeps what it delivered."""

    failures: int = 0
    delay_seconds: float = 0.0
    attempts: int = 0
    delivered: list[tuple[str, str]] = field(default_factory=list)

    async def send(self, address: str, message: Notification) -> None:
        self.attempts += 1
        await asyncio.sleep(self.delay_seconds)  # a slow provider, for the overlap test
        if self.attempts <= self.failures:
            raise ConnectionError("provider down")
        self.delivered.append((address, message.notification_id))


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("customers")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[PlainDatabase]:
    db = await PlainDatabase.open(database_url, 4)
    yield db
    await db.close()


async def queued_message(database: PlainDatabase) -> tuple[domain.Customer, Notification]:
    """A customer with an email, and one queued (not yet delivered) message."""
    email = f"outbox.{uuid.uuid4().hex[:10]}@example.com"
    customer_id = str(uuid.uuid4())
    async with database.unit_of_work() as uow:
        identity = Identity(IdentityKind.EMAIL, email)
        assert await store.insert_customer(uow.session, customer_id, "Ada", [identity])
        customer = await store.get_customer(uow.session, customer_id)
        message = domain.compose_notification(
            f"test/{uuid.uuid4().hex}", NotificationKind.PICKUP_READY, "ord-1", {}, customer
        )
        stored = await store.queue_notification(uow.session, customer.customer_id, message)
        await uow.commit()
    assert stored.status == NotificationStatus.QUEUED
    return customer, stored


async def status_of(
    database: PlainDatabase, customer_id: str, notification_id: str
) -> Notification:
    async with database.unit_of_work() as uow:
        page = await store.list_notifications(uow.session, customer_id, 200, None)
    [message] = [m for m in page.items if m.notification_id == notification_id]
    return message


def only(batch: list[Notification], message: Notification) -> list[Notification]:
    """This test's message in a drain round (other tests share the outbox)."""
    return [m for m in batch if m.notification_id == message.notification_id]


def test_backoff_doubles_up_to_the_cap_then_gives_up() -> None:
    retry = DeliveryRetry(base_seconds=30, max_seconds=100, max_attempts=5)
    assert [retry.delay_after(n) for n in range(1, 6)] == [30.0, 60.0, 100.0, 100.0, None]


async def test_a_refused_message_is_retried_with_backoff_until_delivered(
    database: PlainDatabase,
) -> None:
    customer, message = await queued_message(database)
    sender = FlakySender(failures=2)
    drainer = OutboxDrainer(database, sender, RETRY)
    start = datetime.now(UTC)

    first = await deliver(database, sender, customer, message, RETRY, start)
    assert (first.status, first.attempts) == (NotificationStatus.QUEUED, 1)
    # Not due yet: the first retry waits 30 s.
    assert only(await drainer.drain_once(start + timedelta(seconds=20)), message) == []
    [second] = only(await drainer.drain_once(start + timedelta(seconds=31)), message)
    assert (second.status, second.attempts) == (NotificationStatus.QUEUED, 2)
    # The second retry waits 60 s after the second attempt.
    assert only(await drainer.drain_once(start + timedelta(seconds=80)), message) == []
    [third] = only(await drainer.drain_once(start + timedelta(seconds=92)), message)
    assert third.status == NotificationStatus.SENT

    stored = await status_of(database, customer.customer_id, message.notification_id)
    assert (stored.status, stored.attempts) == (NotificationStatus.SENT, 2)
    assert sender.delivered == [(customer.first(IdentityKind.EMAIL), message.notification_id)]
    # Sent: nothing left to drain, however late.
    assert only(await drainer.drain_once(start + timedelta(days=30)), message) == []
    assert sender.attempts == 3


async def test_a_message_the_sender_always_refuses_ends_failed(database: PlainDatabase) -> None:
    customer, message = await queued_message(database)
    sender = FlakySender(failures=1_000)
    drainer = OutboxDrainer(database, sender, RETRY)
    at = datetime.now(UTC)
    await deliver(database, sender, customer, message, RETRY, at)
    for _ in range(RETRY.max_attempts + 2):
        at += timedelta(seconds=RETRY.max_seconds + 1)
        await drainer.drain_once(at)

    stored = await status_of(database, customer.customer_id, message.notification_id)
    assert (stored.status, stored.attempts) == (NotificationStatus.FAILED, RETRY.max_attempts)
    assert sender.attempts == RETRY.max_attempts
    assert sender.delivered == []


async def test_two_drainers_deliver_a_due_message_once(database: PlainDatabase) -> None:
    customer, message = await queued_message(database)
    refusing = FlakySender(failures=1)
    at = datetime.now(UTC)
    await deliver(database, refusing, customer, message, RETRY, at)

    sender = FlakySender(delay_seconds=0.3)
    replicas = [OutboxDrainer(database, sender, RETRY) for _ in range(2)]
    due = at + timedelta(seconds=31)
    rounds = await asyncio.gather(*(replica.drain_once(due) for replica in replicas))

    assert [m.status for batch in rounds for m in only(batch, message)] == [NotificationStatus.SENT]
    assert [n for _, n in sender.delivered].count(message.notification_id) == 1


async def test_the_request_path_has_a_head_start_before_the_drainer(
    database: PlainDatabase,
) -> None:
    _, message = await queued_message(database)
    sender = FlakySender()
    drainer = OutboxDrainer(database, sender, RETRY)
    # Just queued: the request that queued it is delivering it now.
    assert only(await drainer.drain_once(datetime.now(UTC)), message) == []
    # A request that died before delivering: the drainer takes over after the lease.
    later = datetime.now(UTC) + notifications.INLINE_DELIVERY_LEASE + timedelta(seconds=1)
    assert [m.status for m in only(await drainer.drain_once(later), message)] == [
        NotificationStatus.SENT
    ]
