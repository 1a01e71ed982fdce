"""Issue 14, till sales: a till's hold is sold as a pos_sale movement
(CommitReservation reason), on the real inventory service and PostgreSQL."""

from __future__ import annotations

import grpc
import pytest

from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import ReservationStatus, StockMovementReason
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from tests.support.inventory import (
    Stub,
    ledger_sum,
    reserve_request,
    sql,
    stock_of,
    stocked,
)


async def _reasons(database: Database, reservation_id: str) -> str:
    return str(
        await sql(
            database,
            "SELECT coalesce(string_agg(reason || ':' || delta, ','), '') FROM stock_movements"
            " WHERE reference = :ref",
            ref=reservation_id,
        )
    )


async def test_a_soft_hold_committed_as_pos_sale_is_a_pos_sale_movement_once(
    stub: Stub, database: Database
):
    location_id, sku = await stocked(stub, 5)
    held = (
        await stub.ReserveStock(
            reserve_request(location_id, {sku: 2}, channel="pos", ttl_seconds=60)
        )
    ).reservation
    request = pb.CommitReservationRequest(
        reservation_id=held.reservation_id, reason=StockMovementReason.POS_SALE.to_proto()
    )
    first = await stub.CommitReservation(request)
    again = await stub.CommitReservation(request)
    assert ReservationStatus.from_proto(first.reservation.status) == "committed"
    assert again.reservation == first.reservation
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved, level.available) == (3, 0, 3)
    assert await _reasons(database, held.reservation_id) == "pos_sale:-2"
    assert await ledger_sum(database, location_id, sku) == 3
    healthy = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))
    assert not [v for v in healthy.violations if v.location_id == location_id]


async def test_a_commit_reason_other_than_pos_sale_is_refused_and_changes_nothing(
    stub: Stub, database: Database
):
    location_id, sku = await stocked(stub, 5)
    held = (await stub.ReserveStock(reserve_request(location_id, {sku: 1}))).reservation
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.CommitReservation(
            pb.CommitReservationRequest(
                reservation_id=held.reservation_id, reason=StockMovementReason.DAMAGE.to_proto()
            )
        )
    info = describe_rpc_error(raised.value)
    assert info.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in info.violations] == ["reason"]
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (5, 1)
    assert await _reasons(database, held.reservation_id) == ""
