"""Who may see an order, as the orders service says: GetOrder asked as the
caller of the payments RPC (the channel forwards the current caller, signed),
so the orders service's object check — own orders, merged customer ids
included; an associate's store — decides what a customer or associate
reads of the order's payments (access.check_reference_visible)."""

from __future__ import annotations

import grpc

from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from services.common.errors import Unavailable
from services.common.identity import CallerIdentity, caller_or_none

ORDERS_TIMEOUT_SECONDS = 5.0

# The order is not there for this caller (not theirs, or no such order).
_HIDDEN = (
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.INVALID_ARGUMENT,
)


def forward_caller(method: str) -> CallerIdentity | None:
    """The channel's identity source: whoever called this payments RPC."""
    return caller_or_none()


class OrdersAsCaller:
    def __init__(
        self,
        stub: orders_pb2_grpc.OrdersServiceStub,
        timeout_seconds: float = ORDERS_TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def order_visible(self, reference: str) -> bool:
        try:
            await self._stub.GetOrder(
                orders_pb2.GetOrderRequest(order_id=reference), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in _HIDDEN:
                return False
            raise Unavailable(f"orders: {error.details()}") from error
        return True
