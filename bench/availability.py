"""Availability lookups of 10 SKUs near a point, through the gateway."""

from __future__ import annotations

import asyncio
import functools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from bench.cpu import Side, per_operation_line
from bench.load import Operation, drive_metered
from bench.processes import (
    BENCH_ADMIN,
    BenchHome,
    free_port,
    inventory_service,
    running,
    signed_channel,
    wait_http,
)
from bench.results import record
from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from omni.words import LocationKind, StockMovementReason
from services.gateway.auth import mint_token

CALLERS = 32
LOAD_PROCESSES = 2
SECONDS = 10.0
WARM_UP_SECONDS = 1.0
SKUS = [f"AVAIL-SKU-{n:02d}" for n in range(10)]
LOCATIONS = 20
CENTRE = (40.0, -74.0)
JWT_SECRET = "bench-only-signing-secret-0123456789abcdef"


async def _setup(address: str) -> None:
    """20 stores within about 15 km of the centre, each stocking the 10 SKUs."""
    rng = random.Random(7)
    async with signed_channel(address, BENCH_ADMIN) as channel:
        stub = inventory_pb2_grpc.InventoryServiceStub(channel)
        for sku in SKUS:
            await stub.CreateProduct(
                pb.CreateProductRequest(
                    product=pb.Product(
                        sku=sku, name=sku, price=common_pb2.Money(amount_minor=100, currency="USD")
                    )
                )
            )
        for n in range(LOCATIONS):
            location_id = f"AVAIL-STORE-{n:02d}"
            await stub.CreateLocation(
                pb.CreateLocationRequest(
                    location=pb.Location(
                        location_id=location_id,
                        name=location_id,
                        kind=LocationKind.STORE.to_proto(),
                        point=common_pb2.GeoPoint(
                            lat=CENTRE[0] + rng.uniform(-0.1, 0.1),
                            lon=CENTRE[1] + rng.uniform(-0.1, 0.1),
                        ),
                        pickup_enabled=True,
                        ship_from_enabled=n % 2 == 0,
                    )
                )
            )
            for sku in SKUS:
                await stub.AdjustStock(
                    pb.AdjustStockRequest(
                        idempotency_key=f"bench-{location_id}-{sku}",
                        location_id=location_id,
                        sku=sku,
                        delta=rng.randint(0, 50) + 1,
                        reason=StockMovementReason.RECEIPT.to_proto(),
                        actor="bench",
                    )
                )


PARAMS = {"skus": ",".join(SKUS), "near": f"{CENTRE[0]},{CENTRE[1]}", "radius_km": "25"}


@asynccontextmanager
async def _lookup_operation(gateway_url: str, token: str) -> AsyncIterator[Operation]:
    limits = httpx.Limits(max_connections=CALLERS, max_keepalive_connections=CALLERS)
    async with httpx.AsyncClient(
        base_url=gateway_url,
        headers={"Authorization": f"Bearer {token}"},
        limits=limits,
        timeout=30,
    ) as client:

        async def lookup() -> bool:
            response = await client.get("/v1/availability", params=PARAMS)
            response.raise_for_status()
            return True

        yield lookup


def _entries_per_answer(gateway_url: str, token: str) -> int:
    answer = httpx.get(
        f"{gateway_url}/v1/availability",
        params=PARAMS,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    answer.raise_for_status()
    return sum(len(item["locations"]) for item in answer.json()["items"])


def _measure(gateway_url: str, sides: list[Side]) -> bool:
    token = mint_token(JWT_SECRET, "bench-guest", "guest", channel="web")
    listed = _entries_per_answer(gateway_url, token)
    outcome, spent = drive_metered(
        functools.partial(_lookup_operation, gateway_url, token),
        sides,
        workers=LOAD_PROCESSES,
        callers=CALLERS,
        seconds=SECONDS,
        warm_up=WARM_UP_SECONDS,
    )
    print(
        f"availability: {CALLERS} concurrent callers in {LOAD_PROCESSES} load processes,"
        f" {SECONDS:.0f} s, {len(SKUS)} SKUs near a point ({listed} sku x location entries"
        " per answer)"
    )
    print(outcome.line("GET /v1/availability (gateway)"))
    print(f"{'':<4}{per_operation_line(spent, outcome.succeeded + outcome.refused)}")
    operations = outcome.succeeded + outcome.refused
    record(
        "availability",
        {
            "callers": CALLERS,
            "seconds": SECONDS,
            "entries_per_answer": listed,
            "gateway": outcome.figures(),
            "cpu_us_per_lookup": {
                name: round(seconds / operations * 1e6) for name, seconds in spent.items()
            }
            if operations
            else {},
        },
    )
    return outcome.failed == 0 and listed == len(SKUS) * LOCATIONS


def run(home: BenchHome) -> bool:
    inventory_url = home.database("inventory")
    gateway_url_db = home.database("gateway")
    with inventory_service(home, inventory_url) as inventory:
        asyncio.run(_setup(inventory.address))
        port = free_port()
        env = {
            "DATABASE_URL": gateway_url_db,
            "GATEWAY_HOST": "127.0.0.1",
            "GATEWAY_PORT": str(port),
            "INVENTORY_ADDR": inventory.address,
            "JWT_SECRET": JWT_SECRET,
            # The only way to verify HS256 tokens (issue 12).
            "OMNI_ENV": "development",
            "LOG_LEVEL": "WARNING",
            # One token drives the whole load: measure lookups, not the rate limit.
            "RATE_LIMIT_PER_SECOND": "0",
        }
        gateway_url = f"http://127.0.0.1:{port}"
        with running("services.gateway.main", env, home.log("gateway")) as process:
            wait_http(f"{gateway_url}/docs", process)
            sides = [
                Side("gateway", [process.pid]),
                Side("inventory", inventory.pids),
                Side("postgres", [home.postgres_pid()], with_children=True),
            ]
            return _measure(gateway_url, sides)
