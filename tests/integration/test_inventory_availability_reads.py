"""GetAvailability's one-statement read: exact to the moment even when the
background sweep is far away, because the read itself notices a due soft hold."""

from __future__ import annotations

import grpc
import pytest

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import Channel
from services.common.db import Database
from tests.support.inventory import (
    RunningInventory,
    Stub,
    create_location,
    create_product,
    offset,
    random_point,
    receive,
    reserve_request,
    sql,
    stock_of,
)


@pytest.fixture(scope="module")
def inventory_settings() -> dict[str, str]:
    # The background sweep runs at start-up and then not for an hour.
    return {"HOLD_SWEEP_INTERVAL_SECONDS": "3600"}


async def _available_at(stub: Stub, location_id: str, sku: str, near: common_pb2.GeoPoint) -> int:
    reply = await stub.GetAvailability(
        pb.GetAvailabilityRequest(
            skus=[sku], near=near, radius_km=25, channel=Channel.WEB.to_proto()
        )
    )
    [item] = reply.items
    return {entry.location_id: entry.available for entry in item.locations}[location_id]


async def test_an_expired_hold_stops_counting_at_the_next_availability_read(
    stub: Stub, inventory: RunningInventory
):
    center = random_point()
    store = await create_location(stub, center)
    sku = await create_product(stub)
    await receive(stub, store, sku, 5)
    held = (await stub.ReserveStock(reserve_request(store, {sku: 3}, ttl_seconds=600))).reservation
    assert await _available_at(stub, store, sku, center) == 2

    database = Database(inventory.database_url, pool_size=1)
    try:
        await sql(
            database,
            "UPDATE reservations SET expires_at = now() - interval '1 second'"
            " WHERE reservation_id = :id",
            id=held.reservation_id,
        )
    finally:
        await database.dispose()

    assert await _available_at(stub, store, sku, center) == 5
    assert (await stock_of(stub, store, sku)).reserved == 0
    audit = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))
    assert not audit.violations


async def test_a_product_no_store_stocks_is_listed_empty_and_unknown_skus_are_named(stub: Stub):
    stocked_nowhere = await create_product(stub)
    reply = await stub.GetAvailability(pb.GetAvailabilityRequest(skus=[stocked_nowhere]))
    [item] = reply.items
    assert (item.sku, item.online_available, list(item.locations)) == (stocked_nowhere, 0, [])

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetAvailability(
            pb.GetAvailabilityRequest(skus=[stocked_nowhere, "NO-SUCH-SKU-1", "NO-SUCH-SKU-2"])
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert "NO-SUCH-SKU-1, NO-SUCH-SKU-2" in (raised.value.details() or "")


async def test_every_sku_at_every_store_gets_its_own_figure(stub: Stub):
    # The read groups stock by store (one row per store, the skus and what
    # may be sold as parallel arrays): each (sku, store) must keep its own
    # figure, stores stocking only some skus, a sku stocked nowhere, a
    # channel's safety stock at one pair, a sku asked twice.
    center = random_point()
    stores = [await create_location(stub, offset(center, km), ship=km != 3) for km in (1, 2, 3, 4)]
    skus = [await create_product(stub) for _ in range(3)]
    nowhere = await create_product(stub)
    on_hand: dict[tuple[str, str], int] = {}
    for n, store in enumerate(stores):
        for m, sku in enumerate(skus):
            if (n + m) % 3 == 2:
                continue  # this store lacks this sku
            on_hand[(store, sku)] = 10 * (n + 1) + m + 1
            await receive(stub, store, sku, on_hand[(store, sku)])
    held_back = next(iter(on_hand))
    await stub.SetSafetyStock(
        pb.SetSafetyStockRequest(
            location_id=held_back[0], sku=held_back[1], channel=Channel.WEB.to_proto(), quantity=4
        )
    )
    reply = await stub.GetAvailability(
        pb.GetAvailabilityRequest(
            skus=[*skus, nowhere, skus[0]],
            near=center,
            radius_km=25,
            channel=Channel.WEB.to_proto(),
        )
    )
    shown = {
        (entry.location_id, item.sku): entry.available
        for item in reply.items
        for entry in item.locations
    }
    expected = dict(on_hand)
    expected[held_back] -= 4
    assert shown == expected
    assert [item.sku for item in reply.items] == [*skus, nowhere]
    online = {item.sku: item.online_available for item in reply.items}
    shipping = {store for store in stores if store != stores[2]}
    assert online == {
        sku: sum(v for (store, s), v in expected.items() if s == sku and store in shipping)
        for sku in [*skus, nowhere]
    }
    for item in reply.items:
        distances = [entry.distance_km for entry in item.locations]
        assert distances == sorted(distances)
