"""Who may call which OrdersService RPC (services/common/access.py says how a
rule reads). A customer orders and erases only for themselves; an associate
sells, lists tasks and receives returns only at their own store; progress is
recorded only by the workflows.

The table holds what the service can tell from the request; which order,
fulfillment or return a customer or an associate may see or act on is known
once it is loaded: the servicer asks `check_*_visible` below (the same rules
as the gateway's access.check_order), and the use cases `check_store_work`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from omni.common.v1 import common_pb2
from omni.orders.v1 import orders_pb2
from services.common.access import PEOPLE, AccessTable, allow
from services.common.errors import NotFound
from services.common.identity import CallerIdentity, Role, caller_or_none
from services.orders.domain.records import FulfillmentRecord, OrderRecord, ReturnRecord


def _own_associate_record(
    caller: CallerIdentity, request: orders_pb2.GetAssociateRequest
) -> str | None:
    """An associate reads only their own registry record."""
    if caller.role == Role.ASSOCIATE and request.associate_id != caller.sub:
        return "an associate reads only their own registry record"
    return None


def _till_sale_at_own_store(
    caller: CallerIdentity, request: orders_pb2.PlaceOrderRequest
) -> str | None:
    """A carry_out (a till sale, issue 14) only by an associate of that store."""
    fulfillment = getattr(request, "fulfillment", None)  # a PlaceOrderRequest's
    if fulfillment is None or fulfillment.type != common_pb2.FULFILLMENT_TYPE_CARRY_OUT:
        return None
    if caller.role != Role.ASSOCIATE:
        return "only an associate of the store sells at its till"
    if not caller.store_id or request.fulfillment.location_id != caller.store_id:
        return "an associate sells only at their own store's till"
    return None


_ANYONE_WITH_AN_ORDER = (Role.CUSTOMER, Role.ASSOCIATE, Role.AGENT, Role.ADMIN)
_FLOOR = allow(Role.ASSOCIATE, Role.ADMIN)

ACCESS = AccessTable(
    orders_pb2.DESCRIPTOR.services_by_name["OrdersService"],
    {
        "PlaceOrder": allow(
            *_ANYONE_WITH_AN_ORDER,
            own_customer="customer_id",
            own_store="store_id",
            check=_till_sale_at_own_store,
        ),
        "GetOrder": allow(*_ANYONE_WITH_AN_ORDER, Role.WORKFLOW),
        # Associates do not cancel whole orders (they reject their store's part).
        "CancelOrder": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN),
        "CancelOrderLines": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN),
        "ChangeShippingAddress": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN),
        # A new tender for a declined re-authorization: the owner or an agent.
        "SubmitOrderPayment": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN),
        "ListStoreTasks": allow(Role.ASSOCIATE, Role.ADMIN, own_store="store_id"),
        "GetFulfillment": allow(*_ANYONE_WITH_AN_ORDER, Role.WORKFLOW),
        "PickFulfillment": _FLOOR,
        "HandoverFulfillment": _FLOOR,
        "ShipFulfillment": _FLOOR,
        "RejectFulfillment": _FLOOR,
        "MarkCustomerArrived": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN),
        # The customer (their own order's pickup), an agent for them; never the store.
        "IssuePickupCode": allow(Role.CUSTOMER, Role.AGENT, Role.ADMIN),
        "CreateReturn": allow(*_ANYONE_WITH_AN_ORDER, own_store="location_id"),
        "GetReturn": allow(*_ANYONE_WITH_AN_ORDER, Role.WORKFLOW),
        "ReceiveReturn": allow(Role.ASSOCIATE, Role.ADMIN, own_store="location_id"),
        "RecordOrderProgress": allow(Role.WORKFLOW),
        "RecordReturnProgress": allow(Role.WORKFLOW),
        # The return journey places an exchange's replacement once the goods are back.
        "PlaceExchange": allow(Role.WORKFLOW),
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
        # The associates registry and staff credit (issue 14): admins manage
        # it; the gateway asks for the associate a token names, as that
        # associate; an associate reads their own store's list and figures.
        "CreateAssociate": allow(Role.ADMIN),
        "GetAssociate": allow(Role.ASSOCIATE, Role.AGENT, Role.ADMIN, check=_own_associate_record),
        "ListAssociates": allow(Role.ASSOCIATE, Role.ADMIN, own_store="store_id"),
        "DeactivateAssociate": allow(Role.ADMIN),
        "GetStaffSales": allow(Role.ASSOCIATE, Role.ADMIN, own_store="store_id"),
        # Order lookup: an associate names their own store (location_id).
        "ListOrders": allow(Role.ASSOCIATE, Role.AGENT, Role.ADMIN, own_store="location_id"),
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


# Whether two customer ids are one customer after merges (adapters/customers.py).
SameCustomer = Callable[[str, str], Awaitable[bool]]


def _hidden(kind: str, object_id: str) -> NotFound:
    return NotFound(f"{kind} {object_id} not found", resource_type=kind, ids=[object_id])


async def _customers_own(caller: CallerIdentity, owner_id: str, same: SameCustomer | None) -> bool:
    if not caller.customer_id or not owner_id:
        return False
    if owner_id == caller.customer_id:
        return True
    return same is not None and await same(caller.customer_id, owner_id)


async def check_order_visible(
    order: OrderRecord,
    same: SameCustomer | None,
    checked: tuple[Role, ...] = (Role.CUSTOMER, Role.ASSOCIATE),
) -> None:
    """Once an order is loaded, as at the gateway (access.check_order): a
    customer sees their own (a merged duplicate's included), an associate the
    orders placed in or fulfilled from their store; NOT_FOUND otherwise."""
    caller = caller_or_none()
    if caller is None or caller.role not in checked:
        return
    if caller.role == Role.CUSTOMER and await _customers_own(caller, order.customer_id, same):
        return
    if (
        caller.role == Role.ASSOCIATE
        and caller.store_id
        and (
            order.store_id == caller.store_id
            or any(f.location_id == caller.store_id for f in order.fulfillments)
        )
    ):
        return
    if caller.role in (Role.CUSTOMER, Role.ASSOCIATE, Role.GUEST):
        raise _hidden("order", order.order_id)


async def check_fulfillment_visible(
    fulfillment: FulfillmentRecord,
    order: Callable[[], Awaitable[OrderRecord]],
    same: SameCustomer | None,
) -> None:
    """An associate: a fulfillment at their store; a customer: one of their orders'."""
    caller = caller_or_none()
    if caller is None:
        return
    if caller.role == Role.ASSOCIATE:
        check_store_work(fulfillment.fulfillment_id, fulfillment.location_id)
    elif caller.role == Role.CUSTOMER:
        try:
            await check_order_visible(await order(), same)
        except NotFound:
            raise _hidden("fulfillment", fulfillment.fulfillment_id) from None


async def check_return_visible(record: ReturnRecord, same: SameCustomer | None) -> None:
    """A customer: their own returns; an associate: returns at their store."""
    caller = caller_or_none()
    if caller is None:
        return
    if caller.role == Role.CUSTOMER and await _customers_own(caller, record.customer_id, same):
        return
    if caller.role == Role.ASSOCIATE and caller.store_id and record.location_id == caller.store_id:
        return
    if caller.role in (Role.CUSTOMER, Role.ASSOCIATE, Role.GUEST):
        raise _hidden("return", record.return_id)
