"""The customers service's SQL, one module per concern: customers (identities,
history), timeline (events, loyalty ledger), carts, notifications, lifecycle
(merge, erase). `tables` holds the schema."""

from services.customers.store import carts, lifecycle, notifications, timeline
from services.customers.store.customers import (
    create_or_match,
    get_customer,
    list_activities,
    record_activity,
    require_customer,
    resolve,
    update_preferences,
)
from services.customers.store.tables import metadata

__all__ = [
    "carts",
    "create_or_match",
    "get_customer",
    "lifecycle",
    "list_activities",
    "metadata",
    "notifications",
    "record_activity",
    "require_customer",
    "resolve",
    "timeline",
    "update_preferences",
]
