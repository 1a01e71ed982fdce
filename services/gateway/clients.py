"""gRPC stubs of the four services, one call helper, and dependency health.

Every call carries the request's caller (the verified token's sub, role,
customer_id, store_id and channel) as signed metadata (services/common/identity.py):
AuthenticationMiddleware hands the principal to `forward_caller`, and the
channels sign it for each RPC, so no route can forget it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc

from omni.customers.v1 import customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2_grpc
from omni.orders.v1 import orders_pb2_grpc
from omni.payments.v1 import payments_pb2_grpc
from services.common.channels import open_channel
from services.common.identity import CallerIdentity, Role
from services.gateway.problems import problem_from_rpc_error
from services.gateway.settings import GatewaySettings
from services.gateway.tracing import outgoing_metadata

if TYPE_CHECKING:
    from services.gateway.auth import Principal

logger = logging.getLogger(__name__)

ResponseT = TypeVar("ResponseT", bound=Message)
HealthCheck = Callable[[], Awaitable[dict[str, str]]]
SERVICES = ("inventory", "orders", "customers", "payments")
# What Temporal's frontend answers the standard gRPC health check for (the
# check temporalio's service_client.check_health() sends).
TEMPORAL_HEALTH_SERVICE = "temporal.api.workflowservice.v1.WorkflowService"


_caller: ContextVar[CallerIdentity | None] = ContextVar("gateway_caller", default=None)


def forward_caller(principal: Principal | None) -> None:
    """Makes `principal` the caller of this request's RPCs (None: no identity,
    and the services refuse)."""
    _caller.set(
        None
        if principal is None
        else CallerIdentity(
            sub=principal.sub,
            role=Role(principal.role),
            customer_id=principal.customer_id,
            store_id=principal.store_id,
            channel=str(principal.channel or ""),
        )
    )


def forwarded_caller(_method: str) -> CallerIdentity | None:
    return _caller.get()


async def call(
    method: Callable[..., Awaitable[ResponseT]], request: Message, *, deadline: float
) -> ResponseT:
    """One RPC with a deadline and the trace context; failures become problems."""
    try:
        return await method(request, timeout=deadline, metadata=outgoing_metadata())
    except grpc.RpcError as error:
        raise problem_from_rpc_error(error) from None


@dataclass
class Clients:
    """The stubs the routes use. Tests build it from small fakes."""

    inventory: inventory_pb2_grpc.InventoryServiceStub
    orders: orders_pb2_grpc.OrdersServiceStub
    customers: customers_pb2_grpc.CustomersServiceStub
    payments: payments_pb2_grpc.PaymentsServiceStub
    health: HealthCheck
    close: Callable[[], Awaitable[None]] = field(default=lambda: _nothing())


async def _nothing() -> None:
    return None


class _TemporalHealth:
    """Temporal's frontend over the standard gRPC health protocol: the
    gateway needs no Temporal SDK (and its Rust runtime, ~30 MB) for this."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self._stub = health_pb2_grpc.HealthStub(self._channel)

    async def check(self, deadline: float) -> bool:
        reply = await self._stub.Check(
            health_pb2.HealthCheckRequest(service=TEMPORAL_HEALTH_SERVICE), timeout=deadline
        )
        return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

    async def close(self) -> None:
        await self._channel.close()


def connect(settings: GatewaySettings) -> Clients:
    addresses = {
        "inventory": settings.inventory_addr,
        "orders": settings.orders_addr,
        "customers": settings.customers_addr,
        "payments": settings.payments_addr,
    }
    channels = {
        name: open_channel(address, forwarded_caller) for name, address in addresses.items()
    }
    temporal = _TemporalHealth(settings.temporal_address)
    timeout = settings.health_timeout_seconds

    async def check_service(name: str) -> str:
        stub = health_pb2_grpc.HealthStub(channels[name])
        try:
            reply = await stub.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as error:
            return f"unavailable: {error.code().name}"
        if reply.status != health_pb2.HealthCheckResponse.SERVING:
            return "not serving"
        return "ok"

    async def check_temporal() -> str:
        try:
            serving = await asyncio.wait_for(temporal.check(timeout), timeout)
        except Exception as error:  # any failure means "down" here
            logger.warning("temporal health check failed: %s", type(error).__name__)
            return "unavailable"
        return "ok" if serving else "unavailable"

    async def health() -> dict[str, str]:
        names = [*SERVICES, "temporal"]
        results = await asyncio.gather(*[check_service(n) for n in SERVICES], check_temporal())
        return dict(zip(names, results, strict=True))

    async def close() -> None:
        for channel in channels.values():
            await channel.close()
        await temporal.close()

    return Clients(
        inventory=inventory_pb2_grpc.InventoryServiceStub(channels["inventory"]),
        orders=orders_pb2_grpc.OrdersServiceStub(channels["orders"]),
        customers=customers_pb2_grpc.CustomersServiceStub(channels["customers"]),
        payments=payments_pb2_grpc.PaymentsServiceStub(channels["payments"]),
        health=health,
        close=close,
    )
