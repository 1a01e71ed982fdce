"""The activities' side of the line: gRPC errors become Temporal failures.

A small in-process inventory servicer behind the real ErrorInterceptor
stands in for the service, so the activity reads real status details.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from omni.customers.v1 import customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.orders.v1 import orders_pb2_grpc
from omni.payments.v1 import payments_pb2_grpc
from services.common.errors import BusinessRuleViolation, InvalidArgument, Unavailable
from tests.support.grpc_server import serving
from tests.workflows.fakes import FakeServices
from workflows.activities.customers import CustomerActivities
from workflows.activities.inventory import InventoryActivities
from workflows.activities.orders import OrderActivities
from workflows.activities.payments import PaymentActivities
from workflows.contracts.activities import ReleaseReservationInput, ReserveStockInput, SkuQty
from workflows.order.saga import Saga
from workflows.worker import activities_for


class ScriptedInventory(inventory_pb2_grpc.InventoryServiceServicer):
    """Answers ReserveStock by location id: the id names the outcome."""

    async def ReserveStock(
        self, request: inventory_pb2.ReserveStockRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.ReserveStockResponse:
        if request.location_id == "empty":
            raise BusinessRuleViolation(
                "INSUFFICIENT_STOCK", "not enough SKU-A", {"sku": "SKU-A", "available": "1"}
            )
        if request.location_id == "":
            raise InvalidArgument.field("location_id", "is required")
        if request.location_id == "down":
            raise Unavailable("database unavailable")
        return inventory_pb2.ReserveStockResponse(
            reservation=inventory_pb2.Reservation(
                reservation_id=request.reservation_id,
                location_id=request.location_id,
                status=inventory_pb2.RESERVATION_STATUS_ACTIVE,
                lines=request.lines,
            )
        )

    async def ReleaseReservation(
        self, request: inventory_pb2.ReleaseReservationRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.ReleaseReservationResponse:
        # Unknown reservation: an empty answer, as the real service gives.
        return inventory_pb2.ReleaseReservationResponse()


@pytest.fixture
async def inventory() -> AsyncIterator[InventoryActivities]:
    add = inventory_pb2_grpc.add_InventoryServiceServicer_to_server
    async with serving(add, ScriptedInventory()) as channel:
        yield InventoryActivities(inventory_pb2_grpc.InventoryServiceStub(channel))


def reserve_at(location_id: str) -> ReserveStockInput:
    return ReserveStockInput("r-1", "o-1", location_id, [SkuQty("SKU-A", 2)], "web")


async def test_reserve_returns_the_reservation(inventory: InventoryActivities) -> None:
    result = await ActivityEnvironment().run(inventory.reserve_stock, reserve_at("store-1"))
    assert (result.reservation_id, result.location_id, result.status) == (
        "r-1",
        "store-1",
        "active",
    )


async def test_business_refusal_is_non_retryable_with_reason_and_details(
    inventory: InventoryActivities,
) -> None:
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(inventory.reserve_stock, reserve_at("empty"))
    assert refused.value.type == "INSUFFICIENT_STOCK"
    assert refused.value.non_retryable
    assert refused.value.details[0] == {"sku": "SKU-A", "available": "1"}


async def test_bad_argument_is_non_retryable(inventory: InventoryActivities) -> None:
    with pytest.raises(ApplicationError) as refused:
        await ActivityEnvironment().run(inventory.reserve_stock, reserve_at(""))
    assert (refused.value.type, refused.value.non_retryable) == ("INVALID_ARGUMENT", True)
    assert refused.value.details[0] == {"field:location_id": "is required"}


async def test_unavailable_stays_retryable(inventory: InventoryActivities) -> None:
    with pytest.raises(ApplicationError) as failed:
        await ActivityEnvironment().run(inventory.reserve_stock, reserve_at("down"))
    assert (failed.value.type, failed.value.non_retryable) == ("UNAVAILABLE", False)


async def test_release_of_an_unknown_reservation_is_harmless(
    inventory: InventoryActivities,
) -> None:
    result = await ActivityEnvironment().run(
        inventory.release_reservation, ReleaseReservationInput("never-made")
    )
    assert result.reservation_id == ""


def activity_names(functions: list[Any]) -> set[str]:
    names = set()
    for function in functions:
        definition = activity._Definition.from_callable(function)
        assert definition is not None and definition.name
        names.add(definition.name)
    return names


async def test_fakes_answer_to_every_real_activity_name() -> None:
    channel = grpc.aio.insecure_channel("127.0.0.1:1")  # never used
    real = activities_for(
        InventoryActivities(inventory_pb2_grpc.InventoryServiceStub(channel)),
        PaymentActivities(payments_pb2_grpc.PaymentsServiceStub(channel)),
        OrderActivities(orders_pb2_grpc.OrdersServiceStub(channel)),
        CustomerActivities(customers_pb2_grpc.CustomersServiceStub(channel)),
    )
    assert activity_names(real) == activity_names(FakeServices().activities())
    assert len(real) == len(activity_names(real))
    await channel.close()


async def test_saga_compensates_newest_first_and_keeps_going_after_a_failure() -> None:
    undone: list[str] = []

    def undo(name: str, fail: bool = False) -> Any:
        async def run() -> None:
            undone.append(name)
            if fail:
                raise RuntimeError(f"{name} failed")

        return run

    saga = Saga()
    saga.push("reservation", undo("release"))
    saga.push("payment/0", undo("void-0", fail=True))
    saga.push("payment/1", undo("void-1"))
    saga.replace("payment/1", undo("refund-1"))
    with pytest.raises(RuntimeError, match="void-0 failed"):
        await saga.compensate()
    assert undone == ["refund-1", "void-0", "release"]
    assert saga.pending == []
    # Nothing left: a second run undoes nothing twice.
    await saga.compensate()
    assert undone == ["refund-1", "void-0", "release"]
