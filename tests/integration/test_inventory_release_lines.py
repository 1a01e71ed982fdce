"""ReleaseReservationLines (issue 11, line cancels) on a real inventory process
and PostgreSQL: part of a hold goes back, all lines or none, once per key,
and concurrent releases never give back more than was held."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import ReservationStatus
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from services.common.identity import CallerIdentity, Role
from tests.support.identity import trusted_channel
from tests.support.inventory import (
    RunningInventory,
    Stub,
    ledger_sum,
    reserve_request,
    stock_of,
    stocked,
    two_skus_held,
    unique,
)


def releasing(
    reservation_id: str, lines: dict[str, int], key: str | None = None
) -> pb.ReleaseReservationLinesRequest:
    return pb.ReleaseReservationLinesRequest(
        reservation_id=reservation_id,
        lines=[common_pb2.SkuQuantity(sku=sku, quantity=q) for sku, q in lines.items()],
        idempotency_key=unique("release") if key is None else key,
    )


async def healthy(stub: Stub, *skus: str) -> None:
    broken = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=list(skus)))
    assert list(broken.violations) == []


async def test_part_of_a_hold_goes_back_and_the_rest_can_be_sold(stub: Stub, database: Database):
    location_id, first, second, held = await two_skus_held(stub, (10, 5), (4, 2))

    reply = await stub.ReleaseReservationLines(releasing(held.reservation_id, {first: 1}))
    assert ReservationStatus.from_proto(reply.reservation.status) == "active"
    assert sorted((line.sku, line.quantity) for line in reply.reservation.lines) == sorted(
        [(first, 3), (second, 2)]
    )
    one = await stock_of(stub, location_id, first)
    assert (one.on_hand, one.reserved, one.available) == (10, 3, 7)

    # A line released to nothing leaves the reservation; a commit sells the rest.
    await stub.ReleaseReservationLines(releasing(held.reservation_id, {second: 2}))
    two = await stock_of(stub, location_id, second)
    assert (two.on_hand, two.reserved) == (5, 0)
    committed = await stub.CommitReservation(
        pb.CommitReservationRequest(reservation_id=held.reservation_id)
    )
    assert [(line.sku, line.quantity) for line in committed.reservation.lines] == [(first, 3)]
    one = await stock_of(stub, location_id, first)
    assert (one.on_hand, one.reserved) == (7, 0)
    assert await ledger_sum(database, location_id, first) == 7
    await healthy(stub, first, second)


async def test_releasing_every_line_releases_the_reservation(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 2}))).reservation
    reply = await stub.ReleaseReservationLines(releasing(held.reservation_id, {sku: 2}))
    assert ReservationStatus.from_proto(reply.reservation.status) == "released"
    assert (await stock_of(stub, location_id, sku)).reserved == 0
    # Releasing the whole reservation afterwards changes nothing.
    again = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=held.reservation_id)
    )
    assert ReservationStatus.from_proto(again.reservation.status) == "released"
    assert (await stock_of(stub, location_id, sku)).reserved == 0
    await healthy(stub, sku)


async def test_more_than_held_releases_nothing_of_any_line(stub: Stub):
    location_id, first, second, held = await two_skus_held(stub, (10, 5), (4, 2))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReleaseReservationLines(releasing(held.reservation_id, {first: 1, second: 3}))
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.FAILED_PRECONDITION
    assert info.reason == "RELEASE_EXCEEDS_HOLD"
    assert (await stock_of(stub, location_id, first)).reserved == 4
    assert (await stock_of(stub, location_id, second)).reserved == 2
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReleaseReservationLines(releasing(held.reservation_id, {unique("SKU"): 1}))
    assert describe_rpc_error(raised.value).reason == "RELEASE_EXCEEDS_HOLD"
    await healthy(stub, first, second)


async def test_a_final_or_unknown_reservation_and_bad_requests_are_refused(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 2}))).reservation
    await stub.CommitReservation(pb.CommitReservationRequest(reservation_id=held.reservation_id))
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReleaseReservationLines(releasing(held.reservation_id, {sku: 1}))
    info = describe_rpc_error(raised.value)
    assert (info.code, info.reason) == (grpc.StatusCode.ABORTED, "INVALID_STATE")
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (8, 0)

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReleaseReservationLines(releasing(unique("RES"), {sku: 1}))
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND

    for bad in (
        releasing(held.reservation_id, {}),
        releasing(held.reservation_id, {sku: 0}),
        releasing(held.reservation_id, {sku: 1}, key=""),
        pb.ReleaseReservationLinesRequest(
            reservation_id=held.reservation_id,
            lines=[common_pb2.SkuQuantity(sku=sku, quantity=1)] * 2,
            idempotency_key=unique("release"),
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ReleaseReservationLines(bad)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_concurrent_repeats_of_one_key_release_once(stub: Stub):
    location_id, sku = await stocked(stub, 10)
    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 5}))).reservation
    request = releasing(held.reservation_id, {sku: 2})
    replies = await asyncio.gather(*(stub.ReleaseReservationLines(request) for _ in range(12)))
    assert len({reply.SerializeToString() for reply in replies}) == 1
    assert [(line.sku, line.quantity) for line in replies[0].reservation.lines] == [(sku, 3)]
    assert (await stock_of(stub, location_id, sku)).reserved == 3
    # The same key with another body is a conflict, and changes nothing.
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReleaseReservationLines(
            releasing(held.reservation_id, {sku: 1}, key=request.idempotency_key)
        )
    assert raised.value.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED)
    assert (await stock_of(stub, location_id, sku)).reserved == 3
    await healthy(stub, sku)


async def test_concurrent_partial_releases_never_release_more_than_held(stub: Stub):
    location_id, sku = await stocked(stub, 20)
    other = (await stub.ReserveStock(reserve_request(location_id, {sku: 4}))).reservation
    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 7}))).reservation

    async def release(quantity: int) -> int:
        try:
            await stub.ReleaseReservationLines(releasing(held.reservation_id, {sku: quantity}))
        except grpc.aio.AioRpcError as error:
            assert describe_rpc_error(error).reason in ("RELEASE_EXCEEDS_HOLD", "INVALID_STATE")
            return 0
        return quantity

    given_back = await asyncio.gather(*(release(q) for q in [1, 2, 3] * 8))
    assert sum(given_back) <= 7
    level = await stock_of(stub, location_id, sku)
    # What the other reservation holds is untouched; the rest is exactly what
    # this one still holds.
    left = 7 - sum(given_back)
    assert (level.on_hand, level.reserved) == (20, 4 + left)
    final = await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=held.reservation_id)
    )
    assert ReservationStatus.from_proto(final.reservation.status) == "released"
    assert (await stock_of(stub, location_id, sku)).reserved == 4
    assert other.reservation_id
    await healthy(stub, sku)


async def test_only_the_journeys_may_release_lines(inventory: RunningInventory):
    customer = CallerIdentity(sub="c1", role=Role.CUSTOMER, customer_id="c1")
    async with trusted_channel(inventory.address, customer) as opened:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await Stub(opened).ReleaseReservationLines(releasing(unique("RES"), {"SKU": 1}))
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
