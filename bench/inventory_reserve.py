"""Hot-SKU reservations through the inventory gRPC service, against the floor:
the same conditional UPDATE sent straight to PostgreSQL with asyncpg.

The load generator runs in processes of its own (bench/load.py) and every phase
reports the CPU each side spent per operation (bench/cpu.py), so the figures
say where the time goes, not only how much there was.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import grpc

from bench.cpu import CpuMeter, Side, per_operation_line
from bench.load import Operation, OperationFactory, Outcome, drive_in_processes
from bench.processes import (
    BENCH_ADMIN,
    BENCH_WORKFLOW,
    BenchHome,
    RunningService,
    inventory_service,
    signed_channel,
)
from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from omni.words import Channel, LocationKind, StockMovementReason
from services.inventory.main import InventorySettings
from services.inventory.store.fast_path import create_hot_pool

CALLERS = 64
SECONDS = 10.0
WARM_UP_SECONDS = 1.0
# Load generator processes (and gRPC connections per process: SO_REUSEPORT
# spreads connections, not calls, over the server processes).
LOAD_PROCESSES = 2
CHANNELS_PER_LOAD_PROCESS = 4
# Server processes sharing one port in the multi-process run.
SERVER_PROCESSES = 2
PLENTY = 100_000_000
SCARCE = 100
SCARCE_ATTEMPTS_PER_CALLER = 10
CHANNELS = tuple(Channel)
LOCATION = "BENCH-STORE"
POOL_SIZE = InventorySettings.model_fields["database_pool_size"].default

# What ReserveStock's hot path does to the row, as one statement.
FLOOR_UPDATE = """
UPDATE stock SET reserved = reserved + 1, updated_at = now()
WHERE location_id = $1 AND sku = $2
  AND on_hand - reserved - coalesce((SELECT quantity FROM safety_stock s
        WHERE s.location_id = $1 AND s.sku = $2 AND s.channel = $3), 0) >= 1
