"""The abandoned-cart reminder on the time-skipping server, with fake activities."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows.fakes import FakeServices, refused
from tests.workflows.journeys import order, place, running_worker, unique
from workflows.carts.reminder import CLOSED, REMINDED, CartReminderWorkflow
from workflows.contracts.activities import CheckoutCartInput
from workflows.contracts.carts import (
    CART_CHANGED_SIGNAL,
    CART_REMINDER_WORKFLOW,
    CartChange,
    CartReminderInput,
    cart_workflow_id,
)
from workflows.contracts.journeys import (
    BOPIS_WORKFLOW,
    CANCEL_UPDATE,
    STATUS_QUERY,
    CancelInput,
    OrderStatus,
)

IDLE = timedelta(hours=24)


@asynccontextmanager
async def reminder_worker(client: Client, fakes: FakeServices) -> AsyncIterator[str]:
    task_queue = unique("carts")
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[CartReminderWorkflow],
        activities=fakes.activities(),
    ):
        yield task_queue


async def cart_changed(
    client: Client, task_queue: str, customer_id: str, change: CartChange
) -> WorkflowHandle[CartReminderWorkflow, str]:
    """What the customers service does on every cart write: signal-with-start."""
    return await client.start_workflow(
        CART_REMINDER_WORKFLOW,
        CartReminderInput(customer_id=customer_id, idle_seconds=IDLE.total_seconds()),
        id=cart_workflow_id(customer_id),
        task_queue=task_queue,
        start_signal=CART_CHANGED_SIGNAL,
        start_signal_args=[change],
        result_type=str,
    )


async def test_an_idle_cart_gets_exactly_one_reminder(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    customer_id = unique("cus")
    async with reminder_worker(env.client, fakes) as task_queue:
        handle = await cart_changed(env.client, task_queue, customer_id, CartChange(1, 3))
        assert await handle.result() == REMINDED
    reminders = fakes.called("notify")
    assert len(reminders) == 1
    assert reminders[0].kind == "cart_reminder"
    assert reminders[0].customer_id == customer_id
    assert reminders[0].details == {"items": "3"}
    assert reminders[0].notification_id == f"cart-{customer_id}/reminder/1"


async def test_every_change_restarts_the_idle_timer(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    customer_id = unique("cus")
    async with reminder_worker(env.client, fakes) as task_queue:
        handle = await cart_changed(env.client, task_queue, customer_id, CartChange(1, 1))
        await env.sleep(IDLE * 0.75)
        await cart_changed(env.client, task_queue, customer_id, CartChange(2, 2))
        # 1.5 idle periods after the first change, but only 0.75 after the last.
        await env.sleep(IDLE * 0.75)
        assert fakes.called("notify") == []
        assert await handle.result() == REMINDED
    reminders = fakes.called("notify")
    assert [r.notification_id for r in reminders] == [f"cart-{customer_id}/reminder/2"]
    assert reminders[0].details == {"items": "2"}


async def test_checkout_ends_the_reminder_without_sending(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    customer_id = unique("cus")
    async with reminder_worker(env.client, fakes) as task_queue:
        handle = await cart_changed(env.client, task_queue, customer_id, CartChange(1, 2))
        await env.sleep(IDLE / 2)
        await handle.signal(CART_CHANGED_SIGNAL, CartChange(2, 0, closed=True))
        assert await handle.result() == CLOSED
    assert fakes.called("notify") == []


async def test_a_late_older_change_is_ignored(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    customer_id = unique("cus")
    async with reminder_worker(env.client, fakes) as task_queue:
        handle = await cart_changed(env.client, task_queue, customer_id, CartChange(2, 5))
        # Version 1's "emptied" arrives after version 2 put items back.
        await handle.signal(CART_CHANGED_SIGNAL, CartChange(1, 0, closed=True))
        assert await handle.result() == REMINDED
    assert [r.notification_id for r in fakes.called("notify")] == [f"cart-{customer_id}/reminder/2"]


class CheckoutRefused(FakeServices):
    """A customers service that refuses the checkout (say, an unknown customer)."""

    @activity.defn(name="customers.checkout_cart")
    async def checkout_cart(self, request: CheckoutCartInput) -> bool:
        self._log("checkout_cart", request)
        raise refused("NOT_FOUND", "customer not found")


async def test_placing_an_order_checks_out_the_cart(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()
    assert fakes.called("checkout_cart") == [
        CheckoutCartInput(wanted.customer_id, wanted.order_id, ["SKU-A", "SKU-B"])
    ]


async def test_a_rejected_order_leaves_the_cart_alone(env: WorkflowEnvironment) -> None:
    fakes = FakeServices(out_of_stock_at={"store-1"})
    async with running_worker(env.client, fakes) as queue:
        placement, handle = await place(env.client, BOPIS_WORKFLOW, order(), queue)
        await handle.result()
    assert not placement.accepted
    assert fakes.called("checkout_cart") == []


async def test_a_refused_checkout_does_not_stop_the_order(env: WorkflowEnvironment) -> None:
    fakes = CheckoutRefused()
    async with running_worker(env.client, fakes) as queue:
        wanted = order()
        placement, handle = await place(env.client, BOPIS_WORKFLOW, wanted, queue)
        assert placement.accepted
        status = await handle.query(STATUS_QUERY, result_type=OrderStatus)
        assert status.status == "placed"
        await handle.execute_update(CANCEL_UPDATE, CancelInput("test over"))
        await handle.result()
    assert len(fakes.called("checkout_cart")) == 1
