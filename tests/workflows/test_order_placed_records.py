"""customers.record_order_placed: the three records of a placed order go out
side by side (the journey holds its lock until they are done, so a store
action right after placement waits for the slowest, not for their sum), and
one that fails leaves the others done before the activity fails for a retry.

A scripted customers servicer behind the real ErrorInterceptor stands in for
the service, so the activity reads real status details.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import grpc
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.errors import NotFound, Unavailable
from tests.support.grpc_server import serving
from workflows.activities.customers import CustomerActivities
from workflows.contracts.activities import (
    CheckoutCartInput,
    CustomerActivityInput,
    OrderPlacedInput,
    TimelineEventInput,
)

CALLS = ("RecordActivity", "RecordTimelineEvent", "CheckoutCart")
# Long enough for three local calls to arrive; a call made only after the
# one held here answered never arrives in it.
ARRIVAL_SECONDS = 5.0


@dataclass
class ScriptedCustomers(customers_pb2_grpc.CustomersServiceServicer):
    """Each call waits until every call named in `together` has arrived (or
    ARRIVAL_SECONDS pass), then answers or raises as `fail` says."""

    together: tuple[str, ...] = ()
    fail: dict[str, Exception] = field(default_factory=dict)
    arrived: dict[str, asyncio.Event] = field(
        default_factory=lambda: {name: asyncio.Event() for name in CALLS}
    )
    answered: list[str] = field(default_factory=list)
    waited_out: list[str] = field(default_factory=list)

    async def _answer(self, name: str) -> None:
        self.arrived[name].set()
        for other in self.together:
            try:
                await asyncio.wait_for(self.arrived[other].wait(), ARRIVAL_SECONDS)
            except TimeoutError:
                self.waited_out.append(f"{name} waited for {other}")
        if name in self.fail:
            raise self.fail[name]
        self.answered.append(name)

    async def RecordActivity(
        self, request: customers_pb2.RecordActivityRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.RecordActivityResponse:
        await self._answer("RecordActivity")
        return customers_pb2.RecordActivityResponse(activity=request.activity)

    async def RecordTimelineEvent(
        self,
        request: customers_pb2.RecordTimelineEventRequest,
        context: grpc.aio.ServicerContext,
    ) -> customers_pb2.RecordTimelineEventResponse:
        await self._answer("RecordTimelineEvent")
        return customers_pb2.RecordTimelineEventResponse(event=request.event, recorded=True)

    async def CheckoutCart(
        self, request: customers_pb2.CheckoutCartRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.CheckoutCartResponse:
        await self._answer("CheckoutCart")
        return customers_pb2.CheckoutCartResponse(checked_out=True)


@asynccontextmanager
async def serving_customers(customers: ScriptedCustomers) -> AsyncIterator[CustomerActivities]:
    add = customers_pb2_grpc.add_CustomersServiceServicer_to_server
    async with serving(add, customers) as channel:
        yield CustomerActivities(customers_pb2_grpc.CustomersServiceStub(channel))


def placed() -> OrderPlacedInput:
    return OrderPlacedInput(
        activity=CustomerActivityInput("c-1", "order", "o-1", "web", "placed", "o-1"),
        timeline=TimelineEventInput(
            "order-o-1/timeline/order_placed", "c-1", "order_placed", "o-1", "web", "placed"
        ),
        cart=CheckoutCartInput("c-1", "o-1", ["SKU-A"]),
    )


async def test_the_three_records_are_in_flight_together() -> None:
    # Each call is held until the other two have arrived: one after another,
    # the first would wait out ARRIVAL_SECONDS for calls not yet made.
    customers = ScriptedCustomers(together=CALLS)
    async with serving_customers(customers) as activities:
        await ActivityEnvironment().run(activities.record_order_placed, placed())
    assert customers.waited_out == []
    assert sorted(customers.answered) == sorted(CALLS)


@pytest.mark.parametrize("failing", ["RecordActivity", "RecordTimelineEvent"])
async def test_a_record_that_fails_leaves_the_others_done_and_fails_for_a_retry(
    failing: str,
) -> None:
    customers = ScriptedCustomers(fail={failing: Unavailable("customers database unavailable")})
    async with serving_customers(customers) as activities:
        with pytest.raises(ApplicationError) as failed:
            await ActivityEnvironment().run(activities.record_order_placed, placed())
    # Retryable, and nothing still running when it was raised.
    assert (failed.value.type, failed.value.non_retryable) == ("UNAVAILABLE", False)
    assert sorted(customers.answered) == sorted(set(CALLS) - {failing})


async def test_a_refused_checkout_is_logged_and_the_records_stand() -> None:
    customers = ScriptedCustomers(fail={"CheckoutCart": NotFound("no cart for c-1")})
    async with serving_customers(customers) as activities:
        await ActivityEnvironment().run(activities.record_order_placed, placed())
    assert sorted(customers.answered) == ["RecordActivity", "RecordTimelineEvent"]


async def test_an_unknown_customer_is_refused_for_good() -> None:
    refusal = NotFound("no customer c-1")
    customers = ScriptedCustomers(fail=dict.fromkeys(CALLS, refusal))
    async with serving_customers(customers) as activities:
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(activities.record_order_placed, placed())
    assert (refused.value.type, refused.value.non_retryable) == ("NOT_FOUND", True)
