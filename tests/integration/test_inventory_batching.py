"""Reservations of one hot row grouped into one statement (store/fast_path.py,
ReserveBatcher; reserve_stock_batch(), migration 0006), on a real PostgreSQL.

The races a batch must survive: more buyers than units (exact winners), the
same reservation id twice in one batch, a multi-line reservation whose one
short line must give back the others, an unknown sku (the batch falls back to
one statement each), and the same through the service over gRPC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import Channel
from services.common.db import Database
from services.common.grpc_errors import describe_rpc_error
from services.common.plain_sql import create_hot_pool
from services.inventory.domain import Line, ReservationRequest
from services.inventory.store.fast_path import HotPath
from tests.support.inventory import (
    RunningInventory,
    Stub,
    create_location,
    create_product,
    random_point,
    receive,
    reserve_request,
    sql,
    stock_of,
    stocked,
    unique,
)


@pytest.fixture(scope="module")
def inventory_settings() -> dict[str, str]:
    return {"RESERVE_BATCH_MAX": "64", "RESERVE_BATCH_WINDOW_MS": "0"}


@pytest.fixture
async def pool(inventory: RunningInventory) -> AsyncIterator[asyncpg.Pool]:
    opened = await create_hot_pool(inventory.database_url, 8)
    yield opened
    await opened.close()


def request(
    location_id: str, lines: dict[str, int], reservation_id: str | None = None
) -> ReservationRequest:
    return ReservationRequest(
        reservation_id=reservation_id or unique("RES"),
        order_id=unique("ORD"),
        location_id=location_id,
        lines=tuple(Line(sku, quantity) for sku, quantity in lines.items()),
        channel=Channel.WEB,
        ttl_seconds=0,
    )


async def reservations_held(database: Database, ids: list[str]) -> int:
    held: int = await sql(
        database,
        "SELECT count(*) FROM reservations WHERE reservation_id = ANY(:ids)",
        ids=ids,
    )
    return held


async def test_more_buyers_than_units_in_batches_sell_exactly_the_units(
    stub: Stub, pool: asyncpg.Pool, database: Database
) -> None:
    location_id, sku = await stocked(stub, 20)
    hot = HotPath(pool, batch_max=64)
    requests = [request(location_id, {sku: 1}) for _ in range(50)]
    outcomes = await asyncio.gather(*(hot.reserve(r) for r in requests))
    assert hot.batcher is not None and max(hot.batcher.sizes) > 1, hot.batcher
    winners = [r.reservation_id for r, o in zip(requests, outcomes, strict=True) if o.created]
    assert len(winners) == 20
    assert all(o.short_skus == (sku,) for o in outcomes if not o.created)
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved) == (20, 20)
    # Each winner has its own record; no loser left one behind.
    assert await reservations_held(database, [r.reservation_id for r in requests]) == 20
    lines: int = await sql(
        database,
        "SELECT count(*) FROM reservation_lines WHERE reservation_id = ANY(:ids)",
        ids=winners,
    )
    assert lines == 20


async def test_uneven_quantities_in_one_batch_never_oversell(
    stub: Stub, pool: asyncpg.Pool
) -> None:
    location_id, sku = await stocked(stub, 10)
    hot = HotPath(pool, batch_max=64)
    outcomes = await asyncio.gather(
        *(hot.reserve(request(location_id, {sku: 3})) for _ in range(5))
    )
    assert [o.created for o in outcomes].count(True) == 3
    assert (await stock_of(stub, location_id, sku)).reserved == 9


async def test_the_same_id_twice_in_one_batch_holds_once(stub: Stub, pool: asyncpg.Pool) -> None:
    location_id, sku = await stocked(stub, 10)
    hot = HotPath(pool, batch_max=64)
    first = request(location_id, {sku: 2})
    others = [request(location_id, {sku: 1}) for _ in range(3)]
    outcomes = await asyncio.gather(*(hot.reserve(r) for r in [first, *others, first]))
    assert hot.batcher is not None and max(hot.batcher.sizes) == 5
    assert [o.created for o in outcomes] == [True, True, True, True, False]
    assert (await stock_of(stub, location_id, sku)).reserved == 2 + 3


async def test_a_short_line_of_a_multi_line_reservation_gives_back_the_others(
    stub: Stub, pool: asyncpg.Pool, database: Database
) -> None:
    location_id = await create_location(stub, random_point())
    plenty, scarce = await create_product(stub), await create_product(stub)
    await receive(stub, location_id, plenty, 100)
    await receive(stub, location_id, scarce, 2)
    hot = HotPath(pool, batch_max=64)
    requests = [request(location_id, {plenty: 1, scarce: 1}) for _ in range(6)]
    outcomes = await asyncio.gather(*(hot.reserve(r) for r in requests))
    assert hot.batcher is not None and max(hot.batcher.sizes) > 1
    assert [o.created for o in outcomes].count(True) == 2
    assert all(o.short_skus == (scarce,) for o in outcomes if not o.created)
    # The refused ones' units of the plentiful sku went back in the same statement.
    assert (await stock_of(stub, location_id, plenty)).reserved == 2
    assert (await stock_of(stub, location_id, scarce)).reserved == 2
    assert await reservations_held(database, [r.reservation_id for r in requests]) == 2
    audit = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[plenty, scarce]))
    assert not audit.violations


async def test_an_unknown_sku_in_a_batch_is_answered_one_by_one(
    stub: Stub, pool: asyncpg.Pool
) -> None:
    location_id, _ = await stocked(stub, 5)
    hot = HotPath(pool, batch_max=64)
    missing = unique("NOPE")
    outcomes = await asyncio.gather(
        *(hot.reserve(request(location_id, {missing: 1})) for _ in range(4))
    )
    assert hot.batcher is not None and hot.batcher.sizes[0] == 4
    assert all(o.unknown_reference and not o.created for o in outcomes)


async def test_through_the_service_batched_reservations_are_exact_and_idempotent(
    stub: Stub, database: Database
) -> None:
    location_id, sku = await stocked(stub, 37)

    async def try_reserve(message: pb.ReserveStockRequest) -> pb.ReserveStockResponse | None:
        try:
            return await stub.ReserveStock(message)
        except grpc.aio.AioRpcError as error:
            assert describe_rpc_error(error).reason == "INSUFFICIENT_STOCK", error
            return None

    repeated = reserve_request(location_id, {sku: 1})
    messages = [reserve_request(location_id, {sku: 1}) for _ in range(119)] + [repeated] * 5
    replies = await asyncio.gather(*(try_reserve(m) for m in messages))
    # The repeated id answers the same reservation every time (or is refused every time).
    repeats = {r.SerializeToString() if r else b"" for r in replies[-5:]}
    assert len(repeats) == 1
    distinct = {r.reservation.reservation_id for r in replies if r is not None}
    assert len(distinct) == 37
    level = await stock_of(stub, location_id, sku)
    assert (level.on_hand, level.reserved, level.available) == (37, 37, 0)
    assert await reservations_held(database, [m.reservation_id for m in messages]) == 37
    audit = await stub.CheckInvariants(pb.CheckInvariantsRequest(skus=[sku]))
    assert not audit.violations


async def test_an_unknown_location_fails_the_batch_and_each_is_answered_alone(
    stub: Stub, pool: asyncpg.Pool
) -> None:
    sku = await create_product(stub)
    hot = HotPath(pool, batch_max=64)
    nowhere = unique("LOC")
    outcomes = await asyncio.gather(*(hot.reserve(request(nowhere, {sku: 1})) for _ in range(3)))
    assert hot.batcher is not None and hot.batcher.sizes == [3]
    assert all(o.unknown_reference and not o.created for o in outcomes)


async def test_a_quiet_keys_reservation_does_not_wait_for_the_window(
    stub: Stub, pool: asyncpg.Pool
) -> None:
    # A window far longer than the test may take: a lone reservation of a key
    # with nothing in flight must go at once, not after the window.
    location_id, sku = await stocked(stub, 5)
    hot = HotPath(pool, batch_max=64, batch_window=3600.0)
    outcome = await asyncio.wait_for(hot.reserve(request(location_id, {sku: 1})), timeout=60)
    assert outcome.created
    assert hot.batcher is not None and hot.batcher.sizes == [1]


async def test_a_busy_key_gathers_what_arrives_within_the_window(
    stub: Stub, pool: asyncpg.Pool
) -> None:
    location_id, sku = await stocked(stub, 5)
    hot = HotPath(pool, batch_max=64, batch_window=2.0)
    assert (await hot.reserve(request(location_id, {sku: 1}))).created
    # The key has just been busy: what comes next, in separate ticks, is
    # gathered for the window and goes in one statement.
    second = asyncio.create_task(hot.reserve(request(location_id, {sku: 1})))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    third = asyncio.create_task(hot.reserve(request(location_id, {sku: 1})))
    outcomes = await asyncio.gather(second, third)
    assert all(o.created for o in outcomes)
    assert hot.batcher is not None and hot.batcher.sizes == [1, 2]
    assert (await stock_of(stub, location_id, sku)).reserved == 3
