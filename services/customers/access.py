"""Who may call which CustomersService RPC (services/common/access.py says how
a rule reads). A customer reads, exports, erases and changes only their own
record (a duplicate merged into theirs counts: `table(database)` resolves
merges); merges are for agents and admins; activity, timeline, notifications
and checkout are recorded by the workflows."""

from __future__ import annotations

from omni.customers.v1 import customers_pb2
from services.common.access import PEOPLE, AccessTable, allow
from services.common.db import Database
from services.common.errors import NotFound
from services.common.identity import Role
from services.customers import store

_OWN = allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN, own_customer="customer_id")
_OWN_OR_WORKFLOW = allow(
    Role.CUSTOMER, Role.AGENT, Role.ADMIN, Role.WORKFLOW, own_customer="customer_id"
)
_WORKFLOW = allow(Role.WORKFLOW)

ACCESS = AccessTable(
    customers_pb2.DESCRIPTOR.services_by_name["CustomersService"],
    {
        "CreateCustomer": allow(*PEOPLE),
        "GetCustomer": allow(
            Role.CUSTOMER,
            Role.AGENT,
            Role.ADMIN,
            Role.WORKFLOW,
            own_customer="customer_id",
            services=("orders",),
        ),
        "RecordActivity": _WORKFLOW,
        "ListActivities": _OWN,
        "MergeCustomers": allow(Role.AGENT, Role.ADMIN),
        "RecordTimelineEvent": _WORKFLOW,
        "ListTimeline": _OWN,
        "GetCart": _OWN_OR_WORKFLOW,
        "PutCart": _OWN,
        "MergeGuestCart": _OWN,
        "CheckoutCart": _WORKFLOW,
        "SendNotification": _WORKFLOW,
        "ListNotifications": _OWN,
        "UpdatePreferences": _OWN,
        "ListLoyaltyHistory": _OWN,
        "ExportCustomer": _OWN,
        "EraseCustomer": _OWN,
    },
)


def table(database: Database) -> AccessTable:
    """ACCESS, with a customer's merged duplicate ids counted as theirs."""

    async def same_customer(mine: str, theirs: str) -> bool:
        async with database.unit_of_work() as uow:
            try:
                survivor = await store.resolve(uow.session, mine)
                return survivor == await store.resolve(uow.session, theirs)
            except NotFound:
                return False

    return ACCESS.with_same_customer(same_customer)
