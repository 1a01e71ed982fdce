"""The customers service as a real process on a real database, called over gRPC."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.words import ActivityKind, Channel, IdentityKind
from services.common.grpc_errors import describe_rpc_error
from tests.support.identity import trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

Stub = customers_pb2_grpc.CustomersServiceStub


@pytest.fixture(scope="module")
def customers_address(migrated_database: Callable[[str], str], logs_dir: Path) -> Iterator[str]:
    port = free_port()
    process = start_module(
        "services.customers.main",
        {"DATABASE_URL": migrated_database("customers"), "GRPC_PORT": str(port)},
        logs_dir / "customers.log",
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_grpc_healthy(address, process)
        yield address
    finally:
        stop_process(process)


@pytest.fixture
async def customers(customers_address: str) -> AsyncIterator[Stub]:
    async with trusted_channel(customers_address) as channel:
        yield customers_pb2_grpc.CustomersServiceStub(channel)


def unique_email() -> str:
    return f"shopper.{uuid.uuid4().hex[:10]}@example.com"


def unique_phone() -> tuple[str, str]:
    """A valid US number (415 area) in a human format and its E.164 form."""
    line = uuid.uuid4().int % 10_000
    return f"(415) 555-{line:04d}", f"+1415555{line:04d}"


async def create(customers: Stub, **fields: Any) -> customers_pb2.CreateCustomerResponse:
    reply: customers_pb2.CreateCustomerResponse = await customers.CreateCustomer(
        customers_pb2.CreateCustomerRequest(**fields)
    )
    return reply


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


async def test_same_email_in_another_case_matches_the_customer(customers: Stub) -> None:
    email = unique_email()
    first = await create(customers, email=f"  {email.upper()} ", name="Ada")
    again = await create(customers, email=email)
    assert (first.created, again.created) == (True, False)
    assert again.customer.customer_id == first.customer.customer_id
    assert first.customer.email == email
    assert first.customer.loyalty_points == 0


async def test_phone_in_different_formats_matches_and_adds_the_new_email(customers: Stub) -> None:
    human, e164 = unique_phone()
    first = await create(customers, phone=human)
    email = unique_email()
    again = await create(customers, phone=e164, email=email)
    assert again.created is False
    assert again.customer.customer_id == first.customer.customer_id
    fetched = await customers.GetCustomer(
        customers_pb2.GetCustomerRequest(customer_id=first.customer.customer_id)
    )
    identities = {(IdentityKind.from_proto(i.kind), i.value) for i in fetched.customer.identities}
    assert identities == {("phone", e164), ("email", email)}
    assert (fetched.customer.phone, fetched.customer.email) == (e164, email)


async def test_concurrent_creates_with_one_email_make_one_customer(customers: Stub) -> None:
    email = unique_email()
    replies = await asyncio.gather(*(create(customers, email=email) for _ in range(8)))
    assert len({reply.customer.customer_id for reply in replies}) == 1
    assert sum(reply.created for reply in replies) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"email": "nope"}, "email"), ({"phone": "12"}, "phone"), ({"name": "Nobody"}, "email")],
)
async def test_invalid_creates_name_the_field(
    customers: Stub, fields: dict[str, str], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await create(customers, **fields)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(refused.value).violations] == [field]


async def test_unknown_customer_is_not_found(customers: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await customers.GetCustomer(customers_pb2.GetCustomerRequest(customer_id=str(uuid.uuid4())))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


async def test_recording_an_activity_twice_keeps_one_entry(customers: Stub) -> None:
    customer_id = (await create(customers, email=unique_email())).customer.customer_id
    placed_at = datetime(2025, 5, 1, 10, 0, tzinfo=UTC)
    order_id = f"order-{uuid.uuid4().hex[:8]}"
    first = await customers.RecordActivity(
        customers_pb2.RecordActivityRequest(
            customer_id=customer_id,
            activity=customers_pb2.Activity(
                kind=ActivityKind.ORDER.to_proto(),
                reference_id=order_id,
                channel=Channel.WEB.to_proto(),
                status="placed",
                occurred_at=at(placed_at),
            ),
        )
    )
    second = await customers.RecordActivity(
        customers_pb2.RecordActivityRequest(
            customer_id=customer_id,
            activity=customers_pb2.Activity(
                kind=ActivityKind.ORDER.to_proto(),
                reference_id=order_id,
                status="picked_up",
                occurred_at=at(placed_at + timedelta(days=1)),
            ),
        )
    )
    assert first.activity.status == "placed"
    channel = Channel.from_proto(second.activity.channel)
    assert (second.activity.status, channel) == ("picked_up", "web")
    assert second.activity.occurred_at.ToDatetime(tzinfo=UTC) == placed_at

    listed = await customers.ListActivities(
        customers_pb2.ListActivitiesRequest(customer_id=customer_id)
    )
    assert [(a.reference_id, a.status) for a in listed.activities] == [(order_id, "picked_up")]


async def test_activities_list_newest_first_across_pages(customers: Stub) -> None:
    customer_id = (await create(customers, email=unique_email())).customer.customer_id
    start = datetime(2025, 1, 1, tzinfo=UTC)
    recorded = []
    for day in (3, 1, 4, 2, 5):
        kind = "return" if day == 4 else "order"
        reference_id = f"{kind}-{day}-{uuid.uuid4().hex[:6]}"
        recorded.append((start + timedelta(days=day), reference_id))
        await customers.RecordActivity(
            customers_pb2.RecordActivityRequest(
                customer_id=customer_id,
                activity=customers_pb2.Activity(
                    kind=ActivityKind(kind).to_proto(),
                    reference_id=reference_id,
                    status="placed",
                    occurred_at=at(start + timedelta(days=day)),
                ),
            )
        )
    newest_first = [reference for _, reference in sorted(recorded, reverse=True)]

    seen: list[str] = []
    token = ""
    for _ in range(5):
        page = await customers.ListActivities(
            customers_pb2.ListActivitiesRequest(customer_id=customer_id, limit=2, page_token=token)
        )
        seen.extend(a.reference_id for a in page.activities)
        token = page.next_page_token
        if not token:
            break
    assert seen == newest_first


async def test_activity_for_unknown_customer_or_kind_is_refused(customers: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await customers.RecordActivity(
            customers_pb2.RecordActivityRequest(
                customer_id=str(uuid.uuid4()),
                activity=customers_pb2.Activity(
                    kind=ActivityKind.ORDER.to_proto(), reference_id="o1", status="placed"
                ),
            )
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND

    customer_id = (await create(customers, email=unique_email())).customer.customer_id
    with pytest.raises(grpc.aio.AioRpcError) as wrong_kind:
        await customers.RecordActivity(
            customers_pb2.RecordActivityRequest(
                customer_id=customer_id,
                # No kind this service knows (the wire's unspecified).
                activity=customers_pb2.Activity(
                    kind=customers_pb2.ACTIVITY_KIND_UNSPECIFIED, reference_id="r1"
                ),
            )
        )
    assert wrong_kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(wrong_kind.value).violations] == ["activity.kind"]
