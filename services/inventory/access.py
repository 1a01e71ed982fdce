"""Who may call which InventoryService RPC (services/common/access.py says how
a rule reads). Stock moves only for the workflows (and the orders service
placing an order); an associate posts only counts and breakage, at their
own store;
catalog, locations and safety stock are written by admins."""

from __future__ import annotations

from typing import Any

from omni.inventory.v1 import inventory_pb2
from omni.words import StockMovementReason
from services.common.access import PEOPLE, STAFF, AccessTable, allow
from services.common.identity import CallerIdentity, Role

_MACHINES = (Role.WORKFLOW,)
# What an associate may post, at their own store: a count, a breakage
# (receipts and sales come from receiving and the journeys).
ASSOCIATE_REASONS = frozenset({StockMovementReason.CYCLE_COUNT, StockMovementReason.DAMAGE})


def _associate_reasons(caller: CallerIdentity, request: Any) -> str | None:
    if caller.role != Role.ASSOCIATE:
        return None
    reason = StockMovementReason.from_proto(request.reason)
    if reason in ASSOCIATE_REASONS:
        return None
    return f"an associate may not post a {reason or 'reasonless'} adjustment"


ACCESS = AccessTable(
    inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"],
    {
        "CreateLocation": allow(Role.ADMIN),
        "UpdateLocation": allow(Role.ADMIN),
        "GetLocation": allow(*STAFF, *_MACHINES, services=("orders",)),
        "ListLocations": allow(*PEOPLE, *_MACHINES, services=("orders",)),
        "CreateProduct": allow(Role.ADMIN),
        "GetProducts": allow(*PEOPLE, *_MACHINES, services=("orders",)),
        "AdjustStock": allow(
            Role.ASSOCIATE,
            Role.ADMIN,
            *_MACHINES,
            own_store="location_id",
            check=_associate_reasons,
        ),
        "SetSafetyStock": allow(Role.ADMIN),
        "GetStock": allow(Role.ASSOCIATE, Role.ADMIN, *_MACHINES, own_store="location_id"),
        "GetAvailability": allow(*PEOPLE, *_MACHINES, services=("orders",)),
        "ReserveStock": allow(*_MACHINES, services=("orders",)),
        "ReleaseReservation": allow(*_MACHINES, services=("orders",)),
        "CommitReservation": allow(*_MACHINES, services=("orders",)),
        "ReleaseReservationLines": allow(*_MACHINES),
        "ConfirmReservation": allow(*_MACHINES, services=("orders",)),
        "FindSources": allow(*_MACHINES, services=("orders",)),
        "CheckInvariants": allow(Role.ADMIN),
        "ListProducts": allow(*PEOPLE, *_MACHINES, services=("orders",)),
        "UpdateProduct": allow(Role.ADMIN),
        "SetChannelPrice": allow(Role.ADMIN),
        "DeleteChannelPrice": allow(Role.ADMIN),
        "WatchAvailability": allow(*PEOPLE, *_MACHINES),
    },
)
