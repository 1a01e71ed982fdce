"""Who may call which OrdersService RPC (services/common/access.py says how a
rule reads). A customer orders and erases only for themselves; an associate
sells, lists tasks and receives returns only at their own store; progress is
recorded only by the workflows.

Which order, fulfillment or return a customer or an associate may see or act
on is known only once it is loaded: the gateway checks it (access.check_order);
the request-level rules here are what the service can tell from the request."""

from __future__ import annotations

from omni.orders.v1 import orders_pb2
from services.common.access import PEOPLE, AccessTable, allow
from services.common.errors import NotFound
from services.common.identity import Role, caller_or_none

_ANYONE_WITH_AN_ORDER = (Role.CUSTOMER, Role.ASSOCIATE, Role.AGENT, Role.ADMIN)
_FLOOR = allow(Role.ASSOCIATE, Role.ADMIN)

ACCESS = AccessTable(
    orders_pb2.DESCRIPTOR.services_by_name["OrdersService"],
    {
        "PlaceOrder": allow(
            *_ANYONE_WITH_AN_ORDER, own_customer="customer_id", own_store="store_id"
        ),
        "GetOrder": allow(*_ANYONE_WITH_AN_ORDER, Role.WORKFLOW),
        "CancelOrder": allow(*_ANYONE_WITH_AN_ORDER),
        "ListStoreTasks": allow(Role.ASSOCIATE, Role.ADMIN, own_store="store_id"),
        "GetFulfillment": allow(*_ANYONE_WITH_AN_ORDER, Role.WORKFLOW),
        "PickFulfillment": _FLOOR,
        "HandoverFulfillment": _FLOOR,
        "ShipFulfillment": _FLOOR,
        "RejectFulfillment": _FLOOR,
        "MarkCustomerArrived": allow(Role.CUSTOMER, Role.AGENT),
        "CreateReturn": allow(*_ANYONE_WITH_AN_ORDER, own_store="location_id"),
        "GetReturn": allow(*_ANYONE_WITH_AN_ORDER, Role.WORKFLOW),
        "ReceiveReturn": allow(Role.ASSOCIATE, Role.ADMIN, own_store="location_id"),
        "RecordOrderProgress": allow(Role.WORKFLOW),
        "RecordReturnProgress": allow(Role.WORKFLOW),
        # The customer's own id must be among those erased (the others are
        # the ids merged into it, which only the customers service knows).
        # Prices, promotions, tax and shipping: everyone reads a quote; admins set them.
        "QuoteBasket": allow(*PEOPLE, Role.WORKFLOW),
        "CreatePromotion": allow(Role.ADMIN),
        "ListPromotions": allow(Role.AGENT, Role.ADMIN),
        "EndPromotion": allow(Role.ADMIN),
        "PutTaxRegion": allow(Role.ADMIN),
        "CreateShippingMethod": allow(Role.ADMIN),
        "ListShippingMethods": allow(*PEOPLE, Role.WORKFLOW),
        "ErasePersonalData": allow(
            Role.CUSTOMER, Role.AGENT, Role.ADMIN, own_customer="customer_ids"
        ),
    },
)


def check_store_work(fulfillment_id: str, location_id: str) -> None:
    """Once a fulfillment is loaded: an associate picks, hands over, ships or
    rejects only at their own store (NOT_FOUND elsewhere, as at the gateway)."""
    caller = caller_or_none()
    if caller is not None and caller.role == Role.ASSOCIATE and caller.store_id != location_id:
        raise NotFound(
            f"fulfillment {fulfillment_id} not found",
            resource_type="fulfillment",
            ids=[fulfillment_id],
        )