RETURNING reserved
"""


async def _setup(stub: inventory_pb2_grpc.InventoryServiceStub, stock: dict[str, int]) -> None:
    await stub.CreateLocation(
        pb.CreateLocationRequest(
            location=pb.Location(
                location_id=LOCATION,
                name="Bench store",
                kind=LocationKind.STORE.to_proto(),
                point=common_pb2.GeoPoint(lat=40.0, lon=-74.0),
                pickup_enabled=True,
                ship_from_enabled=True,
            )
        )
    )
    for sku, quantity in stock.items():
        await stub.CreateProduct(
            pb.CreateProductRequest(
                product=pb.Product(
                    sku=sku, name=sku, price=common_pb2.Money(amount_minor=100, currency="USD")
                )
            )
        )
        await stub.AdjustStock(
            pb.AdjustStockRequest(
                idempotency_key=f"bench-receipt-{sku}",
                location_id=LOCATION,
                sku=sku,
                delta=quantity,
                reason=StockMovementReason.RECEIPT.to_proto(),
                actor="bench",
            )
        )


def _reserve_one(stub: inventory_pb2_grpc.InventoryServiceStub, sku: str) -> Operation:
    channels = itertools.cycle(CHANNELS)

    async def reserve() -> bool:
        try:
            await stub.ReserveStock(
                pb.ReserveStockRequest(
                    reservation_id=f"bench-{uuid.uuid4().hex}",
                    order_id="bench",
                    location_id=LOCATION,
                    lines=[common_pb2.SkuQuantity(sku=sku, quantity=1)],
                    channel=next(channels).to_proto(),
                )
            )
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.FAILED_PRECONDITION:
                return False
            raise
        return True

    return reserve


# --- operations built inside the load generator's processes -----------------------


@asynccontextmanager
async def _floor_operation(database_url: str, sku: str, pool_size: int) -> AsyncIterator[Operation]:
    # The service's own kind of pool: same settings, same (skipped) reset.
    pool = await create_hot_pool(database_url, pool_size)
    channels = itertools.cycle(CHANNELS)

    async def floor_update() -> bool:
        reserved = await pool.fetchval(FLOOR_UPDATE, LOCATION, sku, next(channels))
        return reserved is not None

    try:
        yield floor_update
    finally:
        await pool.close()


@asynccontextmanager
async def _service_operation(address: str, sku: str, connections: int) -> AsyncIterator[Operation]:
    # Separate connections (no shared subchannel), so several server processes get calls.
    grpc_channels = [
        signed_channel(address, BENCH_WORKFLOW, options=[("grpc.use_local_subchannel_pool", 1)])
        for _ in range(connections)
    ]
    reserves = itertools.cycle(
        [_reserve_one(inventory_pb2_grpc.InventoryServiceStub(c), sku) for c in grpc_channels]
    )

    async def reserve() -> bool:
        return await next(reserves)()

    try:
        yield reserve
    finally:
        for channel in grpc_channels:
            await channel.close()


def _measure(label: str, factory: OperationFactory, sides: Sequence[Side]) -> tuple[Outcome, str]:
    meter = CpuMeter(sides)
    outcome, client_seconds = drive_in_processes(
        factory,
        workers=LOAD_PROCESSES,
        callers=CALLERS,
        seconds=SECONDS,
        warm_up=WARM_UP_SECONDS,
        on_start=meter.start,
    )
    spent = {"load generator": client_seconds, **meter.stop()}
    operations = outcome.succeeded + outcome.refused
    return outcome, f"{'':<4}{per_operation_line(spent, operations)}  [{label}]"


async def _prepare(address: str) -> None:
    async with signed_channel(address, BENCH_ADMIN) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        await _setup(
            stub,
            {"HOT-SKU": PLENTY, "HOT-SKU-MULTI": PLENTY, "FLOOR-SKU": PLENTY, "SCARCE-SKU": SCARCE},
        )


async def _audit(service: RunningService, database_url: str) -> bool:
    """Zero oversell and clean invariants; prints the verdict."""
    async with signed_channel(service.address, BENCH_ADMIN) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        # Far more callers than units of a scarce SKU, over every server process.
        async with _service_operation(
            service.address, "SCARCE-SKU", CHANNELS_PER_LOAD_PROCESS
        ) as scarce_reserve:
            outcomes = await asyncio.gather(
                *(scarce_reserve() for _ in range(CALLERS * SCARCE_ATTEMPTS_PER_CALLER)),
                return_exceptions=True,
            )
        scarce_sold = sum(1 for o in outcomes if o is True)
        scarce_errors = sum(1 for o in outcomes if isinstance(o, BaseException))
        # The floor wrote `reserved` without reservations; put it back before the audit.
        pool = await create_hot_pool(database_url, 1)
        try:
            await pool.execute(
                "UPDATE stock SET reserved = 0 WHERE location_id = $1 AND sku = $2",
                LOCATION,
                "FLOOR-SKU",
            )
        finally:
            await pool.close()
        audit = await stub.CheckInvariants(pb.CheckInvariantsRequest())
        levels = [
            (await stub.GetStock(pb.GetStockRequest(location_id=LOCATION, sku=sku))).stock
            for sku in ("HOT-SKU", "HOT-SKU-MULTI")
        ]
    healthy = (
        scarce_sold == SCARCE
        and scarce_errors == 0
        and not audit.violations
        and all(level.reserved <= level.on_hand for level in levels)
    )
    print(
        f"oversell check: {scarce_sold} of {CALLERS * SCARCE_ATTEMPTS_PER_CALLER} attempts got"
        f" the {SCARCE} scarce units (errors {scarce_errors}); invariants over"
        f" {audit.rows_checked} rows: {len(audit.violations)} violations"
        f" -> {'OK' if healthy else 'FAILED'}"
    )
    return healthy


def run(home: BenchHome) -> bool:
    database_url = home.database("inventory")
    postgres = Side("postgres", [home.postgres_pid()], with_children=True)
    print(
        f"inventory-reserve: {CALLERS} concurrent callers in {LOAD_PROCESSES} load processes,"
        f" {SECONDS:.0f} s each, one hot SKU"
    )
    with inventory_service(home, database_url) as single:
        asyncio.run(_prepare(single.address))
        floor, floor_cpu = _measure(
            "floor",
            functools.partial(
                _floor_operation, database_url, "FLOOR-SKU", POOL_SIZE // LOAD_PROCESSES
            ),
            [postgres],
        )
        one, one_cpu = _measure(
            "1 server process",
            functools.partial(
                _service_operation, single.address, "HOT-SKU", CHANNELS_PER_LOAD_PROCESS
            ),
            [Side("service", single.pids), postgres],
        )
    with inventory_service(home, database_url, processes=SERVER_PROCESSES) as several:
        many, many_cpu = _measure(
            f"{SERVER_PROCESSES} server processes",
            functools.partial(
                _service_operation, several.address, "HOT-SKU-MULTI", CHANNELS_PER_LOAD_PROCESS
            ),
            [Side("service", several.pids), postgres],
        )
        healthy = asyncio.run(_audit(several, database_url))
    print(floor.line(f"floor (asyncpg UPDATE, pool {POOL_SIZE})"))
    print(floor_cpu)
    print(one.line("ReserveStock, 1 server process"))
    print(one_cpu)
    print(many.line(f"ReserveStock, {SERVER_PROCESSES} server processes"))
    print(many_cpu)
    for label, outcome in (("1 process", one), (f"{SERVER_PROCESSES} processes", many)):
        ratio = outcome.per_second / floor.per_second if floor.per_second else 0.0
        print(f"ratio service/floor ({label}): {ratio:.2f}")
    return healthy and one.failed == 0 and many.failed == 0 and floor.failed == 0
