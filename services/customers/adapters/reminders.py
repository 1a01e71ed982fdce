"""The customers service's side of Temporal: tell `cart-<customer_id>` about
every cart change (signal-with-start), so its idle timer restarts.

Best effort after the cart is committed: when Temporal cannot be reached the
write still succeeds and the failure is logged; the next change retries.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from services.customers.domain import Cart
from workflows.contracts.carts import (
    CART_CHANGED_SIGNAL,
    CART_REMINDER_WORKFLOW,
    CartChange,
    CartReminderInput,
    cart_workflow_id,
)
from workflows.contracts.journeys import TASK_QUEUE

if TYPE_CHECKING:
    # Imported for real only when a reminder is sent (services/customers/main.py).
    from temporalio.client import Client

logger = logging.getLogger(__name__)

SIGNAL_TIMEOUT_SECONDS = 5.0


class CartReminders:
    def __init__(
        self, connect: Callable[[], Awaitable[Client]] | None, idle_seconds: float
    ) -> None:
        """`connect` None: reminders are off (nothing is sent to Temporal)."""
        self._connect = connect
        self._idle_seconds = idle_seconds
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def _get_client(self) -> Client | None:
        if self._connect is None:
            return None
        async with self._lock:
            if self._client is None:
                self._client = await self._connect()
        return self._client

    async def cart_changed(self, cart: Cart) -> None:
        try:
            await asyncio.wait_for(self._signal(cart), SIGNAL_TIMEOUT_SECONDS)
        except Exception as error:
            logger.warning(
                "cart reminder for %s not updated: %s", cart_workflow_id(cart.customer_id), error
            )

    async def _signal(self, cart: Cart) -> None:
        client = await self._get_client()
        if client is None:
            return
        from temporalio.service import RPCError, RPCStatusCode

        change = CartChange(version=cart.version, items=cart.items, closed=cart.items == 0)
        workflow_id = cart_workflow_id(cart.customer_id)
        if change.closed:
            # Nothing to remind about: only a running reminder needs to hear it.
            try:
                await client.get_workflow_handle(workflow_id).signal(CART_CHANGED_SIGNAL, change)
            except RPCError as error:
                if error.status != RPCStatusCode.NOT_FOUND:
                    raise
            return
        await client.start_workflow(
            CART_REMINDER_WORKFLOW,
            CartReminderInput(customer_id=cart.customer_id, idle_seconds=self._idle_seconds),
            id=workflow_id,
            task_queue=TASK_QUEUE,
            start_signal=CART_CHANGED_SIGNAL,
            start_signal_args=[change],
            # What the Temporal UI lists it as (ids only).
            static_summary=f"cart reminder · customer {cart.customer_id}",
        )
