"""Hot-SKU reservations through the inventory gRPC service, against the floor:
`reserve_stock()` — the same SQL work ReserveStock does, reservation record
and lines included — called straight through asyncpg on the same kind of pool
by the same callers. Then the service with its per-row batching
(RESERVE_BATCH_MAX, RESERVE_BATCH_WINDOW_MS: store/fast_path.py ReserveBatcher)
for several windows, against the unbatched service (the goal: 2x).

The load generator runs in processes of its own (bench/load.py) and every phase
reports the CPU each side spent per operation (bench/cpu.py), so the figures
say where the time goes, not only how much there was.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
import grpc

from bench.cpu import Side, per_operation_line
from bench.load import Operation, OperationFactory, Outcome, drive_metered
from bench.processes import (
    BENCH_ADMIN,
    BENCH_WORKFLOW,
    BenchHome,
    RunningService,
    inventory_service,
    signed_channel,
)
from bench.results import record
from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from omni.words import Channel, LocationKind, StockMovementReason
from services.common.plain_sql import create_hot_pool
from services.inventory.main import InventorySettings

CALLERS = 64
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
# The figure the batching must double (bench/README.md, ReserveStock, 2 processes).
TODAY_PER_SECOND = 1099.0
# Batching windows tried, in milliseconds (0: the same event-loop tick).
WINDOWS_MS = tuple(
    float(w) for w in os.environ.get("BENCH_RESERVE_WINDOWS_MS", "0.5,2,4,8").split(",")
)
UNBATCHED = {"RESERVE_BATCH_MAX": "1"}
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
POOL_SIZE = InventorySettings.database_pool_size

# What ReserveStock's unbatched hot path sends, as the service sends it.
FLOOR_RESERVE = (
    "SELECT out_created, out_expires_at FROM reserve_stock($1, $2, $3, $4, $5, $6, $7, $8)"
)


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

    async def floor_reserve() -> bool:
        try:
            await pool.fetchrow(
                FLOOR_RESERVE,
                f"floor-{uuid.uuid4().hex}",
                "bench",
                LOCATION,
                next(channels),
                0,
                "bench-fingerprint",
                [sku],
                [1],
            )
        except asyncpg.PostgresError as error:
            if error.sqlstate == "OM001":
                return False
            raise
        return True

    try:
        yield floor_reserve
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


async def _prepare(address: str, stock: dict[str, int]) -> None:
    async with signed_channel(address, BENCH_ADMIN) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        await _setup(stub, stock)


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
        audit = await stub.CheckInvariants(pb.CheckInvariantsRequest())
        levels = [
            (await stub.GetStock(pb.GetStockRequest(location_id=LOCATION, sku=sku))).stock
            for sku in ("HOT-SKU-1", "HOT-SKU-2", "HOT-SKU-BATCH-2", "SCARCE-SKU")
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


def _figures(outcome: Outcome, spent: dict[str, float]) -> dict[str, float]:
    operations = outcome.succeeded + outcome.refused
    return {
        **outcome.figures(),
        **{
            f"cpu_us_{name.replace(' ', '_')}": round(seconds / operations * 1e6, 1)
            for name, seconds in spent.items()
            if operations
        },
    }


def _measure_figures(
    label: str, factory: OperationFactory, sides: Sequence[Side]
) -> tuple[Outcome, dict[str, float]]:
    outcome, spent = drive_metered(
        factory,
        sides,
        workers=LOAD_PROCESSES,
        callers=CALLERS,
        seconds=SECONDS,
        warm_up=WARM_UP_SECONDS,
    )
    operations = outcome.succeeded + outcome.refused
    print(outcome.line(label), flush=True)
    print(f"{'':<4}{per_operation_line(spent, operations)}", flush=True)
    return outcome, _figures(outcome, spent)


def _service_phase(
    home: BenchHome,
    database_url: str,
    postgres: Side,
    label: str,
    sku: str,
    env: dict[str, str],
    processes: int = 1,
) -> tuple[Outcome, dict[str, float]]:
    with inventory_service(home, database_url, processes=processes, env=env) as service:
        return _measure_figures(
            label,
            functools.partial(_service_operation, service.address, sku, CHANNELS_PER_LOAD_PROCESS),
            [Side("service", service.pids), postgres],
        )


def run(home: BenchHome) -> bool:
    database_url = home.database("inventory")
    postgres = Side("postgres", [home.postgres_pid()], with_children=True)
    print(
        f"inventory-reserve: {CALLERS} concurrent callers in {LOAD_PROCESSES} load processes,"
        f" {SECONDS:.0f} s each, one hot SKU; batching windows {WINDOWS_MS} ms"
    )
    skus = {"FLOOR-SKU": PLENTY, "SCARCE-SKU": SCARCE, "HOT-SKU-1": PLENTY, "HOT-SKU-2": PLENTY}
    skus |= {f"HOT-SKU-W{w}": PLENTY for w in WINDOWS_MS} | {"HOT-SKU-BATCH-2": PLENTY}
    with inventory_service(home, database_url) as setup:
        asyncio.run(_prepare(setup.address, skus))
    floor, floor_figures = _measure_figures(
        f"floor: reserve_stock() via asyncpg, pool {POOL_SIZE}",
        functools.partial(_floor_operation, database_url, "FLOOR-SKU", POOL_SIZE // LOAD_PROCESSES),
        [postgres],
    )
    phases: dict[str, dict[str, float]] = {"floor_reserve_stock_direct": floor_figures}
    one, phases["service_unbatched_1_process"] = _service_phase(
        home, database_url, postgres, "ReserveStock unbatched, 1 process", "HOT-SKU-1", UNBATCHED
    )
    two, phases["service_unbatched_2_processes"] = _service_phase(
        home,
        database_url,
        postgres,
        "ReserveStock unbatched, 2 processes",
        "HOT-SKU-2",
        UNBATCHED,
        processes=SERVER_PROCESSES,
    )
    batched: dict[float, Outcome] = {}
    for window in WINDOWS_MS:
        batched[window], phases[f"service_batched_window_{window}ms"] = _service_phase(
            home,
            database_url,
            postgres,
            f"ReserveStock batched, window {window} ms",
            f"HOT-SKU-W{window}",
            {"RESERVE_BATCH_MAX": "64", "RESERVE_BATCH_WINDOW_MS": str(window)},
        )
    best_window = max(batched, key=lambda w: batched[w].per_second)
    best = batched[best_window]
    batched_two, phases["service_batched_2_processes"] = _service_phase(
        home,
        database_url,
        postgres,
        f"ReserveStock batched ({best_window} ms), 2 processes",
        "HOT-SKU-BATCH-2",
        {"RESERVE_BATCH_MAX": "64", "RESERVE_BATCH_WINDOW_MS": str(best_window)},
        processes=SERVER_PROCESSES,
    )
    batched_env = {"RESERVE_BATCH_MAX": "64", "RESERVE_BATCH_WINDOW_MS": str(best_window)}
    with inventory_service(
        home, database_url, processes=SERVER_PROCESSES, env=batched_env
    ) as several:
        healthy = asyncio.run(_audit(several, database_url))

    def ratio(a: Outcome, b: Outcome) -> float:
        return round(a.per_second / b.per_second, 2) if b.per_second else 0.0

    top = max(best.per_second, batched_two.per_second)
    ratios = {
        "unbatched_1_over_floor": ratio(one, floor),
        "unbatched_2_over_floor": ratio(two, floor),
        "batched_over_floor": ratio(best, floor),
        "batched_over_unbatched_same_run": ratio(best, one),
        "best_batched_over_today_1099": round(top / TODAY_PER_SECOND, 2),
    }
    for name, value in ratios.items():
        print(f"ratio {name}: {value}")
    goal_met = top >= 2 * TODAY_PER_SECOND
    print(
        f"goal: hot-SKU reservations through the service >= 2 x {TODAY_PER_SECOND:.0f}/s:"
        f" {top:.0f}/s -> {'MET' if goal_met else 'NOT MET'}; window chosen {best_window} ms"
    )
    record(
        "inventory-reserve",
        {
            "seconds_per_phase": SECONDS,
            "callers": CALLERS,
            **phases,
            "ratios": ratios,
            "best_window_ms": best_window,
            "goal": "batched service >= 2 x 1099/s, 0 oversold, 0 invariant violations",
            "goal_met": goal_met,
            "oversell_and_invariants_ok": healthy,
        },
    )
    failed = floor.failed + one.failed + two.failed + sum(o.failed for o in batched.values())
    return healthy and failed == 0 and batched_two.failed == 0
