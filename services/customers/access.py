"""Who may call which CustomersService RPC (services/common/access.py says how
a rule reads). A customer reads, exports, erases and changes only their own
record (a duplicate merged into theirs counts: `table(database)` resolves
merges); merges are for agents and admins; activity, timeline, notifications
and checkout are recorded by the workflows."""

from __future__ import annotations

from omni.customers.v1 import customers_pb2
from omni.customers.v1 import customers_pb2 as pb
from services.common.access import PEOPLE, AccessTable, allow
from services.common.errors import NotFound
from services.common.identity import CallerIdentity, Role
from services.common.plain_session import PlainDatabase
from services.customers import store
from services.customers.use_cases import Transactions

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
            # Merged ids for the orders and payments services' object checks.
            services=("orders", "payments"),
        ),
        # The till's and the call centre's lookup by exact email, phone or card.
        "FindCustomers": allow(Role.ASSOCIATE, Role.AGENT, Role.ADMIN),
        # The journeys' activities; the orders service for a till sale (issue 14).
        "RecordActivity": allow(Role.WORKFLOW, services=("orders",)),
        "ListActivities": _OWN,
        "MergeCustomers": allow(Role.AGENT, Role.ADMIN),
        "RecordTimelineEvent": allow(Role.WORKFLOW, services=("orders",)),
        "ListTimeline": _OWN,
        "GetCart": _OWN_OR_WORKFLOW,
        "PutCart": _OWN,
        "MergeGuestCart": _OWN,
        "CheckoutCart": _WORKFLOW,
        "SendNotification": _WORKFLOW,
        "ListNotifications": _OWN,
        # The store outbox (issue 11): the journeys write; a store's associates
        # (and admins) read their own store's.
        "SendStoreNotification": _WORKFLOW,
        "ListStoreNotifications": allow(Role.ASSOCIATE, Role.ADMIN, own_store="store_id"),
        "UpdatePreferences": _OWN,
        "ListLoyaltyHistory": _OWN,
        "ExportCustomer": _OWN,
        "EraseCustomer": _OWN,
    },
)


async def same_customer(database: Transactions, mine: str, theirs: str) -> bool:
    """Whether two customer ids are one customer (the same, or merged together)."""
    if not mine or not theirs:
        return False
    async with database.unit_of_work() as uow:
        try:
            survivor = await store.resolve(uow.session, mine)
            return survivor == await store.resolve(uow.session, theirs)
        except NotFound:
            return False


def table(database: PlainDatabase) -> AccessTable:
    """ACCESS, with a customer's merged duplicate ids counted as theirs."""

    async def merged(mine: str, theirs: str) -> bool:
        return await same_customer(database, mine, theirs)

    return ACCESS.with_same_customer(merged)


async def view_of_match(
    database: Transactions, caller: CallerIdentity | None, customer: pb.Customer
) -> pb.Customer:
    """What CreateCustomer may answer about a customer it matched (finding 3,
    re-checked here): the profile to the customer themselves, agents, admins
    and machines; name and contact to an associate; the id to anyone else."""
    if caller is None or caller.role in (Role.AGENT, Role.ADMIN, Role.WORKFLOW, Role.SERVICE):
        return customer
    if caller.role == Role.CUSTOMER and await same_customer(
        database, caller.customer_id, customer.customer_id
    ):
        return customer
    if caller.role == Role.ASSOCIATE:
        return pb.Customer(
            customer_id=customer.customer_id,
            name=customer.name,
            email=customer.email,
            phone=customer.phone,
        )
    return pb.Customer(customer_id=customer.customer_id)


def may_add_identities(caller: CallerIdentity | None) -> bool:
    """Only staff attach a new email, phone or card to a customer they matched."""
    return caller is None or caller.role not in (Role.GUEST, Role.CUSTOMER)
