"""Customer activities: keep each customer's cross-channel history current."""

from __future__ import annotations

from temporalio import activity

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from workflows.activities.rpc import RPC_TIMEOUT_SECONDS, call
from workflows.activity_types import CustomerActivityInput


class CustomerActivities:
    def __init__(self, stub: customers_pb2_grpc.CustomersServiceStub) -> None:
        self._stub = stub

    @activity.defn(name="customers.record_activity")
    async def record_activity(self, request: CustomerActivityInput) -> None:
        await call(
            self._stub.RecordActivity(
                customers_pb2.RecordActivityRequest(
                    customer_id=request.customer_id,
                    activity=customers_pb2.Activity(
                        kind=request.kind,
                        reference_id=request.reference_id,
                        channel=request.channel,
                        status=request.status,
                        order_id=request.order_id,
                    ),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
