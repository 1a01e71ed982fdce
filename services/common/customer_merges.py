"""Which customer an id answers as after merges, from the customers service's
GetCustomer (the survivor's record answers for a merged duplicate's id): the
orders and payments services' object-level checks (their access.py) count a
customer's merged duplicates' records as theirs, as the gateway does."""

from __future__ import annotations

import grpc

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.errors import Unavailable

CUSTOMERS_TIMEOUT_SECONDS = 5.0


class CustomerMerges:
    def __init__(
        self,
        stub: customers_pb2_grpc.CustomersServiceStub,
        timeout_seconds: float = CUSTOMERS_TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def _survivor(self, customer_id: str) -> str | None:
        try:
            reply = await self._stub.GetCustomer(
                customers_pb2.GetCustomerRequest(customer_id=customer_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise Unavailable(f"customers: {error.details()}") from error
        return str(reply.customer.customer_id)

    async def same_customer(self, mine: str, theirs: str) -> bool:
        survivor = await self._survivor(mine)
        return survivor is not None and survivor == await self._survivor(theirs)
