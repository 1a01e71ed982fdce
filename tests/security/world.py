"""A small world behind the gateway for the attack suite: two customers, two
stores, and what each owns, served by fake services that answer every RPC
(a default answer unless the world holds the object) and record every call.

Customer A (C-A) owns order O-A (pickup F-A at S1), return R-A (at S1), cart,
profile, store credit; customer B (C-B) owns O-B (F-B at S2) and R-B (at S2).
Associates: A1 of S1, A2 of S2."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, cast

from google.protobuf import message_factory
from google.protobuf.message import Message

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    OrderStatus,
    ReturnMethod,
    ReturnStatus,
)
from services.common.errors import NotFound
from services.gateway.clients import Clients
from tests.unit.gateway_fakes import bearer, make_app, rpc_error

# Whose is what.
ORDERS = {"O-A": ("C-A", "S1", "F-A"), "O-B": ("C-B", "S2", "F-B")}
FULFILLMENTS = {"F-A": "O-A", "F-B": "O-B"}
RETURNS = {"R-A": ("O-A", "C-A", "S1"), "R-B": ("O-B", "C-B", "S2")}
CUSTOMERS = {"C-A": "alice@example.com", "C-B": "bob@example.com"}
PICKUP_CODES = {"F-A": "314159", "F-B": "271828"}

CALLERS: dict[str, dict[str, str]] = {
    "anonymous": {},
    "guest": bearer("guest", "guest-1", channel="web"),
    "customer_a": bearer("customer", "u-alice", customer_id="C-A", channel="web"),
    "customer_b": bearer("customer", "u-bob", customer_id="C-B", channel="web"),
    "agent": bearer("agent", "agent-1", channel="call_center"),
    "associate_s1": bearer("associate", "A1", store_id="S1", channel="pos"),
    "associate_s2": bearer("associate", "A2", store_id="S2", channel="pos"),
    "admin": bearer("admin", "admin-1"),
}

# RPC names that change nothing (a refused request may make these, never others).
READS = ("Get", "List", "Quote", "Watch", "Check", "Health", "Lookup", "Find", "Search")


def is_read(rpc: str) -> bool:
    return rpc.startswith(READS)


def _money(minor: int = 1250) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=minor, currency="USD")


def order(order_id: str) -> orders_pb2.Order:
    customer_id, _store, fulfillment_id = ORDERS[order_id]
    return orders_pb2.Order(
        order_id=order_id,
        customer_id=customer_id,
        channel=Channel.WEB.to_proto(),
        status=OrderStatus.READY_FOR_PICKUP.to_proto(),
        lines=[
            orders_pb2.OrderLine(sku="SKU-MUG", quantity=2, unit_price=_money(), returnable_days=30)
        ],
        fulfillments=[fulfillment(fulfillment_id)],
        workflow_id=f"order-{order_id}",
        total=_money(2500),
    )


def fulfillment(fulfillment_id: str) -> orders_pb2.Fulfillment:
    order_id = FULFILLMENTS[fulfillment_id]
    _, store, _ = ORDERS[order_id]
    return orders_pb2.Fulfillment(
        fulfillment_id=fulfillment_id,
        order_id=order_id,
        type=FulfillmentType.PICKUP.to_proto(),
        location_id=store,
        status=FulfillmentStatus.READY_FOR_PICKUP.to_proto(),
        lines=[orders_pb2.FulfillmentLine(sku="SKU-MUG", quantity=2, quantity_picked=2)],
        pickup_code=PICKUP_CODES[fulfillment_id],
    )


def a_return(return_id: str) -> orders_pb2.Return:
    order_id, customer_id, store = RETURNS[return_id]
    return orders_pb2.Return(
        return_id=return_id,
        order_id=order_id,
        customer_id=customer_id,
        status=ReturnStatus.AWAITING_RECEIPT.to_proto(),
        method=ReturnMethod.IN_STORE.to_proto(),
        location_id=store,
        workflow_id=f"return-{return_id}",
        channel=Channel.WEB.to_proto(),
        lines=[orders_pb2.ReturnLine(sku="SKU-MUG", quantity=1)],
    )


def customer(customer_id: str) -> customers_pb2.Customer:
    return customers_pb2.Customer(
        customer_id=customer_id,
        email=CUSTOMERS[customer_id],
        name=f"Name of {customer_id}",
        phone="+15550100" + ("1" if customer_id == "C-A" else "2"),
    )


def _missing(what: str, key: str) -> Any:
    return rpc_error(NotFound(f"{what} {key} not found", resource_type=what, ids=[key]))


def _orders_handlers() -> dict[str, Callable[[Any], Any]]:
    def get_order(r: Any) -> Any:
        if r.order_id not in ORDERS:
            return _missing("order", r.order_id)
        return orders_pb2.GetOrderResponse(order=order(r.order_id))

    def with_fulfillment(response: type[Message]) -> Callable[[Any], Any]:
        def answer(r: Any) -> Any:
            if r.fulfillment_id not in FULFILLMENTS:
                return _missing("fulfillment", r.fulfillment_id)
            return response(fulfillment=fulfillment(r.fulfillment_id))

        return answer

    def with_return(response: type[Message]) -> Callable[[Any], Any]:
        def answer(r: Any) -> Any:
            if r.return_id not in RETURNS:
                return _missing("return", r.return_id)
            return response(**{"return": a_return(r.return_id)})

        return answer

    def with_order(response: type[Message]) -> Callable[[Any], Any]:
        def answer(r: Any) -> Any:
            if r.order_id not in ORDERS:
                return _missing("order", r.order_id)
            return response(order=order(r.order_id))

        return answer

    return {
        "GetOrder": get_order,
        "CancelOrder": with_order(orders_pb2.CancelOrderResponse),
        "CancelOrderLines": with_order(orders_pb2.CancelOrderLinesResponse),
        "PlaceOrder": lambda r: orders_pb2.PlaceOrderResponse(order=order("O-A")),
        "GetFulfillment": with_fulfillment(orders_pb2.GetFulfillmentResponse),
        "PickFulfillment": with_fulfillment(orders_pb2.PickFulfillmentResponse),
        "HandoverFulfillment": with_fulfillment(orders_pb2.HandoverFulfillmentResponse),
        "ShipFulfillment": with_fulfillment(orders_pb2.ShipFulfillmentResponse),
        "RejectFulfillment": with_fulfillment(orders_pb2.RejectFulfillmentResponse),
        "MarkCustomerArrived": with_fulfillment(orders_pb2.MarkCustomerArrivedResponse),
        "IssuePickupCode": with_fulfillment(orders_pb2.IssuePickupCodeResponse),
        "GetReturn": with_return(orders_pb2.GetReturnResponse),
        "ReceiveReturn": with_return(orders_pb2.ReceiveReturnResponse),
        "CreateReturn": lambda r: orders_pb2.CreateReturnResponse(**{"return": a_return("R-A")}),
        "CreateAssociate": lambda r: orders_pb2.CreateAssociateResponse(
            associate=orders_pb2.Associate(
                associate_id=r.associate.associate_id,
                name=r.associate.name,
                store_id=r.associate.store_id,
                active=True,
            ),
            created=True,
        ),
        "ListOrders": lambda r: orders_pb2.ListOrdersResponse(orders=[order("O-A")]),
        "GetAssociate": lambda r: orders_pb2.GetAssociateResponse(
            associate=orders_pb2.Associate(
                associate_id=r.associate_id,
                name="Associate",
                store_id={"A1": "S1", "A2": "S2"}.get(r.associate_id, "S1"),
                active=True,
            )
        ),
    }


def _customers_handlers() -> dict[str, Callable[[Any], Any]]:
    def get_customer(r: Any) -> Any:
        if r.customer_id not in CUSTOMERS:
            return _missing("customer", r.customer_id)
        return customers_pb2.GetCustomerResponse(customer=customer(r.customer_id))

    return {
        "GetCustomer": get_customer,
        "FindCustomers": lambda r: customers_pb2.FindCustomersResponse(customers=[customer("C-A")]),
        "CreateCustomer": lambda r: customers_pb2.CreateCustomerResponse(
            customer=customer("C-A"), created=False
        ),
        "GetCart": lambda r: customers_pb2.GetCartResponse(
            cart=customers_pb2.Cart(customer_id=r.customer_id, version=1)
        ),
        "PutCart": lambda r: customers_pb2.PutCartResponse(
            cart=customers_pb2.Cart(customer_id=r.customer_id, version=2)
        ),
        "MergeGuestCart": lambda r: customers_pb2.MergeGuestCartResponse(
            cart=customers_pb2.Cart(customer_id=r.customer_id, version=2)
        ),
    }


def _payments_handlers() -> dict[str, Callable[[Any], Any]]:
    return {
        "ListPayments": lambda r: payments_pb2.ListPaymentsResponse(),
        "GetGiftCard": lambda r: payments_pb2.GetGiftCardResponse(
            gift_card=payments_pb2.GiftCard(code=r.code, balance=_money(), held=_money(0))
        ),
        "IssueGiftCard": lambda r: payments_pb2.IssueGiftCardResponse(
            gift_card=payments_pb2.GiftCard(code="GC-NEW", balance=r.initial_balance)
        ),
        "ListStoreCredit": lambda r: payments_pb2.ListStoreCreditResponse(),
    }


def _filled(message: Message, depth: int = 0) -> Message:
    """A default answer whose money has a currency (the gateway's Money needs one)."""
    for field in message.DESCRIPTOR.fields:
        if field.message_type is None or depth > 3:
            continue
        if getattr(field, "is_repeated", False) or field.message_type.GetOptions().map_entry:
            continue
        if field.message_type.full_name == "omni.common.v1.Money":
            getattr(message, field.name).currency = "USD"
        elif field.message_type.full_name.startswith("omni."):
            _filled(getattr(message, field.name), depth + 1)
    return message


class WorldStub:
    """Answers every RPC of `service`: the world's handler, else the method's
    default response. Records (rpc, request) of every call."""

    def __init__(self, service: Any, handlers: dict[str, Callable[[Any], Any]]) -> None:
        self._methods = {m.name: m for m in service.methods}
        self._handlers = handlers
        self.calls: list[tuple[str, Any]] = []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._methods:
            raise AttributeError(name)
        handler = self._handlers.get(name)
        output = message_factory.GetMessageClass(self._methods[name].output_type)

        async def method(request: Any, **_options: Any) -> Any:
            self.calls.append((name, request))
            result = handler(request) if handler is not None else _filled(output())
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, BaseException):
                raise result
            return result

        if self._methods[name].server_streaming:

            def streaming(request: Any, **_options: Any) -> Any:
                self.calls.append((name, request))
                raise AssertionError(f"{name} streams; not exercised here")

            return streaming
        return method

    def writes(self) -> list[str]:
        return [name for name, _ in self.calls if not is_read(name)]


