"""UpdateLocation (PATCH /v1/locations/{id}) on the real inventory service and
PostgreSQL: a partial update, bad input that changes nothing, concurrent
patches that all land, and the service's own check of the caller."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import LocationKind
from services.common.grpc_errors import describe_rpc_error
from services.common.identity import CallerIdentity, Role
from tests.support.identity import trusted_channel
from tests.support.inventory import (
    RunningInventory,
    Stub,
    create_location,
    random_point,
    unique,
)


async def get(stub: Stub, location_id: str) -> pb.Location:
    return (await stub.GetLocation(pb.GetLocationRequest(location_id=location_id))).location


async def test_a_patch_changes_only_the_fields_it_sets(stub: Stub):
    location_id = await create_location(stub, random_point(), daily_order_capacity=50)
    before = await get(stub, location_id)
    point = random_point()

    changed = (
        await stub.UpdateLocation(
            pb.UpdateLocationRequest(
                location_id=location_id,
                pick_sla_minutes=0.05,
                daily_order_capacity=0,  # set, even though 0: no limit
                timezone="Europe/Paris",
                point=point,
            )
        )
    ).location

    assert changed.pick_sla_minutes == pytest.approx(0.05)
    assert changed.daily_order_capacity == 0
    assert changed.timezone == "Europe/Paris"
    assert changed.point.lat == pytest.approx(point.lat)
    # Everything the request left unset is as it was.
    assert changed.name == before.name
    assert changed.kind == before.kind
    assert changed.pickup_enabled == before.pickup_enabled
    assert changed.ship_from_enabled == before.ship_from_enabled
    assert changed.pickup_window_hours == before.pickup_window_hours
    assert changed.curbside_sla_minutes == before.curbside_sla_minutes
    assert await get(stub, location_id) == changed

    # A duration of 0 means the default, as on create.
    defaulted = (
        await stub.UpdateLocation(
            pb.UpdateLocationRequest(location_id=location_id, pick_sla_minutes=0)
        )
    ).location
    assert defaulted.pick_sla_minutes == 120
    # A kind and a flag can be turned off.
    warehouse = (
        await stub.UpdateLocation(
            pb.UpdateLocationRequest(
                location_id=location_id,
                kind=LocationKind.WAREHOUSE.to_proto(),
                pickup_enabled=False,
            )
        )
    ).location
    assert warehouse.kind == LocationKind.WAREHOUSE.to_proto()
    assert warehouse.pickup_enabled is False


async def test_bad_patch_names_each_field_and_changes_nothing(stub: Stub):
    location_id = await create_location(stub, random_point())
    before = await get(stub, location_id)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.UpdateLocation(
            pb.UpdateLocationRequest(
                location_id=location_id,
                name="Renamed",  # good, but the request is refused whole
                daily_order_capacity=-1,
                pick_sla_minutes=-5,
                timezone="Mars/Olympus",
                tax_region="X" * 40,
                point=common_pb2.GeoPoint(lat=91, lon=0),
            )
        )
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {
        "location.daily_order_capacity",
        "location.pick_sla_minutes",
        "location.timezone",
        "location.tax_region",
        "location.point.lat",
    }
    assert await get(stub, location_id) == before

    with pytest.raises(grpc.aio.AioRpcError) as blank:
        await stub.UpdateLocation(pb.UpdateLocationRequest(location_id=location_id, name="  "))
    assert blank.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert await get(stub, location_id) == before

    with pytest.raises(grpc.aio.AioRpcError) as no_such_kind:
        await stub.UpdateLocation(pb.UpdateLocationRequest(location_id=location_id, kind=99))  # type: ignore[arg-type]
    assert no_such_kind.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in describe_rpc_error(no_such_kind.value).violations] == ["location.kind"]
    assert await get(stub, location_id) == before

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.UpdateLocation(pb.UpdateLocationRequest(location_id=unique("NOPE"), name="x"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_concurrent_patches_of_different_fields_all_land(stub: Stub):
    """Each patch reads and writes the row under its lock: no patch loses another's field."""
    location_id = await create_location(stub, random_point())
    patches = [
        pb.UpdateLocationRequest(location_id=location_id, name="Renamed at once"),
        pb.UpdateLocationRequest(location_id=location_id, pick_sla_minutes=7.5),
        pb.UpdateLocationRequest(location_id=location_id, curbside_sla_minutes=3),
        pb.UpdateLocationRequest(location_id=location_id, daily_order_capacity=11),
        pb.UpdateLocationRequest(location_id=location_id, timezone="America/New_York"),
        pb.UpdateLocationRequest(location_id=location_id, tax_region="US-NY"),
        pb.UpdateLocationRequest(location_id=location_id, pickup_window_hours=5),
        pb.UpdateLocationRequest(location_id=location_id, ship_from_enabled=False),
    ]
    await asyncio.gather(*(stub.UpdateLocation(p) for p in patches * 2))

    after = await get(stub, location_id)
    assert after.name == "Renamed at once"
    assert after.pick_sla_minutes == pytest.approx(7.5)
    assert after.curbside_sla_minutes == pytest.approx(3)
    assert after.daily_order_capacity == 11
    assert after.timezone == "America/New_York"
    assert after.tax_region == "US-NY"
    assert after.pickup_window_hours == pytest.approx(5)
    assert after.ship_from_enabled is False


async def test_only_an_admin_may_patch_a_location(inventory: RunningInventory, stub: Stub):
    location_id = await create_location(stub, random_point())
    before = await get(stub, location_id)
    associate = CallerIdentity(sub="A-1", role=Role.ASSOCIATE, store_id=location_id)
    async with trusted_channel(inventory.address, associate) as opened:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await Stub(opened).UpdateLocation(
                pb.UpdateLocationRequest(location_id=location_id, pick_sla_minutes=1)
            )
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert await get(stub, location_id) == before
