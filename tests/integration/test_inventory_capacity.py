"""Daily order capacity as a hard limit (issue 11), on a real PostgreSQL.

A store that has used its `daily_order_capacity` for its own day (counted in
its `timezone`) refuses new fulfillments (STORE_AT_CAPACITY, naming it) and is
passed over by sourcing; cart holds never count, and confirming one at a full
store is refused too. Concurrent fulfillments at one store: exactly
`capacity` of them get in.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import grpc
import pytest

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import Channel, FulfillmentType, LocationKind
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from tests.support.inventory import (
    Stub,
    create_product,
    random_point,
    receive,
    reserve_request,
    sql,
    stock_of,
    unique,
)


async def limited_store(
    stub: Stub, capacity: int, *, timezone: str = "", point: common_pb2.GeoPoint | None = None
) -> str:
    location_id = unique("CAP")
    await stub.CreateLocation(
        pb.CreateLocationRequest(
            location=pb.Location(
                location_id=location_id,
                name=f"Store {location_id}",
                kind=LocationKind.STORE.to_proto(),
                point=point or random_point(),
                pickup_enabled=True,
                ship_from_enabled=True,
                daily_order_capacity=capacity,
                timezone=timezone,
            )
        )
    )
    return location_id


async def reserve(stub: Stub, request: pb.ReserveStockRequest) -> str:
    """ "ok", or the refusal's reason."""
    try:
        await stub.ReserveStock(request)
    except grpc.aio.AioRpcError as error:
        info = describe_rpc_error(error)
        assert info.code == grpc.StatusCode.FAILED_PRECONDITION, info
        return info.reason
    return "ok"


async def test_concurrent_fulfillments_at_a_full_store_exactly_capacity_get_in(
    stub: Stub,
) -> None:
    capacity, buyers = 3, 16
    store = await limited_store(stub, capacity)
    sku = await create_product(stub)
    await receive(stub, store, sku, 100)

    outcomes = await asyncio.gather(
        *(reserve(stub, reserve_request(store, {sku: 2})) for _ in range(buyers))
    )
    assert outcomes.count("ok") == capacity, outcomes
    assert outcomes.count("STORE_AT_CAPACITY") == buyers - capacity
    # Only the accepted ones hold stock; the refused left nothing behind.
    assert (await stock_of(stub, store, sku)).reserved == 2 * capacity
    healthy = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))
    assert list(healthy.violations) == []


async def test_the_refusal_names_the_store_and_a_retry_of_an_accepted_one_still_answers(
    stub: Stub,
) -> None:
    store = await limited_store(stub, 1)
    sku = await create_product(stub)
    await receive(stub, store, sku, 10)
    first = reserve_request(store, {sku: 1})
    assert await reserve(stub, first) == "ok"

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ReserveStock(reserve_request(store, {sku: 1}))
    info = describe_rpc_error(refused.value)
    assert (info.code, info.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "STORE_AT_CAPACITY")
    assert store in info.message
    assert info.metadata["location_id"] == store
    assert info.metadata["daily_order_capacity"] == "1"

    # The accepted reservation's retry is the same reservation, not a refusal.
    again = await stub.ReserveStock(first)
    assert again.reservation.reservation_id == first.reservation_id
    assert (await stock_of(stub, store, sku)).reserved == 1


async def test_a_placement_hold_counts_at_once_and_a_refused_one_leaves_nothing_held(
    stub: Stub,
) -> None:
    store = await limited_store(stub, 1)
    sku = await create_product(stub)
    await receive(stub, store, sku, 10)
    # The orders service's soft hold for an order (placement_hold_id) is its fulfillment.
    placed = reserve_request(
        store, {sku: 1}, reservation_id=f"order-{unique('O')}/hold", ttl_seconds=30
    )
    assert await reserve(stub, placed) == "ok"
    split = reserve_request(
        store, {sku: 1}, reservation_id=f"order-{unique('O')}/hold/2", ttl_seconds=30
    )
    assert await reserve(stub, split) == "STORE_AT_CAPACITY"
    assert await reserve(stub, reserve_request(store, {sku: 1})) == "STORE_AT_CAPACITY"
    # Confirmed by its journey, it is still the one fulfillment (not refused now).
    confirmed = await stub.ConfirmReservation(
        pb.ConfirmReservationRequest(reservation_id=placed.reservation_id)
    )
    assert not confirmed.reservation.HasField("expires_at")
    assert (await stock_of(stub, store, sku)).reserved == 1


