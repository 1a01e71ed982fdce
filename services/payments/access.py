"""Who may call which PaymentsService RPC (services/common/access.py says how
a rule reads). Money moves (authorize, capture, void, refund) only for the
workflows and the orders service; gift cards are issued and reloaded by
admins (and refunds); a customer reads only their own store credit, and the
payments only of orders they may see (`check_reference_visible`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from omni.payments.v1 import payments_pb2
from services.common.access import AccessTable, allow
from services.common.errors import NotFound
from services.common.identity import Role, caller_or_none

# True when the current caller may see order `reference`: the orders service's
# GetOrder, asked as that caller (adapters/orders.py), so its object check
# (own orders, merged ids included; an associate's store) decides.
OrderVisible = Callable[[str], Awaitable[bool]]

# Callers that see any order's payments (the role check already let them in).
_SEE_EVERY_ORDER = frozenset({Role.AGENT, Role.ADMIN, Role.WORKFLOW, Role.SERVICE})


async def check_reference_visible(order_visible: OrderVisible, reference: str) -> None:
    """NOT_FOUND (as for an order that does not exist) unless the caller may
    see the order the payments belong to."""
    caller = caller_or_none()
    if caller is not None and caller.role in _SEE_EVERY_ORDER:
        return
    if caller is None or not await order_visible(reference):
        raise NotFound(f"order {reference} not found", resource_type="order", ids=[reference])


_MONEY = allow(Role.WORKFLOW, services=("orders",))

ACCESS = AccessTable(
    payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"],
    {
        "AuthorizePayment": _MONEY,
        "CapturePayment": _MONEY,
        "VoidPayment": _MONEY,
        "ReauthorizePayment": _MONEY,
        "RefundPayment": _MONEY,
        "GetPayment": allow(Role.AGENT, Role.ADMIN, Role.WORKFLOW, services=("orders",)),
        # The gateway shows an order's payments once it let the caller see the order.
        "ListPayments": allow(
            Role.CUSTOMER,
            Role.ASSOCIATE,
            Role.AGENT,
            Role.ADMIN,
            Role.WORKFLOW,
            services=("orders",),
        ),
        "ListProviderOperations": allow(Role.ADMIN),
        "IssueGiftCard": allow(Role.ADMIN),
        "ReloadGiftCard": allow(Role.ADMIN, Role.WORKFLOW),
        # Not guests (issue 12, finding 9): a code is a balance to spend.
        "GetGiftCard": allow(
            Role.CUSTOMER,
            Role.ASSOCIATE,
            Role.AGENT,
            Role.ADMIN,
            Role.WORKFLOW,
            services=("orders",),
        ),
        # A customer's own only (a merged duplicate's token reads the
        # survivor's: main.py resolves merges through the customers service).
        "ListStoreCredit": allow(
            Role.CUSTOMER, Role.AGENT, Role.ADMIN, Role.WORKFLOW, own_customer="customer_id"
        ),
    },
)
