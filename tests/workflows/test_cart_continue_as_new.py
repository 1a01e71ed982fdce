"""The cart reminder does not grow without end (issue 10, defect 9): after
MAX_CHANGES_PER_RUN changes it continues as new, carrying the cart's version
and items, and still sends exactly one reminder for the last version."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.workflows.fakes import FakeServices
from tests.workflows.journeys import unique
from tests.workflows.test_cart_reminder import cart_changed, reminder_worker
from workflows.carts.reminder import MAX_CHANGES_PER_RUN, REMINDED
from workflows.contracts.carts import CartChange


async def test_a_busy_cart_continues_as_new_and_reminds_once(env: WorkflowEnvironment) -> None:
    fakes = FakeServices()
    customer_id = unique("cus")
    changes = MAX_CHANGES_PER_RUN + 5
    async with reminder_worker(env.client, fakes) as task_queue:
        first = await cart_changed(env.client, task_queue, customer_id, CartChange(1, 1))
        for version in range(2, changes + 1):
            handle = await cart_changed(
                env.client, task_queue, customer_id, CartChange(version, version % 7 + 1)
            )
        assert await handle.result() == REMINDED
        described = await env.client.get_workflow_handle(
            first.id, run_id=first.result_run_id
        ).describe()
    assert described.status == WorkflowExecutionStatus.CONTINUED_AS_NEW
    [reminder] = fakes.called("notify")
    assert reminder.notification_id.endswith(f"/reminder/{changes}")
    assert reminder.details == {"items": str(changes % 7 + 1)}
