"""Who may call which PaymentsService RPC (services/common/access.py says how
a rule reads). Money moves (authorize, capture, void, refund) only for the
workflows and the orders service; gift cards are issued and reloaded by
admins (and refunds); a customer reads only their own store credit."""

from __future__ import annotations

from omni.payments.v1 import payments_pb2
from services.common.access import AccessTable, allow
from services.common.identity import Role

_MONEY = allow(Role.WORKFLOW, services=("orders",))

ACCESS = AccessTable(
    payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"],
    {
        "AuthorizePayment": _MONEY,
        "CapturePayment": _MONEY,
        "VoidPayment": _MONEY,
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
        # A customer's own only, but payments cannot tell merged ids apart (a
        # token of a merged duplicate reads the survivor's): the gateway checks
        # the owner (customer_access.check_own_customer) before it asks.
        "ListStoreCredit": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN, Role.WORKFLOW),
    },
)
