"""What crosses between the customers service and the cart reminder.

The customers service signals-with-start `cart-<customer_id>` on every cart
change; it imports only this module, never workflow code. Customer ids are
opaque UUIDs, so the workflow id carries no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

CART_REMINDER_WORKFLOW = "CartReminderWorkflow"
CART_CHANGED_SIGNAL = "cart_changed"
DEFAULT_IDLE_SECONDS = 24 * 3600.0

# The workflow's result: the reminder went out, or the cart closed without one.
REMINDED = "reminded"
CLOSED = "closed"


def cart_workflow_id(customer_id: str) -> str:
    return f"cart-{customer_id}"


@dataclass
class CartReminderInput:
    customer_id: str
    # How long the cart must sit unchanged before the reminder goes out.
    idle_seconds: float = DEFAULT_IDLE_SECONDS
    # Carried over when a run continues as new (the cart as the last run saw it).
    version: int = 0
    items: int = 0


@dataclass
class CartChange:
    # The cart's version after the change; older ones arriving late are ignored.
    version: int
    items: int
    # Emptied or checked out: nothing left to remind about.
    closed: bool = False
