"""The inventory service as a real process, and helpers that make test data through it."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, text

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from omni.words import Channel, LocationKind, StockMovementReason
from services.common.db import Database
from tests.support.ports import free_port
from tests.support.processes import start_module, stop_process, wait_grpc_healthy

Stub = inventory_pb2_grpc.InventoryServiceStub


@dataclass
class RunningInventory:
    address: str
    database_url: str


@contextmanager
def running_inventory(
    database_url: str, log_path: Path, env: dict[str, str] | None = None
) -> Iterator[RunningInventory]:
    """Starts `services.inventory.main` on a free port; checks it stops gracefully."""
    address = f"127.0.0.1:{free_port()}"
    process = start_module(
        "services.inventory.main",
        {
            "DATABASE_URL": database_url,
            "GRPC_HOST": "127.0.0.1",
            "GRPC_PORT": address.rsplit(":", 1)[1],
            **(env or {}),
        },
        log_path,
    )
    try:
        wait_grpc_healthy(address, process)
        yield RunningInventory(address, database_url)
    finally:
        exit_status = stop_process(process)
    assert exit_status == 0, "the service did not stop gracefully on SIGTERM"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def random_point() -> common_pb2.GeoPoint:
    """Somewhere no other test put a location (tests share one database)."""
    return common_pb2.GeoPoint(lat=random.uniform(-60, 60), lon=random.uniform(-170, 170))


def offset(point: common_pb2.GeoPoint, km_north: float) -> common_pb2.GeoPoint:
    return common_pb2.GeoPoint(lat=point.lat + km_north / 111.195, lon=point.lon)


async def create_location(
    stub: Stub,
    point: common_pb2.GeoPoint,
    *,
    kind: str = "store",  # a LocationKind word
    pickup: bool = True,
    ship: bool = True,
    daily_order_capacity: int = 50,
) -> str:
    location_id = unique("LOC")
    await stub.CreateLocation(
        pb.CreateLocationRequest(
            location=pb.Location(
                location_id=location_id,
                name=f"Store {location_id}",
                kind=LocationKind(kind).to_proto(),
                point=point,
                pickup_enabled=pickup,
                ship_from_enabled=ship,
                daily_order_capacity=daily_order_capacity,
            )
        )
    )
    return location_id


async def create_product(stub: Stub) -> str:
    sku = unique("SKU")
    await stub.CreateProduct(
        pb.CreateProductRequest(
            product=pb.Product(
                sku=sku,
                name=f"Product {sku}",
                price=common_pb2.Money(amount_minor=1299, currency="USD"),
                returnable_days=30,
            )
        )
    )
    return sku


async def receive(stub: Stub, location_id: str, sku: str, quantity: int) -> pb.StockRecord:
    reply = await stub.AdjustStock(
        pb.AdjustStockRequest(
            idempotency_key=unique("adj"),
            location_id=location_id,
            sku=sku,
            delta=quantity,
            reason=StockMovementReason.RECEIPT.to_proto(),
            actor="test",
            reference="po-1",
        )
    )
    return reply.stock


async def stock_of(stub: Stub, location_id: str, sku: str) -> pb.StockRecord:
    return (await stub.GetStock(pb.GetStockRequest(location_id=location_id, sku=sku))).stock


def reserve_request(
    location_id: str,
    lines: dict[str, int],
    *,
    reservation_id: str | None = None,
    channel: str = "web",  # a Channel word
    ttl_seconds: int = 0,
) -> pb.ReserveStockRequest:
    return pb.ReserveStockRequest(
        reservation_id=reservation_id or unique("RES"),
        order_id=unique("ORD"),
        location_id=location_id,
        lines=[common_pb2.SkuQuantity(sku=sku, quantity=q) for sku, q in lines.items()],
        channel=Channel(channel).to_proto(),
        ttl_seconds=ttl_seconds,
    )


async def stocked(stub: Stub, quantity: int) -> tuple[str, str]:
    """A fresh location and product with `quantity` on hand."""
    location_id = await create_location(stub, random_point())
    sku = await create_product(stub)
    await receive(stub, location_id, sku, quantity)
    return location_id, sku


async def sql(database: Database, statement: str, **params: object) -> Any:
    """Runs one statement straight on the database and commits: the first
    column of its first row, or None for a statement that returns no rows."""
    async with database.unit_of_work() as uow:
        result = cast(CursorResult[Any], await uow.session.execute(text(statement), params))
        value = result.scalar() if result.returns_rows else None
        await uow.commit()
    return value


async def ledger_sum(database: Database, location_id: str, sku: str) -> int:
    total = await sql(
        database,
        "SELECT coalesce(sum(delta), 0) FROM stock_movements"
        " WHERE location_id = :location_id AND sku = :sku",
        location_id=location_id,
        sku=sku,
    )
    return int(total or 0)


@dataclass(frozen=True)
class PartialCommit:
    location_id: str
    first: str
    second: str
    held: pb.Reservation
    committed: pb.Reservation


async def two_skus_held(
    stub: Stub, on_hand: tuple[int, int], holding: tuple[int, int]
) -> tuple[str, str, str, pb.Reservation]:
    """A fresh store stocking two fresh skus (`on_hand` of each) and one hold
    of `holding` of them: (location, first sku, second sku, the hold)."""
    location_id, first = await stocked(stub, on_hand[0])
    second = await create_product(stub)
    await receive(stub, location_id, second, on_hand[1])
    request = reserve_request(location_id, {first: holding[0], second: holding[1]})
    held = (await stub.ReserveStock(request)).reservation
    return location_id, first, second, held


async def commit_part_of_a_hold(stub: Stub) -> PartialCommit:
    """A hold of 4 `first` (10 on hand) and 2 `second` (5 on hand), of which
    3 `first` are sold and the rest given back."""
    location_id, first, second, held = await two_skus_held(stub, (10, 5), (4, 2))
    committed = await stub.CommitReservation(
        pb.CommitReservationRequest(
            reservation_id=held.reservation_id,
            lines=[common_pb2.SkuQuantity(sku=first, quantity=3)],
        )
    )
    return PartialCommit(location_id, first, second, held, committed.reservation)
