"""The store outbox on the real customers service and PostgreSQL (issue 11):
a message stored once per id (concurrent repeats included), bad input
refused with nothing stored, newest first with a cursor, and only that
store's associates (and admins) may read it, only the journeys write it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest

from omni.customers.v1 import customers_pb2 as pb
from omni.customers.v1 import customers_pb2_grpc
from services.common.grpc_errors import describe_rpc_error
from services.common.identity import CallerIdentity, Role
from tests.support.identity import WORKFLOW, trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

Stub = customers_pb2_grpc.CustomersServiceStub


@pytest.fixture(scope="module")
def customers_address(migrated_database: Callable[[str], str], logs_dir: Path) -> Iterator[str]:
    port = free_port()
    process = start_module(
        "services.customers.main",
        {"DATABASE_URL": migrated_database("customers"), "GRPC_PORT": str(port)},
        logs_dir / "customers-store-outbox.log",
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
        yield Stub(channel)


def overdue(store_id: str, n: int = 1) -> pb.SendStoreNotificationRequest:
    return pb.SendStoreNotificationRequest(
        notification_id=f"order-O{n}-{store_id}/store_notify/pick_overdue",
        store_id=store_id,
        kind=pb.STORE_NOTIFICATION_KIND_PICK_OVERDUE,
        reference_id=f"O{n}",
        details={
            "order_id": f"O{n}",
            "fulfillment_id": f"O{n}-F1",
            "sla_minutes": "120",
            "lines": "2 x SKU-MUG",
        },
    )


async def listed(stub: Stub, store_id: str, **paging: object) -> pb.ListStoreNotificationsResponse:
    return await stub.ListStoreNotifications(
        pb.ListStoreNotificationsRequest(store_id=store_id, **paging)  # type: ignore[arg-type]
    )


async def test_concurrent_repeats_store_one_message(customers: Stub) -> None:
    store = f"S-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(
        *(customers.SendStoreNotification(overdue(store)) for _ in range(12))
    )
    assert {a.notification.notification_id for a in answers} == {overdue(store).notification_id}
    assert len({a.notification.created_at.ToDatetime() for a in answers}) == 1
    [message] = (await listed(customers, store)).notifications
    assert message.kind == pb.STORE_NOTIFICATION_KIND_PICK_OVERDUE
    assert "O1-F1 of order O1" in message.body and "2 x SKU-MUG" in message.body
    assert "120-minute pick SLA" in message.body


async def test_bad_input_is_refused_and_stores_nothing(customers: Stub) -> None:
    store = f"S-{uuid.uuid4().hex[:8]}"
    bad = pb.SendStoreNotificationRequest(notification_id="", store_id="no spaces allowed")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await customers.SendStoreNotification(bad)
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {"notification_id", "store_id", "kind"}
    unknown_kind = overdue(store)
    unknown_kind.kind = pb.STORE_NOTIFICATION_KIND_UNSPECIFIED
    with pytest.raises(grpc.aio.AioRpcError) as no_kind:
        await customers.SendStoreNotification(unknown_kind)
    assert no_kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list((await listed(customers, store)).notifications) == []


async def test_newest_first_a_page_at_a_time_per_store(customers: Stub) -> None:
    store, other = f"S-{uuid.uuid4().hex[:8]}", f"S-{uuid.uuid4().hex[:8]}"
    for n in (1, 2, 3):
        await customers.SendStoreNotification(overdue(store, n))
    await customers.SendStoreNotification(overdue(other, 9))
    first = await listed(customers, store, limit=2)
    assert [m.reference_id for m in first.notifications] == ["O3", "O2"]
    rest = await listed(customers, store, limit=2, page_token=first.next_page_token)
    assert [m.reference_id for m in rest.notifications] == ["O1"]
    assert rest.next_page_token == ""
    assert [m.reference_id for m in (await listed(customers, other)).notifications] == ["O9"]


async def test_only_the_store_reads_and_only_the_journeys_write(customers_address: str) -> None:
    store = f"S-{uuid.uuid4().hex[:8]}"
    async with trusted_channel(customers_address, WORKFLOW) as channel:
        await Stub(channel).SendStoreNotification(overdue(store))
    own = CallerIdentity(sub="A-1", role=Role.ASSOCIATE, store_id=store)
    async with trusted_channel(customers_address, own) as channel:
        assert len((await listed(Stub(channel), store)).notifications) == 1
        with pytest.raises(grpc.aio.AioRpcError) as writes:
            await Stub(channel).SendStoreNotification(overdue(store, 2))
        assert writes.value.code() == grpc.StatusCode.PERMISSION_DENIED
    elsewhere = CallerIdentity(sub="A-2", role=Role.ASSOCIATE, store_id="S-OTHER")
    customer = CallerIdentity(sub="C-1", role=Role.CUSTOMER, customer_id="C-1")
    # Another store's associate is told it is not there; a customer may not ask.
    for caller, code in (
        (elsewhere, grpc.StatusCode.NOT_FOUND),
        (customer, grpc.StatusCode.PERMISSION_DENIED),
    ):
        async with trusted_channel(customers_address, caller) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await listed(Stub(channel), store)
            assert refused.value.code() == code
