"""Small fakes for the gateway's unit tests: gRPC stubs that answer from
handlers, errors shaped like the services', and an in-memory key store."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import grpc

from services.common.errors import DomainError
from services.common.grpc_errors import to_status_proto
from services.gateway.app import create_app
from services.gateway.auth import mint_token
from services.gateway.clients import Clients, HealthCheck
from services.gateway.idempotency import IdempotencyStore, PreviousUse, StoredResponse
from services.gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from omni.orders.v1 import orders_pb2

SECRET = "unit-test-secret-0123456789abcdef0123"


class FakeStub:
    """`stub.Method(request, timeout=, metadata=)` answers from `handlers[Method]`."""

    def __init__(self, **handlers: Callable[[Any], Any]) -> None:
        self.handlers = handlers
        self.calls: list[tuple[str, Any]] = []
        self.metadata: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        if name not in self.handlers:
            raise AttributeError(name)
        handler = self.handlers[name]

        async def method(request: Any, **options: Any) -> Any:
            self.calls.append((name, request))
            self.metadata.append(options.get("metadata"))
            result = handler(request)
            if inspect.isawaitable(result):
                result = await result
            if isinstance(result, BaseException):
                raise result
            return result

        return method

    def called(self, name: str) -> list[Any]:
        return [request for method, request in self.calls if method == name]


def rpc_error(error: DomainError) -> grpc.aio.AioRpcError:
    """What a service's ErrorInterceptor sends for `error`."""
    code, status = to_status_proto(error)
    trailing = grpc.aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, details=error.message)


def plain_rpc_error(code: grpc.StatusCode, details: str = "boom") -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


class MemoryIdempotencyStore:
    """Same contract as the PostgreSQL store: a claim is a row without an
    answer; `rows` holds only finished (kept) answers."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], PreviousUse] = {}
        self.running: dict[tuple[str, str], str] = {}
        self.customers: dict[tuple[str, str], str] = {}

    async def begin(
        self, owner: str, key: str, fingerprint: str, customer_id: str
    ) -> PreviousUse | None:
        if (owner, key) in self.rows:
            return self.rows[(owner, key)]
        if (owner, key) in self.running:
            return PreviousUse(self.running[(owner, key)], None)
        self.running[(owner, key)] = fingerprint
        self.customers[(owner, key)] = customer_id
        return None

    async def finish(self, owner: str, key: str, response: StoredResponse) -> None:
        fingerprint = self.running.pop((owner, key))
        self.rows[(owner, key)] = PreviousUse(fingerprint, response)

    async def release(self, owner: str, key: str) -> None:
        self.running.pop((owner, key), None)

    async def purge_older_than(self, hours: float) -> int:
        return 0

    async def erase_customer(self, customer_id: str) -> int:
        gone = [
            k
            for k, use in self.rows.items()
            if self.customers.get(k) == customer_id
            or (use.response is not None and customer_id.encode() in use.response.body)
        ]
        for k in gone:
            del self.rows[k]
        return len(gone)


def registered_associate(request: Any) -> Any:
    """The registry's answer for an active associate (any id)."""
    from omni.orders.v1 import orders_pb2

    return orders_pb2.GetAssociateResponse(
        associate=orders_pb2.Associate(
            associate_id=request.associate_id, name="Test Associate", active=True
        )
    )


def fake_clients(
    *,
    inventory: FakeStub | None = None,
    orders: FakeStub | None = None,
    customers: FakeStub | None = None,
    payments: FakeStub | None = None,
    health: HealthCheck | None = None,
) -> Clients:
    async def healthy() -> dict[str, str]:
        return {"inventory": "ok", "orders": "ok", "customers": "ok", "payments": "ok"}

    # Every associate token names a registered, active associate unless a
    # test's orders stub answers GetAssociate itself.
    orders = orders or FakeStub()
    orders.handlers.setdefault("GetAssociate", registered_associate)
    # A FakeStub stands in for a generated stub: it answers the same calls.
    return Clients(
        inventory=cast(Any, inventory or FakeStub()),
        orders=cast(Any, orders),
        customers=cast(Any, customers or FakeStub()),
        payments=cast(Any, payments or FakeStub()),
        health=health or healthy,
    )