class World:
    def __init__(self) -> None:
        self.inventory = WorldStub(
            inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"],
            {
                "GetProducts": lambda r: inventory_pb2.GetProductsResponse(
                    products=[
                        inventory_pb2.Product(sku=sku, name="Mug", price=_money()) for sku in r.skus
                    ]
                )
            },
        )
        self.orders = WorldStub(
            orders_pb2.DESCRIPTOR.services_by_name["OrdersService"], _orders_handlers()
        )
        self.customers = WorldStub(
            customers_pb2.DESCRIPTOR.services_by_name["CustomersService"], _customers_handlers()
        )
        self.payments = WorldStub(
            payments_pb2.DESCRIPTOR.services_by_name["PaymentsService"], _payments_handlers()
        )

        async def healthy() -> dict[str, str]:
            return {"inventory": "ok", "orders": "ok", "customers": "ok", "payments": "ok"}

        self.clients = Clients(
            inventory=cast(Any, self.inventory),
            orders=cast(Any, self.orders),
            customers=cast(Any, self.customers),
            payments=cast(Any, self.payments),
            health=healthy,
        )
        # Many requests per caller: no rate limit gets in the way.
        self.app = make_app(self.clients, rate_limit_per_second=100_000, rate_limit_burst=100_000)

    def reset(self) -> World:
        """Forget the calls (one world serves many cases; the app is the slow part)."""
        for stub in self.stubs():
            stub.calls.clear()
        return self

    def stubs(self) -> list[WorldStub]:
        return [self.inventory, self.orders, self.customers, self.payments]

    def writes(self) -> list[str]:
        return [w for stub in self.stubs() for w in stub.writes()]

    def calls(self) -> list[str]:
        return [name for stub in self.stubs() for name, _ in stub.calls]
