"""Stock change notifications, heard from PostgreSQL and fanned out to watchers.

A trigger on `stock` and `safety_stock` (migration 0002) sends
`NOTIFY stock_changed '{"location_id": ..., "sku": ...}'` when a transaction
that changed a row commits, whichever replica made the change. Each process
keeps one listening connection and hands each watcher the (location, sku)
keys it asked about; the watcher reads the new values itself, for its channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.inventory.domain import StockKey

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "stock_changed"
RECONNECT_DELAY_SECONDS = 1.0


@dataclass(eq=False)
class Subscription:
    """What one watcher waits for: changed keys, or the end of the watch."""

    skus: frozenset[str]
    location_ids: frozenset[str]  # empty: every location
    changed: set[StockKey] = field(default_factory=set)
    # Set after a lost connection: notifications may have been missed.
    resync: bool = False
    closed: bool = False
    _wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    def wants(self, key: StockKey) -> bool:
        location_id, sku = key
        return sku in self.skus and (not self.location_ids or location_id in self.location_ids)

    def _notify(self, key: StockKey) -> None:
        if self.wants(key):
            self.changed.add(key)
            self._wakeup.set()

    def _wake(self, *, resync: bool = False, close: bool = False) -> None:
        self.resync = self.resync or resync
        self.closed = self.closed or close
        self._wakeup.set()

    async def next_changes(self) -> tuple[set[StockKey], bool] | None:
        """The keys changed since the last call and whether to re-read everything;
        None once the watch is over (the service is stopping)."""
        while not (self.changed or self.resync or self.closed):
            self._wakeup.clear()
            await self._wakeup.wait()
        if self.closed:
            return None
        changed, resync = self.changed, self.resync
        self.changed, self.resync = set(), False
        return changed, resync


class StockChanges:
    """One LISTEN connection per process, reconnecting when it is lost."""

    def __init__(self, postgres_url: str) -> None:
        """`postgres_url` as asyncpg takes it (postgresql://...)."""
        self.url = postgres_url
        self._subscriptions: set[Subscription] = set()
        self._connection: Any = None
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listens before returning; fails fast when the database cannot be reached."""
        await self._connect()
        self._task = asyncio.create_task(self._reconnect_when_lost())

    async def stop(self) -> None:
        """Ends every watch, so streams finish before the server's grace runs out."""
        for subscription in list(self._subscriptions):
            subscription._wake(close=True)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()

    @asynccontextmanager
    async def subscribe(
        self, skus: Iterable[str], location_ids: Iterable[str]
    ) -> AsyncIterator[Subscription]:
        """Registered before the caller reads current values, so no change falls between."""
        subscription = Subscription(frozenset(skus), frozenset(location_ids))
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        try:
            body = json.loads(str(payload))
            key = (str(body["location_id"]), str(body["sku"]))
        except (ValueError, KeyError, TypeError):
            logger.warning("ignored a malformed %s payload: %r", NOTIFY_CHANNEL, payload)
            return
        for subscription in self._subscriptions:
            subscription._notify(key)

    def _on_lost(self, _connection: Any) -> None:
        self._lost.set()

    async def _connect(self) -> None:
        self._lost.clear()
        connection = await asyncpg.connect(self.url)
        connection.add_termination_listener(self._on_lost)
        await connection.add_listener(NOTIFY_CHANNEL, self._on_notification)
        self._connection = connection

    async def _reconnect_when_lost(self) -> None:
        while True:
            await self._lost.wait()
            logger.warning("lost the %s listener connection; reconnecting", NOTIFY_CHANNEL)
            with contextlib.suppress(Exception):
                await self._connection.close()
            while True:
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)
                try:
                    await self._connect()
                    break
                except (OSError, asyncpg.PostgresError) as error:
                    logger.warning("cannot listen for stock changes yet: %s", error)
            # Changes made while nobody listened are found by re-reading.
            for subscription in list(self._subscriptions):
                subscription._wake(resync=True)