async def test_cart_holds_never_count_but_confirming_one_at_a_full_store_is_refused(
    stub: Stub,
) -> None:
    store = await limited_store(stub, 1)
    sku = await create_product(stub)
    await receive(stub, store, sku, 10)
    cart = reserve_request(store, {sku: 1}, ttl_seconds=600)
    assert await reserve(stub, cart) == "ok"
    assert await reserve(stub, reserve_request(store, {sku: 1})) == "ok"  # the one fulfillment
    assert await reserve(stub, reserve_request(store, {sku: 1}, ttl_seconds=600)) == "ok"

    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ConfirmReservation(
            pb.ConfirmReservationRequest(reservation_id=cart.reservation_id)
        )
    assert describe_rpc_error(refused.value).reason == "STORE_AT_CAPACITY"
    # Still a soft hold: it runs out as a cart hold does.
    held = await stub.ReserveStock(cart)
    assert held.reservation.HasField("expires_at")


async def test_a_released_fulfillment_gives_its_place_back(stub: Stub) -> None:
    store = await limited_store(stub, 1)
    sku = await create_product(stub)
    await receive(stub, store, sku, 10)
    first = reserve_request(store, {sku: 1})
    assert await reserve(stub, first) == "ok"
    assert await reserve(stub, reserve_request(store, {sku: 1})) == "STORE_AT_CAPACITY"
    await stub.ReleaseReservation(pb.ReleaseReservationRequest(reservation_id=first.reservation_id))
    assert await reserve(stub, reserve_request(store, {sku: 1})) == "ok"


def _zone_whose_day_started_after_utc_midnight(now: datetime) -> tuple[str, datetime]:
    """A fixed-offset zone whose midnight today came after UTC's (so a moment
    just before it is today in UTC but yesterday in the store), and that moment."""
    utc_midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for hours in range(1, 13):
        zone = f"Etc/GMT+{hours}"  # POSIX sign: UTC-hours
        local = now.astimezone(ZoneInfo(zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        before = midnight - timedelta(minutes=1)
        if utc_midnight <= before < now:
            return zone, before
    for hours in range(1, 15):
        zone = f"Etc/GMT-{hours}"  # UTC+hours
        local = now.astimezone(ZoneInfo(zone))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
        before = midnight - timedelta(minutes=1)
        if utc_midnight <= before < now:
            return zone, before
    pytest.skip("no zone's midnight falls inside today's UTC day yet (just after 00:00 UTC)")


async def test_the_day_is_the_stores_own_for_refusals_and_for_sourcing(
    stub: Stub, database: Database
) -> None:
    now = datetime.now(UTC)
    zone, yesterday_there = _zone_whose_day_started_after_utc_midnight(now)
    destination = random_point()
    store = await limited_store(stub, 1, timezone=zone, point=destination)
    got = await stub.GetLocation(pb.GetLocationRequest(location_id=store))
    assert got.location.timezone == zone
    sku = await create_product(stub)
    await receive(stub, store, sku, 10)
    first = reserve_request(store, {sku: 1})
    assert await reserve(stub, first) == "ok"

    async def sourced() -> list[str]:
        found = await stub.FindSources(
            pb.FindSourcesRequest(
                lines=[common_pb2.SkuQuantity(sku=sku, quantity=1)],
                destination=destination,
                fulfillment_type=FulfillmentType.PICKUP.to_proto(),
                channel=Channel.WEB.to_proto(),
                max_locations=1,
            )
        )
        return [a.location_id for o in found.options for a in o.allocations]

    assert await sourced() == []  # full: passed over
    assert await reserve(stub, reserve_request(store, {sku: 1})) == "STORE_AT_CAPACITY"

    # The same fulfillment made a minute before the store's midnight: today in
    # UTC, yesterday at the store — it no longer counts.
    await sql(
        database,
        "UPDATE reservations SET created_at = :at WHERE reservation_id = :rid",
        at=yesterday_there,
        rid=first.reservation_id,
    )
    assert await sourced() == [store]
    assert await reserve(stub, reserve_request(store, {sku: 1})) == "ok"
    assert await sourced() == []


async def test_an_unknown_time_zone_is_refused(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await limited_store(stub, 1, timezone="Mars/Olympus_Mons")
    info = describe_rpc_error(refused.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in info.violations] == ["location.timezone"]
