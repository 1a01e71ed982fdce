"""The abandoned-cart reminder: one workflow per active cart, `cart-<customer_id>`.

Every cart change arrives as a signal (signal-with-start, so the first change
starts it) and restarts the idle timer. After `idle_seconds` without a change
it sends one reminder and ends; a later change starts a fresh run. Emptying
or checking out the cart ends it without a reminder. A busy cart's history
does not grow without end: after MAX_CHANGES_PER_RUN changes (or when Temporal
suggests it) the run continues as new with the cart's version and items.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from workflows.order.policies import run_activity

# Changes one run takes before it continues as new.
MAX_CHANGES_PER_RUN = 100

with workflow.unsafe.imports_passed_through():
    from omni.words import NotificationKind
    from workflows.activities.customers import CustomerActivities
    from workflows.contracts.activities import NotificationInput
    from workflows.contracts.carts import (
        CART_CHANGED_SIGNAL,
        CART_REMINDER_WORKFLOW,
        CLOSED,
        REMINDED,
        CartChange,
        CartReminderInput,
        cart_workflow_id,
    )


@workflow.defn(name=CART_REMINDER_WORKFLOW)
class CartReminderWorkflow:
    @workflow.init
    def __init__(self, request: CartReminderInput) -> None:
        self.version = request.version
        self.items = request.items
        self.closed = False
        # Bumped by every accepted change: what the idle wait watches.
        self.changes = 0
        # `changes` when the current idle wait began.
        self.watched = 0

    @workflow.run
    async def run(self, request: CartReminderInput) -> str:
        idle = timedelta(seconds=request.idle_seconds)
        while not self.closed:
            if (
                self.changes >= MAX_CHANGES_PER_RUN
                or workflow.info().is_continue_as_new_suggested()
            ):
                # Signals are handled synchronously: nothing is left running.
                workflow.continue_as_new(
                    CartReminderInput(
                        customer_id=request.customer_id,
                        idle_seconds=request.idle_seconds,
                        version=self.version,
                        items=self.items,
                    )
                )
            self.watched = self.changes
            try:
                await workflow.wait_condition(
                    lambda: self.closed or self.changes != self.watched, timeout=idle
                )
            except TimeoutError:
                if self.items > 0:
                    await self._remind(request.customer_id)
                    return REMINDED
                return CLOSED
        return CLOSED

    async def _remind(self, customer_id: str) -> None:
        await run_activity(
            CustomerActivities.send_notification,
            NotificationInput(
                customer_id=customer_id,
                # One reminder per cart version, however often the activity is retried.
                notification_id=f"{cart_workflow_id(customer_id)}/reminder/{self.version}",
                kind=NotificationKind.CART_REMINDER,
                reference_id=cart_workflow_id(customer_id),
                details={"items": str(self.items)},
            ),
        )

    @workflow.signal(name=CART_CHANGED_SIGNAL)
    def cart_changed(self, change: CartChange) -> None:
        # Version 0 means the cart is gone (merged away, erased): always final.
        if change.version < self.version and change.version != 0:
            return
        self.version = change.version
        self.items = change.items
        self.closed = change.closed or change.items == 0
        self.changes += 1
