"""A sold-out ReserveStock is cheap and true: refused only when the stock is
really gone, and stock that comes back (a release, an adjustment, a soft hold
past its TTL that no sweep has given back yet) sells again at once."""

from __future__ import annotations

import grpc
import pytest

from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import ReservationStatus
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from tests.support.inventory import (
    RunningInventory,
    Stub,
    receive,
    reserve_request,
    sql,
    stock_of,
    stocked,
)


@pytest.fixture(scope="module")
def inventory_settings() -> dict[str, str]:
    # The background sweep runs at start-up and then not for an hour: a hold
    # past its TTL is given back only by the call that meets it.
    return {"HOLD_SWEEP_INTERVAL_SECONDS": "3600"}


async def _refusal(stub: Stub, request: pb.ReserveStockRequest) -> dict[str, str]:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ReserveStock(request)
    info = describe_rpc_error(raised.value)
    assert (info.code, info.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "INSUFFICIENT_STOCK")
    return dict(info.metadata)


async def test_the_last_unit_held_past_its_ttl_sells_to_the_next_buyer_before_any_sweep(
    stub: Stub, inventory: RunningInventory
):
    location_id, sku = await stocked(stub, 1)
    first = await stub.ReserveStock(reserve_request(location_id, {sku: 1}, ttl_seconds=600))
    database = Database(inventory.database_url, pool_size=1)
    try:
        await sql(
            database,
            "UPDATE reservations SET expires_at = now() - interval '1 second'"
            " WHERE reservation_id = :id",
            id=first.reservation.reservation_id,
        )
    finally:
        await database.dispose()

    # The unit is no longer held by anyone: this buyer gets it, not a 422.
    second = await stub.ReserveStock(reserve_request(location_id, {sku: 1}))
    assert ReservationStatus.from_proto(second.reservation.status) == ReservationStatus.ACTIVE
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (1, 1)
    assert not (await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))).violations


async def test_a_refusal_names_what_is_left_and_stock_that_comes_back_sells_again(stub: Stub):
    location_id, sku = await stocked(stub, 2)
    held = await stub.ReserveStock(reserve_request(location_id, {sku: 2}))
    loser = reserve_request(location_id, {sku: 1})
    assert (await _refusal(stub, loser))[f"sku:{sku}"] == "available=0 requested=1"
    assert (await stock_of(stub, location_id, sku)).reserved == 2

    # A release gives the units back: the same buyer (same id) gets one now.
    await stub.ReleaseReservation(
        pb.ReleaseReservationRequest(reservation_id=held.reservation.reservation_id)
    )
    again = await stub.ReserveStock(loser)
    assert ReservationStatus.from_proto(again.reservation.status) == ReservationStatus.ACTIVE
    assert (await _refusal(stub, reserve_request(location_id, {sku: 2})))[
        f"sku:{sku}"
    ] == "available=1 requested=2"

    # So does an adjustment.
    await receive(stub, location_id, sku, 1)
    more = await stub.ReserveStock(reserve_request(location_id, {sku: 2}))
    assert ReservationStatus.from_proto(more.reservation.status) == ReservationStatus.ACTIVE
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (3, 3)
    assert not (await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))).violations