def make_app(clients: Clients, store: IdempotencyStore | None = None, **settings: Any) -> Any:
    return create_app(
        GatewaySettings(
            **{"omni_env": "development", "jwt_secret": SECRET, "database_url": "", **settings}
        ),
        clients=clients,
        idempotency=store or MemoryIdempotencyStore(),
    )


def token(role: str, sub: str = "", **claims: str) -> str:
    return mint_token(
        SECRET,
        sub or f"{role}-sub",
        role,
        customer_id=claims.get("customer_id"),
        store_id=claims.get("store_id"),
        channel=claims.get("channel"),
    )


def with_key(headers: dict[str, str]) -> dict[str, str]:
    """`headers` plus a fresh Idempotency-Key (POST /v1/orders and /v1/returns require one)."""
    import uuid

    return {**headers, "Idempotency-Key": str(uuid.uuid4())}


def bearer(role: str, sub: str = "", **claims: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub, **claims)}"}


def sample_order(
    order_id: str = "O1",
    customer_id: str = "C1",
    *,
    location_id: str = "S1",
    store_id: str = "",
    pickup_code: str = "123456",
) -> orders_pb2.Order:
    from omni.common.v1 import common_pb2
    from omni.orders.v1 import orders_pb2
    from omni.words import Channel, FulfillmentStatus, FulfillmentType, OrderStatus

    return orders_pb2.Order(
        order_id=order_id,
        customer_id=customer_id,
        channel=Channel.WEB.to_proto(),
        status=OrderStatus.PLACED.to_proto(),
        lines=[
            orders_pb2.OrderLine(
                sku="SKU-MUG",
                quantity=2,
                unit_price=common_pb2.Money(amount_minor=1250, currency="USD"),
                returnable_days=30,
            )
        ],
        fulfillments=[
            orders_pb2.Fulfillment(
                fulfillment_id="F1",
                order_id=order_id,
                type=FulfillmentType.PICKUP.to_proto(),
                location_id=location_id,
                status=FulfillmentStatus.PENDING.to_proto(),
                lines=[orders_pb2.FulfillmentLine(sku="SKU-MUG", quantity=2)],
                pickup_code=pickup_code,
            )
        ],
        workflow_id=f"order-{order_id}",
        total=common_pb2.Money(amount_minor=2500, currency="USD"),
        store_id=store_id,
    )


ORDER_BODY: dict[str, Any] = {
    "customer_id": "C1",
    "lines": [{"sku": "SKU-MUG", "quantity": 2}],
    "fulfillment": {"type": "pickup", "location_id": "S1"},
    "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
}


def orders_stub(**extra: Callable[[Any], Any]) -> FakeStub:
    """Orders that place and read back sample orders."""
    from omni.orders.v1 import orders_pb2

    handlers: dict[str, Callable[[Any], Any]] = {
        "PlaceOrder": lambda r: orders_pb2.PlaceOrderResponse(
            order=sample_order(customer_id=r.customer_id)
        ),
        "GetOrder": lambda r: orders_pb2.GetOrderResponse(order=sample_order(r.order_id)),
    }
    handlers.update(extra)
    return FakeStub(**handlers)


def payments_stub() -> FakeStub:
    from omni.common.v1 import common_pb2
    from omni.payments.v1 import payments_pb2
    from omni.words import PaymentStatus, TenderType

    def list_payments(request: Any) -> Any:
        usd = common_pb2.Money(amount_minor=2500, currency="USD")
        return payments_pb2.ListPaymentsResponse(
            payments=[
                payments_pb2.Payment(
                    payment_id="P1",
                    reference=request.reference,
                    tender_type=TenderType.CARD.to_proto(),
                    status=PaymentStatus.AUTHORIZED.to_proto(),
                    authorized=usd,
                    captured=common_pb2.Money(currency="USD"),
                    refunded=common_pb2.Money(currency="USD"),
                )
            ]
        )

    return FakeStub(ListPayments=list_payments)
