"""The signed caller identity and the access tables' rules (services/common/identity.py,
access.py), and the interceptor pair end to end on an in-process server."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common.access import AccessTable, allow
from services.common.identity import (
    METADATA_KEY,
    CallerIdentity,
    IdentityInterceptor,
    InvalidIdentity,
    MissingIdentityKey,
    Role,
    always,
    current_caller,
    identity_key,
    sign,
    verification_keys,
    verify,
)
from tests.support.identity import TEST_IDENTITY_KEY, signed_metadata, trusted_channel

KEY = TEST_IDENTITY_KEY.encode()
METHOD = "/omni.inventory.v1.InventoryService/GetLocation"
ALICE = CallerIdentity("alice", Role.CUSTOMER, customer_id="C-A", channel="web")
CLERK = CallerIdentity("clerk", Role.ASSOCIATE, store_id="S1")
INVENTORY = inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"]


def test_a_signed_identity_verifies_as_the_same_caller() -> None:
    assert verify(sign(ALICE, METHOD, KEY), METHOD, KEY) == ALICE


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "a.b.c",
        sign(ALICE, METHOD, b"another-key-of-thirty-two-bytes-at-least!"),
        # A customer who edits their role keeps the old signature.
        sign(CallerIdentity("alice", Role.ADMIN), METHOD, KEY).split(".")[0]
        + "."
        + sign(ALICE, METHOD, KEY).split(".")[1],
    ],
)
def test_forged_or_malformed_identities_are_refused(value: str) -> None:
    with pytest.raises(InvalidIdentity):
        verify(value, METHOD, KEY)


def test_an_identity_signed_for_one_method_is_refused_on_another() -> None:
    value = sign(ALICE, METHOD, KEY)
    with pytest.raises(InvalidIdentity, match="another method"):
        verify(value, "/omni.inventory.v1.InventoryService/AdjustStock", KEY)


def test_expired_and_too_long_lived_identities_are_refused() -> None:
    with pytest.raises(InvalidIdentity, match="expired"):
        verify(sign(ALICE, METHOD, KEY, now=time.time() - 600), METHOD, KEY)
    with pytest.raises(InvalidIdentity, match="too long"):
        verify(sign(ALICE, METHOD, KEY, ttl=24 * 3600), METHOD, KEY)


def test_a_rotation_accepts_the_previous_key_until_it_is_dropped() -> None:
    old, new = "old-identity-key-0123456789abcdef-0123", "new-identity-key-0123456789abcdef-0123"
    during = verification_keys({"OMNI_IDENTITY_KEY": new, "OMNI_IDENTITY_KEY_PREVIOUS": old})
    signed_with_old = sign(ALICE, METHOD, old.encode())
    assert verify(signed_with_old, METHOD, during) == ALICE
    after = verification_keys({"OMNI_IDENTITY_KEY": new})
    with pytest.raises(InvalidIdentity):
        verify(signed_with_old, METHOD, after)
    with pytest.raises(MissingIdentityKey):
        verification_keys({"OMNI_IDENTITY_KEY": new, "OMNI_IDENTITY_KEY_PREVIOUS": "short"})


def test_the_key_is_required_and_long() -> None:
    with pytest.raises(MissingIdentityKey):
        identity_key({})
    with pytest.raises(MissingIdentityKey):
        identity_key({"OMNI_IDENTITY_KEY": "short"})
    assert identity_key({"OMNI_IDENTITY_KEY": TEST_IDENTITY_KEY}) == KEY


class _Request:
    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)


async def _refusal(table: AccessTable, name: str, caller: CallerIdentity, **fields: Any) -> Any:
    found = await table.refusal(f"/{INVENTORY.full_name}/{name}", caller, _Request(**fields))
    return None if found is None else found.code


async def test_access_rules_by_role_object_and_service() -> None:
    async def merged(mine: str, theirs: str) -> bool:
        return {mine, theirs} == {"C-A", "C-A-old"}

    table = AccessTable(
        INVENTORY,
        {
            "GetLocation": allow(Role.CUSTOMER, own_customer="location_id"),
            "AdjustStock": allow(Role.ASSOCIATE, Role.ADMIN, own_store="location_id"),
            "ReserveStock": allow(Role.WORKFLOW, services=("orders",)),
            "GetStock": allow(Role.CUSTOMER, own_customer="location_id"),
        },
        same_customer=merged,
    )
    denied, hidden = grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND
    assert await _refusal(table, "CreateLocation", ALICE) == denied  # no rule: closed
    assert await _refusal(table, "AdjustStock", ALICE, location_id="S1") == denied
    assert await _refusal(table, "AdjustStock", CLERK, location_id="S1") is None
    assert await _refusal(table, "AdjustStock", CLERK, location_id="S2") == hidden
    assert await _refusal(table, "GetLocation", ALICE, location_id="C-B") == hidden
    assert await _refusal(table, "GetLocation", ALICE, location_id="C-A-old") is None
    assert await _refusal(table, "GetLocation", ALICE, location_id="") == hidden
    orders = CallerIdentity("orders", Role.SERVICE)
    payments = CallerIdentity("payments", Role.SERVICE)
    assert await _refusal(table, "ReserveStock", orders) is None
    assert await _refusal(table, "ReserveStock", payments) == denied
    # A table without `same_customer` compares ids only.
    strict = AccessTable(INVENTORY, table.rules)
    assert await _refusal(strict, "GetStock", ALICE, location_id="C-A-old") == hidden


class _Echo(inventory_pb2_grpc.InventoryServiceServicer):
    """Answers with who the interceptor said is calling."""

    async def GetLocation(self, request: Any, context: Any) -> Any:
        caller = current_caller()
        return inventory_pb2.GetLocationResponse(
            location=inventory_pb2.Location(location_id=request.location_id, name=caller.sub)
        )

    async def WatchAvailability(self, request: Any, context: Any) -> AsyncIterator[Any]:
        yield inventory_pb2.WatchAvailabilityResponse()


@pytest.fixture
async def echo_address() -> AsyncIterator[str]:
    table = AccessTable(
        INVENTORY,
        {
            "GetLocation": allow(Role.CUSTOMER, Role.ADMIN),
            "WatchAvailability": allow(Role.CUSTOMER),
        },
    )
    server = grpc.aio.server(interceptors=[IdentityInterceptor(table, KEY)])
    inventory_pb2_grpc.add_InventoryServiceServicer_to_server(_Echo(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(None)


async def _code(call: Any) -> grpc.StatusCode | None:
    try:
        await call
    except grpc.aio.AioRpcError as error:
        return error.code()
    return None


async def test_the_interceptors_carry_and_check_the_caller(echo_address: str) -> None:
    request = inventory_pb2.GetLocationRequest(location_id="L1")
    async with grpc.aio.insecure_channel(echo_address) as plain:
        stub = inventory_pb2_grpc.InventoryServiceStub(plain)
        assert await _code(stub.GetLocation(request)) == grpc.StatusCode.UNAUTHENTICATED
        forged = ((METADATA_KEY, sign(ALICE, METHOD, b"x" * 40)),)
        assert await _code(stub.GetLocation(request, metadata=forged)) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
        twice = signed_metadata(METHOD, ALICE) * 2
        assert await _code(stub.GetLocation(request, metadata=twice)) == (
            grpc.StatusCode.UNAUTHENTICATED
        )
        value = signed_metadata(METHOD, ALICE)
        reply = await stub.GetLocation(request, metadata=value)
        assert reply.location.name == "alice"
        # Verified once and cached, the value still opens only its own method.
        assert (await stub.GetLocation(request, metadata=value)).location.name == "alice"
        watch = stub.WatchAvailability(inventory_pb2.WatchAvailabilityRequest(), metadata=value)
        with pytest.raises(grpc.aio.AioRpcError) as misdirected:
            _ = [m async for m in watch]
        assert misdirected.value.code() == grpc.StatusCode.UNAUTHENTICATED
    async with trusted_channel(echo_address, ALICE) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        assert (await stub.GetLocation(request)).location.name == "alice"
        watched = [
            m async for m in stub.WatchAvailability(inventory_pb2.WatchAvailabilityRequest())
        ]
        assert len(watched) == 1
        # No rule for CreateLocation in this table: closed to everyone.
        assert await _code(stub.CreateLocation(inventory_pb2.CreateLocationRequest())) == (
            grpc.StatusCode.PERMISSION_DENIED
        )
    clerk = CallerIdentity("clerk", Role.ASSOCIATE, store_id="S1")
    async with trusted_channel(echo_address, always(clerk)) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        assert await _code(stub.GetLocation(request)) == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(LookupError):
        current_caller()


def test_a_client_reuses_a_signed_value_for_the_same_caller_and_method_only() -> None:
    from services.common.identity import AioIdentity

    signer = AioIdentity(always(ALICE), KEY)
    first = signer._value(ALICE, METHOD)
    assert signer._value(ALICE, METHOD) == first
    assert signer._value(CLERK, METHOD) != first
    other = "/omni.inventory.v1.InventoryService/AdjustStock"
    assert verify(signer._value(ALICE, other), other, KEY) == ALICE


async def test_an_activitys_calls_say_which_workflow_they_act_for() -> None:
    from temporalio.testing import ActivityEnvironment

    from workflows.activities.rpc import workflow_caller

    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, workflow_id="order-ord_1")
    caller = environment.run(workflow_caller, METHOD)
    assert caller == CallerIdentity("workflow:order-ord_1", Role.WORKFLOW)
    assert workflow_caller(METHOD).role == Role.WORKFLOW  # outside an activity too
