"""The customers service's SQL, one module per aggregate: customers (and their
identities), activities, timeline, loyalty, carts, notifications, merges;
`history` pages them newest first, `tables` holds the schema.

Every function takes the session of the caller's unit of work. This package,
as a module, is the `Store` the use cases are given (services/customers/use_cases.py).
"""

from services.customers.store.activities import list_activities, record_activity
from services.customers.store.carts import delete_cart, get_cart, put_cart, record_checkout
from services.customers.store.customers import (
    add_identities,
    aliases_of,
    erase_customer,
    get_customer,
    identity_owners,
    insert_customer,
    resolve,
    update_preferences,
)
from services.customers.store.loyalty import loyalty_history, record_loyalty_entry
from services.customers.store.merges import absorb, merge_record, merges_into, move_history
from services.customers.store.notifications import list_notifications, queue_notification
from services.customers.store.tables import metadata
from services.customers.store.timeline import list_events, record_event

__all__ = [
    "absorb",
    "add_identities",
    "aliases_of",
    "delete_cart",
    "erase_customer",
    "get_cart",
    "get_customer",
    "identity_owners",
    "insert_customer",
    "list_activities",
    "list_events",
    "list_notifications",
    "loyalty_history",
    "merge_record",
    "merges_into",
    "metadata",
    "move_history",
    "put_cart",
    "queue_notification",
    "record_activity",
    "record_checkout",
    "record_event",
    "record_loyalty_entry",
    "resolve",
    "update_preferences",
]
