"""The till's and the call centre's customer lookup (issue 14) on the real
customers service and database: exact matches only, normalized as at
creation, merged ids resolved to the survivor, erased customers never found,
and only staff may look."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import grpc
import pytest

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.identity import CallerIdentity, Role
from tests.support.identity import trusted_channel
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

pb = customers_pb2
Stub = customers_pb2_grpc.CustomersServiceStub


@pytest.fixture(scope="module")
def customers_address(migrated_database: Callable[[str], str], logs_dir: Path) -> Iterator[str]:
    port = free_port()
    process = start_module(
        "services.customers.main",
        {
            "DATABASE_URL": migrated_database("customers"),
            "GRPC_PORT": str(port),
            "CART_REMINDERS": "false",
        },
        logs_dir / "customers-lookup.log",
    )
    try:
        address = f"127.0.0.1:{port}"
        wait_grpc_healthy(address, process)
        yield address
    finally:
        stop_process(process)


@pytest.fixture
async def admin(customers_address: str) -> AsyncIterator[Stub]:
    async with trusted_channel(customers_address) as channel:
        yield Stub(channel)


def phone() -> str:
    return f"+1212555{uuid.uuid4().int % 10000:04d}"


async def new_customer(customers: Stub, **fields: str) -> pb.Customer:
    fields.setdefault("email", f"look.{uuid.uuid4().hex[:10]}@example.com")
    reply = await customers.CreateCustomer(pb.CreateCustomerRequest(name="Ada Shopper", **fields))  # type: ignore[arg-type]
    return reply.customer


async def found(customers: Stub, **query: str) -> list[str]:
    reply = await customers.FindCustomers(pb.FindCustomersRequest(**query))
    return [c.customer_id for c in reply.customers]


async def test_exact_matches_are_normalized_as_at_creation(admin: Stub) -> None:
    card = "LC" + uuid.uuid4().hex[:8].upper()
    number = phone()
    ada = await new_customer(admin, phone=number, loyalty_card=card)
    assert await found(admin, email=ada.email.upper()) == [ada.customer_id]
    national = f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    assert await found(admin, phone=national) == [ada.customer_id]
    assert await found(admin, loyalty_card=f"{card[:4].lower()}-{card[4:]}") == [ada.customer_id]
    # Several identities of one customer: the customer once.
    assert await found(admin, email=ada.email, phone=number) == [ada.customer_id]
    # No partial matches.
    assert await found(admin, email=ada.email[:-4] + ".org") == []
    assert await found(admin, loyalty_card=card[:-1]) == []


async def test_a_bad_identity_is_invalid_and_none_at_all_is_refused(admin: Stub) -> None:
    for query in ({"email": "not-an-email"}, {"phone": "12"}, {}):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await found(admin, **query)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_merged_duplicate_is_found_as_its_survivor_and_an_erased_one_not_at_all(
    admin: Stub,
) -> None:
    survivor = await new_customer(admin)
    duplicate = await new_customer(admin, phone=phone())
    await admin.MergeCustomers(
        pb.MergeCustomersRequest(
            survivor_customer_id=survivor.customer_id,
            duplicate_customer_id=duplicate.customer_id,
            actor="agent-1",
        )
    )
    assert await found(admin, email=duplicate.email) == [survivor.customer_id]
    assert await found(admin, email=survivor.email, phone=duplicate.phone) == [survivor.customer_id]
    gone = await new_customer(admin)
    await admin.EraseCustomer(pb.EraseCustomerRequest(customer_id=gone.customer_id, actor="x"))
    assert await found(admin, email=gone.email) == []


@pytest.mark.parametrize(
    ("caller", "allowed"),
    [
        (CallerIdentity(sub="A1", role=Role.ASSOCIATE, store_id="S1"), True),
        (CallerIdentity(sub="agent-1", role=Role.AGENT), True),
        (CallerIdentity(sub="c", role=Role.CUSTOMER, customer_id="C-X"), False),
        (CallerIdentity(sub="g", role=Role.GUEST), False),
    ],
    ids=["associate", "agent", "customer", "guest"],
)
async def test_only_staff_may_look_customers_up(
    admin: Stub, customers_address: str, caller: CallerIdentity, allowed: bool
) -> None:
    ada = await new_customer(admin)
    async with trusted_channel(customers_address, caller) as channel:
        if allowed:
            assert await found(Stub(channel), email=ada.email) == [ada.customer_id]
        else:
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await found(Stub(channel), email=ada.email)
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
