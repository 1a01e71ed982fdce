"""The inventory service as a real process on a real PostgreSQL, over gRPC."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import (
    Channel,
    FulfillmentType,
    LocationKind,
    ReservationStatus,
    StockMovementReason,
)
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from tests.support.inventory import (
    Stub,
    commit_part_of_a_hold,
    create_location,
    create_product,
    ledger_sum,
    offset,
    random_point,
    receive,
    reserve_request,
    sql,
    stock_of,
    stocked,
    unique,
)

# --- plumbing -----------------------------------------------------------------


async def test_health_is_serving_and_reflection_lists_the_service(channel: grpc.aio.Channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", "omni.inventory.v1.InventoryService"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    call = reflection.ServerReflectionInfo()
    await call.write(reflection_pb2.ServerReflectionRequest(list_services=""))
    reply = await call.read()
    await call.done_writing()
    names = {service.name for service in reply.list_services_response.service}
    assert "omni.inventory.v1.InventoryService" in names


# --- locations and products -------------------------------------------------------


async def test_create_location_applies_defaults_and_refuses_duplicates(stub: Stub):
    point = random_point()
    location_id = await create_location(stub, point)
    fetched = (await stub.GetLocation(pb.GetLocationRequest(location_id=location_id))).location
    assert fetched.pickup_window_hours == 72
    assert fetched.pick_sla_minutes == 120
    assert fetched.point.lat == pytest.approx(point.lat)

    fractional = pb.Location(
        location_id=unique("LOC"),
        name="Quick pickup",
        kind=LocationKind.WAREHOUSE.to_proto(),
        point=point,
        pickup_window_hours=0.002,
        pick_sla_minutes=1.5,
    )
    created = (await stub.CreateLocation(pb.CreateLocationRequest(location=fractional))).location
    assert created.pickup_window_hours == pytest.approx(0.002)
    assert created.pick_sla_minutes == pytest.approx(1.5)

    with pytest.raises(grpc.aio.AioRpcError) as duplicate:
        await stub.CreateLocation(pb.CreateLocationRequest(location=fetched))
    assert duplicate.value.code() == grpc.StatusCode.ALREADY_EXISTS

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetLocation(pb.GetLocationRequest(location_id=unique("NOPE")))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_bad_location_names_each_field(stub: Stub):
    bad = pb.Location(
        location_id="", name="", kind=pb.LOCATION_KIND_UNSPECIFIED, pick_sla_minutes=-1
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateLocation(pb.CreateLocationRequest(location=bad))
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {
        "location.location_id",
        "location.name",
        "location.kind",
        "location.point",
        "location.pick_sla_minutes",
    }


async def test_list_locations_by_distance_within_radius_and_paginated(stub: Stub):
    center = random_point()
    near = await create_location(stub, offset(center, 1))
    middle = await create_location(stub, offset(center, 5), pickup=False)
    far = await create_location(stub, offset(center, 9))
    await create_location(stub, offset(center, 40))  # outside the radius

    first = await stub.ListLocations(pb.ListLocationsRequest(near=center, radius_km=10, limit=2))
    assert [item.location.location_id for item in first.locations] == [near, middle]
    assert first.locations[0].distance_km == pytest.approx(1, abs=0.01)
    assert first.next_page_token
    second = await stub.ListLocations(
        pb.ListLocationsRequest(
            near=center, radius_km=10, limit=2, page_token=first.next_page_token
        )
    )
    assert [item.location.location_id for item in second.locations] == [far]
    assert second.next_page_token == ""

    pickup_only = await stub.ListLocations(
        pb.ListLocationsRequest(near=center, radius_km=10, pickup_enabled_only=True)
    )
    assert [item.location.location_id for item in pickup_only.locations] == [near, far]

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ListLocations(pb.ListLocationsRequest(page_token="garbage"))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_products_come_back_in_the_order_asked(stub: Stub):
    first, second = await create_product(stub), await create_product(stub)
    reply = await stub.GetProducts(pb.GetProductsRequest(skus=[second, first]))
    assert [product.sku for product in reply.products] == [second, first]
    assert reply.products[0].price.amount_minor == 1299

    unknown = unique("SKU")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetProducts(pb.GetProductsRequest(skus=[first, unknown]))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND
    assert unknown in (raised.value.details() or "")

    product = pb.Product(
        sku=first, name="x", price=common_pb2.Money(amount_minor=1, currency="USD")
    )
    with pytest.raises(grpc.aio.AioRpcError) as duplicate:
        await stub.CreateProduct(pb.CreateProductRequest(product=product))
    assert duplicate.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_products_asked_with_a_location_come_with_it(stub: Stub):
    sku = await create_product(stub)
    location_id = unique("LOC")
    await stub.CreateLocation(
        pb.CreateLocationRequest(
            location=pb.Location(
                location_id=location_id,
                name="Taxed store",
                kind=LocationKind.STORE.to_proto(),
                point=random_point(),
                tax_region="US-NY",
            )
        )
    )
    reply = await stub.GetProducts(pb.GetProductsRequest(skus=[sku], location_id=location_id))
    assert [p.sku for p in reply.products] == [sku]
    assert (reply.location.location_id, reply.location.tax_region) == (location_id, "US-NY")
    # Not asked: no location in the reply.
    plain = await stub.GetProducts(pb.GetProductsRequest(skus=[sku]))
    assert not plain.HasField("location")


async def test_products_at_an_unknown_or_malformed_location_are_refused_naming_it(stub: Stub):
    sku = await create_product(stub)
    unknown_location, unknown_sku = unique("LOC"), unique("SKU")
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetProducts(pb.GetProductsRequest(skus=[sku], location_id=unknown_location))
    info = describe_rpc_error(raised.value)
    assert (info.code, info.resource_type, info.missing_ids) == (
        grpc.StatusCode.NOT_FOUND,
        "location",
        [unknown_location],
    )
    # Unknown skus are named first.
    with pytest.raises(grpc.aio.AioRpcError) as both:
        await stub.GetProducts(
            pb.GetProductsRequest(skus=[unknown_sku], location_id=unknown_location)
        )
    info = describe_rpc_error(both.value)
    assert (info.resource_type, info.missing_ids) == ("product", [unknown_sku])
    with pytest.raises(grpc.aio.AioRpcError) as malformed:
        await stub.GetProducts(pb.GetProductsRequest(skus=[sku], location_id="bad id\n"))
    info = describe_rpc_error(malformed.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in info.violations] == ["location_id"]


async def test_bad_product_is_invalid_argument(stub: Stub):
    product = pb.Product(
        sku=unique("SKU"),
        name="Free thing",
        price=common_pb2.Money(amount_minor=0, currency="dollars"),
        returnable_days=-3,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CreateProduct(pb.CreateProductRequest(product=product))
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {
        "product.price.amount_minor",
        "product.price.currency",
        "product.returnable_days",
    }
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetProducts(pb.GetProductsRequest(skus=[product.sku]))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


# --- stock adjustments --------------------------------------------------------------


async def test_adjust_stock_records_the_ledger_and_is_idempotent(stub: Stub, database: Database):
    location_id = await create_location(stub, random_point())
    sku = await create_product(stub)
    assert (await stock_of(stub, location_id, sku)).on_hand == 0  # known, never stocked

    request = pb.AdjustStockRequest(
        idempotency_key=unique("adj"),
        location_id=location_id,
        sku=sku,
        delta=12,
        reason=StockMovementReason.RECEIPT.to_proto(),
        actor="admin",
        reference="po-7",
    )
    first = await stub.AdjustStock(request)
    again = await stub.AdjustStock(request)
    assert first.stock.on_hand == 12
    assert again == first
    sale = await stub.AdjustStock(
        pb.AdjustStockRequest(
            idempotency_key=unique("adj"),
            location_id=location_id,
            sku=sku,
            delta=-2,
            reason=StockMovementReason.POS_SALE.to_proto(),
            actor="till-3",
        )
    )
    assert sale.stock.on_hand == 10
    assert sale.stock.available == 10
    assert (await stock_of(stub, location_id, sku)).on_hand == 10
    assert await ledger_sum(database, location_id, sku) == 10

    reused = pb.AdjustStockRequest()
    reused.CopyFrom(request)
    reused.delta = 13
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.AdjustStock(reused)
    assert describe_rpc_error(raised.value).reason == "IDEMPOTENCY_KEY_REUSED"


async def test_concurrent_repeats_of_one_adjustment_apply_once(stub: Stub):
    location_id, sku = await stocked(stub, 1)
    request = pb.AdjustStockRequest(
        idempotency_key=unique("adj"),
        location_id=location_id,
        sku=sku,
        delta=5,
        reason=StockMovementReason.RETURN_RESTOCK.to_proto(),
    )
    replies = await asyncio.gather(*(stub.AdjustStock(request) for _ in range(10)))
    assert {reply.stock.on_hand for reply in replies} == {6}
    assert (await stock_of(stub, location_id, sku)).on_hand == 6


async def test_units_received_damaged_are_written_off_and_never_available(
    stub: Stub, database: Database
):
    """Issue 11: a positive damage delta (returned units that arrived damaged)
    is the arrival and its write-off together: on hand unchanged, even when
    every unit there is held (nothing to race for), twice in the ledger, once."""
    location_id, sku = await stocked(stub, 2)
    await stub.ReserveStock(reserve_request(location_id, {sku: 2}))
    request = pb.AdjustStockRequest(
        idempotency_key=unique("adj"),
        location_id=location_id,
        sku=sku,
        delta=3,
        reason=StockMovementReason.DAMAGE.to_proto(),
        reference="ret-1",
    )
    replies = await asyncio.gather(*(stub.AdjustStock(request) for _ in range(4)))
    assert {(reply.stock.on_hand, reply.stock.available) for reply in replies} == {(2, 0)}
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (2, 2)
    assert await ledger_sum(database, location_id, sku) == 2
    damage = await sql(
        database,
        "SELECT string_agg(delta::text, ',' ORDER BY movement_id) FROM stock_movements"
        " WHERE location_id = :location_id AND sku = :sku AND reason = 'damage'"
        " AND reference = 'ret-1'",
        location_id=location_id,
        sku=sku,
    )
    assert damage == "3,-3"


async def test_adjustment_below_zero_is_refused_and_changes_nothing(stub: Stub, database: Database):
    location_id, sku = await stocked(stub, 3)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.AdjustStock(
            pb.AdjustStockRequest(
                idempotency_key=unique("adj"),
                location_id=location_id,
                sku=sku,
                delta=-4,
                reason=StockMovementReason.DAMAGE.to_proto(),
            )
        )
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.FAILED_PRECONDITION
    assert info.reason == "STOCK_BELOW_ZERO"
    assert info.metadata["on_hand"] == "3"
    assert (await stock_of(stub, location_id, sku)).on_hand == 3
    assert await ledger_sum(database, location_id, sku) == 3


async def test_adjustment_below_reserved_is_refused(stub: Stub):
    location_id, sku = await stocked(stub, 5)
    await stub.ReserveStock(reserve_request(location_id, {sku: 4}))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.AdjustStock(
            pb.AdjustStockRequest(
                idempotency_key=unique("adj"),
                location_id=location_id,
                sku=sku,
                delta=-2,
                reason=StockMovementReason.CYCLE_COUNT.to_proto(),
            )
        )
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.FAILED_PRECONDITION
    assert info.reason == "STOCK_BELOW_RESERVED"
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (5, 4)
    # Down to exactly what is reserved is allowed.
    await stub.AdjustStock(
        pb.AdjustStockRequest(
            idempotency_key=unique("adj"),
            location_id=location_id,
            sku=sku,
            delta=-1,
            reason=StockMovementReason.CYCLE_COUNT.to_proto(),
        )
    )
    assert (await stock_of(stub, location_id, sku)).on_hand == 4


async def test_bad_adjustments_are_invalid_or_not_found(stub: Stub):
    location_id, sku = await stocked(stub, 1)
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.AdjustStock(
            pb.AdjustStockRequest(
                location_id=location_id,
                sku=sku,
                delta=0,
                reason=pb.STOCK_MOVEMENT_REASON_UNSPECIFIED,
            )
        )
    info = describe_rpc_error(invalid.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {"idempotency_key", "delta", "reason"}

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.AdjustStock(
            pb.AdjustStockRequest(
                idempotency_key=unique("adj"),
                location_id=location_id,
                sku=unique("SKU"),
                delta=1,
                reason=StockMovementReason.RECEIPT.to_proto(),
            )
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as no_location:
        await stock_of(stub, unique("LOC"), sku)
    assert no_location.value.code() == grpc.StatusCode.NOT_FOUND
    assert (await stock_of(stub, location_id, sku)).on_hand == 1


# --- reservations -----------------------------------------------------------------


async def test_reserve_release_and_commit_move_stock_levels(stub: Stub, database: Database):
    location_id, sku = await stocked(stub, 10)

    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 3}))).reservation
    assert ReservationStatus.from_proto(held.status) == "active"
    assert [(line.sku, line.quantity) for line in held.lines] == [(sku, 3)]
    assert not held.HasField("expires_at")
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved, level.available) == (10, 3, 7)

    released = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=held.reservation_id)
    )
    assert ReservationStatus.from_proto(released.reservation.status) == "released"
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (10, 0)
    again = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=held.reservation_id)
    )
    assert ReservationStatus.from_proto(again.reservation.status) == "released"
    assert (await stock_of(stub, location_id, sku)).reserved == 0

    sold = (await stub.ReserveStock(reserve_request(location_id, {sku: 4}))).reservation
    committed = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=sold.reservation_id)
    )
    assert ReservationStatus.from_proto(committed.reservation.status) == "committed"
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved, level.available) == (6, 0, 6)
    repeat = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=sold.reservation_id)
    )
    assert repeat.reservation == committed.reservation
    after_release = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=sold.reservation_id)
    )
    assert ReservationStatus.from_proto(after_release.reservation.status) == "committed"
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (6, 0)
    assert await ledger_sum(database, location_id, sku) == 6


async def test_partial_commit_sells_some_and_releases_the_rest(stub: Stub):
    sold = await commit_part_of_a_hold(stub)
    assert ReservationStatus.from_proto(sold.committed.status) == "committed"
    assert [(line.sku, line.quantity) for line in sold.committed.lines] == [(sold.first, 3)]
    one = await stock_of(stub, sold.location_id, sold.first)
    two = await stock_of(stub, sold.location_id, sold.second)
    assert (one.on_hand, one.reserved) == (7, 0)
    assert (two.on_hand, two.reserved) == (5, 0)


async def test_commit_of_more_than_reserved_is_invalid_and_changes_nothing(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 2}))).reservation
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CommitReservation(
            pb.CommitReservationRequest(
                reservation_id=held.reservation_id,
                lines=[common_pb2.SkuQuantity(sku=sku, quantity=3)],
            )
        )
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in info.violations] == ["lines[0].quantity"]
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (10, 2)


async def test_release_and_commit_of_unknown_ids_return_empty(stub: Stub):
    released = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=unique("RES"))
    )
    committed = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=unique("RES"))
    )
    assert released.reservation == pb.Reservation()
    assert committed.reservation == pb.Reservation()


async def test_insufficient_stock_reserves_nothing(stub: Stub):
    location_id, plenty = await stocked(stub, 10)
    scarce = await create_product(stub)
    await receive(stub, location_id, scarce, 3)
    request = reserve_request(location_id, {plenty: 2, scarce: 5})
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReserveStock(request)
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.FAILED_PRECONDITION
    assert info.reason == "INSUFFICIENT_STOCK"
    assert info.metadata[f"sku:{scarce}"] == "available=3 requested=5"
    assert f"sku:{plenty}" not in info.metadata
    assert (await stock_of(stub, location_id, plenty)).reserved == 0
    assert (await stock_of(stub, location_id, scarce)).reserved == 0
    # The id was not used up: the same id can hold once the stock is there.
    await receive(stub, location_id, scarce, 2)
    held = await stub.ReserveStock(request)
    assert ReservationStatus.from_proto(held.reservation.status) == "active"
    assert (await stock_of(stub, location_id, scarce)).reserved == 5


async def test_product_without_stock_at_the_location_is_insufficient(stub: Stub):
    location_id = await create_location(stub, random_point())
    sku = await create_product(stub)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReserveStock(reserve_request(location_id, {sku: 1}))
    info = describe_rpc_error(raised.value)
    assert info.reason == "INSUFFICIENT_STOCK"
    assert info.metadata[f"sku:{sku}"] == "available=0 requested=1"


async def test_lines_of_one_sku_are_merged(stub: Stub):
    location_id, sku = await stocked(stub, 5)
    request = pb.ReserveStockRequest(
        reservation_id=unique("RES"),
        location_id=location_id,
        lines=[
            common_pb2.SkuQuantity(sku=sku, quantity=2),
            common_pb2.SkuQuantity(sku=sku, quantity=3),
        ],
    )
    held = (await stub.ReserveStock(request)).reservation
    assert [(line.sku, line.quantity) for line in held.lines] == [(sku, 5)]
    assert (await stock_of(stub, location_id, sku)).reserved == 5


async def test_reserve_is_idempotent_by_reservation_id(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    request = reserve_request(location_id, {sku: 2})
    first = await stub.ReserveStock(request)
    again = await stub.ReserveStock(request)
    assert again == first
    concurrent = await asyncio.gather(*(stub.ReserveStock(request) for _ in range(10)))
    assert all(reply == first for reply in concurrent)
    assert (await stock_of(stub, location_id, sku)).reserved == 2

    changed = pb.ReserveStockRequest()
    changed.CopyFrom(request)
    changed.lines[0].quantity = 3
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReserveStock(changed)
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.ABORTED
    assert info.reason == "RESERVATION_ID_REUSED"
    assert (await stock_of(stub, location_id, sku)).reserved == 2


async def test_concurrent_first_reservations_with_one_id_hold_once(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    request = reserve_request(location_id, {sku: 3})
    replies = await asyncio.gather(*(stub.ReserveStock(request) for _ in range(20)))
    assert len({reply.SerializeToString() for reply in replies}) == 1
    assert (await stock_of(stub, location_id, sku)).reserved == 3


async def test_fifty_concurrent_reservations_never_oversell(stub: Stub):
    location_id, sku = await stocked(stub, 10)

    async def try_reserve() -> bool:
        try:
            await stub.ReserveStock(reserve_request(location_id, {sku: 1}))
        except grpc.aio.AioRpcError as error:
            assert describe_rpc_error(error).reason == "INSUFFICIENT_STOCK"
            return False
        return True

    outcomes = await asyncio.gather(*(try_reserve() for _ in range(50)))
    assert sum(outcomes) == 10
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved, level.available) == (10, 10, 0)


async def test_bad_reservation_is_invalid_argument(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    request = pb.ReserveStockRequest(
        reservation_id="",
        location_id=location_id,
        lines=[
            common_pb2.SkuQuantity(sku=sku, quantity=0),
            common_pb2.SkuQuantity(sku=sku, quantity=1_000_001),
        ],
        ttl_seconds=-1,
    )
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReserveStock(request)
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {
        "reservation_id",
        "lines[0].quantity",
        "lines[1].quantity",
        "ttl_seconds",
    }
    no_lines = pb.ReserveStockRequest(reservation_id=unique("RES"), location_id=location_id)
    with pytest.raises(grpc.aio.AioRpcError) as empty:
        await stub.ReserveStock(no_lines)
    assert [v.field for v in describe_rpc_error(empty.value).violations] == ["lines"]
    assert (await stock_of(stub, location_id, sku)).reserved == 0


async def test_safety_stock_holds_back_only_its_channel(stub: Stub):
    location_id, sku = await stocked(stub, 5)
    reply = await stub.SetSafetyStock(
        pb.SetSafetyStockRequest(
            location_id=location_id, sku=sku, channel=Channel.WEB.to_proto(), quantity=3
        )
    )
    assert dict(reply.stock.safety_stock) == {"web": 3}
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReserveStock(reserve_request(location_id, {sku: 3}, channel="web"))
    assert describe_rpc_error(raised.value).metadata[f"sku:{sku}"] == "available=2 requested=3"
    held = await stub.ReserveStock(reserve_request(location_id, {sku: 3}, channel="pos"))
    assert ReservationStatus.from_proto(held.reservation.status) == "active"
    assert (await stock_of(stub, location_id, sku)).reserved == 3


async def test_expired_soft_hold_stops_counting(stub: Stub, database: Database):
    location_id, sku = await stocked(stub, 4)
    held = (
        await stub.ReserveStock(reserve_request(location_id, {sku: 3}, ttl_seconds=600))
    ).reservation
    assert held.HasField("expires_at")
    assert (await stock_of(stub, location_id, sku)).reserved == 3
    # Let the hold run out without waiting for it.
    await sql(
        database,
        "UPDATE reservations SET expires_at = now() - interval '1 second'"
        " WHERE reservation_id = :id",
        id=held.reservation_id,
    )
    assert (await stock_of(stub, location_id, sku)).reserved == 0
    committed = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=held.reservation_id)
    )
    assert ReservationStatus.from_proto(committed.reservation.status) == "expired"
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (4, 0)
    again = await stub.ReserveStock(reserve_request(location_id, {sku: 4}))
    assert ReservationStatus.from_proto(again.reservation.status) == "active"


async def test_confirmed_hold_no_longer_expires_and_a_run_out_one_cannot_be_confirmed(
    stub: Stub, database: Database
):
    location_id, sku = await stocked(stub, 5)
    kept = (
        await stub.ReserveStock(reserve_request(location_id, {sku: 2}, ttl_seconds=600))
    ).reservation
    lapsed = (
        await stub.ReserveStock(reserve_request(location_id, {sku: 1}, ttl_seconds=600))
    ).reservation
    confirmed = await stub.ConfirmReservation(
        pb.ConfirmReservationRequest(reservation_id=kept.reservation_id)
    )
    assert ReservationStatus.from_proto(confirmed.reservation.status) == "active"
    assert not confirmed.reservation.HasField("expires_at")
    # Confirming again changes nothing.
    again = await stub.ConfirmReservation(
        pb.ConfirmReservationRequest(reservation_id=kept.reservation_id)
    )
    assert ReservationStatus.from_proto(again.reservation.status) == "active"
    # Both holds' time runs out: only the unconfirmed one gives its stock back.
    await sql(
        database,
        "UPDATE reservations SET expires_at = now() - interval '1 second'"
        " WHERE reservation_id = :id",
        id=lapsed.reservation_id,
    )
    late = await stub.ConfirmReservation(
        pb.ConfirmReservationRequest(reservation_id=lapsed.reservation_id)
    )
    assert ReservationStatus.from_proto(late.reservation.status) == "expired"
    assert (await stock_of(stub, location_id, sku)).reserved == 2
    unknown = await stub.ConfirmReservation(
        pb.ConfirmReservationRequest(reservation_id="never-made-" + sku)
    )
    assert unknown.reservation.reservation_id == ""
    broken = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))
    assert list(broken.violations) == []


# --- availability and sourcing ---------------------------------------------------------


async def test_availability_near_a_point_reflects_reservations(stub: Stub):
    center = random_point()
    near_store = await create_location(stub, offset(center, 2), ship=False)
    empty_store = await create_location(stub, offset(center, 6))
    far_warehouse = await create_location(stub, offset(center, 300), kind="warehouse", pickup=False)
    sku = await create_product(stub)
    await receive(stub, near_store, sku, 4)
    await receive(stub, empty_store, sku, 1)
    await receive(stub, far_warehouse, sku, 50)
    await stub.ReserveStock(reserve_request(empty_store, {sku: 1}))
    await stub.SetSafetyStock(
        pb.SetSafetyStockRequest(
            location_id=far_warehouse, sku=sku, channel=Channel.WEB.to_proto(), quantity=10
        )
    )

    reply = await stub.GetAvailability(
        pb.GetAvailabilityRequest(
            skus=[sku], near=center, radius_km=25, channel=Channel.WEB.to_proto()
        )
    )
    [item] = reply.items
    assert item.sku == sku
    assert [(loc.location_id, loc.available) for loc in item.locations] == [
        (near_store, 4),
        (empty_store, 0),
    ]
    assert item.locations[0].distance_km == pytest.approx(2, abs=0.01)
    assert item.locations[0].pickup_enabled
    # Ship-from locations anywhere: the empty store (0) and the warehouse (50 - 10 safety).
    assert item.online_available == 40

    await stub.ReserveStock(reserve_request(near_store, {sku: 3}, channel="web"))
    after = await stub.GetAvailability(
        pb.GetAvailabilityRequest(
            skus=[sku], near=center, radius_km=25, channel=Channel.WEB.to_proto()
        )
    )
    assert after.items[0].locations[0].available == 1

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.GetAvailability(pb.GetAvailabilityRequest(skus=[sku, unique("SKU")]))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_find_sources_prefers_one_location_then_splits(stub: Stub):
    destination = random_point()
    near = await create_location(stub, offset(destination, 3))
    farther = await create_location(stub, offset(destination, 30))
    pickup_only = await create_location(stub, offset(destination, 1), ship=False)
    first, second = await create_product(stub), await create_product(stub)
    await receive(stub, near, first, 2)
    await receive(stub, farther, first, 5)
    await receive(stub, farther, second, 1)
    await receive(stub, pickup_only, first, 9)
    await receive(stub, pickup_only, second, 9)

    def lines(**quantities: int) -> list[common_pb2.SkuQuantity]:
        return [common_pb2.SkuQuantity(sku=sku, quantity=q) for sku, q in quantities.items()]

    whole = await stub.FindSources(
        pb.FindSourcesRequest(
            lines=[*lines(**{first: 2}), *lines(**{second: 1})],
            destination=destination,
            fulfillment_type=FulfillmentType.SHIP.to_proto(),
            channel=Channel.WEB.to_proto(),
        )
    )
    assert [[a.location_id for a in o.allocations] for o in whole.options] == [[farther]]

    one_sku = await stub.FindSources(
        pb.FindSourcesRequest(
            lines=lines(**{first: 2}),
            destination=destination,
            fulfillment_type=FulfillmentType.SHIP.to_proto(),
        )
    )
    assert [o.allocations[0].location_id for o in one_sku.options] == [near, farther]

    split = await stub.FindSources(
        pb.FindSourcesRequest(
            lines=lines(**{first: 7}),
            destination=destination,
            fulfillment_type=FulfillmentType.SHIP.to_proto(),
            max_locations=2,
        )
    )
    [option] = split.options
    assert [(a.location_id, a.lines[0].quantity) for a in option.allocations] == [
        (near, 2),
        (farther, 5),
    ]

    pickup = await stub.FindSources(
        pb.FindSourcesRequest(
            lines=lines(**{first: 7}),
            destination=destination,
            fulfillment_type=FulfillmentType.PICKUP.to_proto(),
            exclude_location_ids=[],
        )
    )
    assert [o.allocations[0].location_id for o in pickup.options] == [pickup_only]

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.FindSources(pb.FindSourcesRequest(lines=lines(**{first: 1})))
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {v.field for v in info.violations} == {"destination", "fulfillment_type"}


async def test_not_found_names_the_unknown_skus_and_locations_in_its_details(stub: Stub):
    location_id, sku = await stocked(stub, 1)
    missing = [unique("SKU"), unique("SKU")]
    with pytest.raises(grpc.aio.AioRpcError) as products:
        await stub.GetProducts(pb.GetProductsRequest(skus=[sku, *missing]))
    with pytest.raises(grpc.aio.AioRpcError) as reserved:
        await stub.ReserveStock(reserve_request(location_id, {sku: 1, missing[0]: 1}))
    for raised in (products, reserved):
        info = describe_rpc_error(raised.value)
        assert info.code == grpc.StatusCode.NOT_FOUND
        assert info.resource_type == "product"
    assert describe_rpc_error(products.value).missing_ids == missing
    assert describe_rpc_error(reserved.value).missing_ids == missing[:1]

    nowhere = unique("LOC")
    with pytest.raises(grpc.aio.AioRpcError) as location:
        await stub.ReserveStock(reserve_request(nowhere, {sku: 1}))
    info = describe_rpc_error(location.value)
    assert (info.resource_type, info.missing_ids) == ("location", [nowhere])
