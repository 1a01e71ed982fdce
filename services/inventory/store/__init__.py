"""The inventory store: the only place with SQL.

tables.py holds the schema; each other module holds the functions of one
aggregate, each taking the unit of work's session. This package is what the
use cases receive as their `Store` (a fake stands in for it in unit tests).
"""

from services.inventory.store.locations import (
    insert_location,
    known_location_ids,
    list_locations,
    lock_location,
    save_location,
)
from services.inventory.store.products import (
    delete_channel_price,
    insert_product,
    known_skus,
    list_products,
    lock_product,
    save_product,
    set_channel_price,
)
from services.inventory.store.reservations import (
    expire_due_holds,
    fulfillments_assigned_today,
    has_expired_holds,
    load_reservation,
    release_lines,
)
from services.inventory.store.stock import (
    apply_adjustment,
    audit_stock,
    get_stock,
    set_safety_stock,
    stock_with_locations,
)

__all__ = [
    "apply_adjustment",
    "audit_stock",
    "delete_channel_price",
    "expire_due_holds",
    "fulfillments_assigned_today",
    "get_stock",
    "has_expired_holds",
    "insert_location",
    "insert_product",
    "known_location_ids",
    "known_skus",
    "list_locations",
    "list_products",
    "load_reservation",
    "lock_location",
    "lock_product",
    "release_lines",
    "save_location",
    "save_product",
    "set_channel_price",
    "set_safety_stock",
    "stock_with_locations",
]
