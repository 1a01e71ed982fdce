"""The InventoryService gRPC servicer: validate, one unit of work, map back."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg
import grpc

from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from services.common.db import Database
from services.common.idempotency import run_once
from services.inventory import domain, mapping
from services.inventory.changes import StockChanges, StockKey
from services.inventory.domain import Violations
from services.inventory.store import (
    AvailabilitySnapshot,
    InventoryStore,
    idempotency_keys,
    read_availability,
    reserve_in_one_statement,
)

logger = logging.getLogger(__name__)

Context: TypeAlias = grpc.aio.ServicerContext

MAX_SKUS_PER_CALL = 200


def _check_skus(violations: Violations, skus: list[str], *, required: bool) -> None:
    if required and not skus:
        violations.add("skus", "must name at least one sku")
    if len(skus) > MAX_SKUS_PER_CALL:
        violations.add("skus", f"must name at most {MAX_SKUS_PER_CALL} skus")
    for index, sku in enumerate(skus):
        violations.check_id(f"skus[{index}]", sku)


def _check_location_ids(violations: Violations, location_ids: list[str]) -> None:
    if len(location_ids) > MAX_SKUS_PER_CALL:
        violations.add("location_ids", f"must name at most {MAX_SKUS_PER_CALL} locations")
    for index, location_id in enumerate(location_ids):
        violations.check_id(f"location_ids[{index}]", location_id)


class InventoryService(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(
        self, database: Database, hot_pool: asyncpg.Pool, changes: StockChanges | None = None
    ) -> None:
        self.db = database
        self.hot_pool = hot_pool  # plain asyncpg, for ReserveStock and GetAvailability
        self._database_name = database.engine.url.database or ""
        self.changes = changes

    async def _release_expired_holds(self) -> None:
        """Expired soft holds stop counting before anything changes stock."""
        async with self.db.transaction() as session:
            store = InventoryStore(session)
            if await store.has_expired_holds():
                await store.release_expired_holds()

    @asynccontextmanager
    async def _fresh_read(self) -> AsyncIterator[InventoryStore]:
        """A read transaction in which expired soft holds no longer count.

        The check is one index lookup inside the read's own transaction; only
        when a hold is due does the sweep run (and commit) on its own, which
        the read then sees, being READ COMMITTED.
        """
        async with self.db.transaction() as session:
            store = InventoryStore(session)
            if await store.has_expired_holds():
                await self._release_expired_holds()
            yield store

    async def sweep_expired_holds_forever(self, interval_seconds: float) -> None:
        """Expires soft holds on time even when nobody calls the service.

        Every replica may run it: the sweep skips holds another one has locked.
        """
        while True:
            try:
                await self._release_expired_holds()
            except Exception:
                logger.exception("expired-hold sweep failed; trying again")
            await asyncio.sleep(interval_seconds)

    # --- locations and products ------------------------------------------------

    async def CreateLocation(
        self, request: pb.CreateLocationRequest, context: Context
    ) -> pb.CreateLocationResponse:
        location, point_given = mapping.location_from_proto(request.location)
        violations = Violations()
        domain.check_location(location, violations, point_given=point_given)
        violations.raise_if_any()
        async with self.db.transaction() as session:
            created = await InventoryStore(session).create_location(
                domain.with_default_durations(location)
            )
        return pb.CreateLocationResponse(location=mapping.location_to_proto(created))

    async def GetLocation(
        self, request: pb.GetLocationRequest, context: Context
    ) -> pb.GetLocationResponse:
        violations = Violations()
        violations.check_id("location_id", request.location_id)
        violations.raise_if_any()
        async with self.db.transaction() as session:
            location = await InventoryStore(session).get_location(request.location_id)
        return pb.GetLocationResponse(location=mapping.location_to_proto(location))

    async def ListLocations(
        self, request: pb.ListLocationsRequest, context: Context
    ) -> pb.ListLocationsResponse:
        near = mapping.point_from_proto(request, "near")
        violations = Violations()
        if near is not None:
            violations.check_point("near", near)
        violations.check_radius("radius_km", request.radius_km)
        if request.limit < 0:
            violations.add("limit", f"must be between 0 and {domain.MAX_PAGE_SIZE} (0: default)")
        violations.raise_if_any()
        offset = domain.decode_page_token(request.page_token)
        size = domain.page_size(request.limit)
        async with self.db.transaction() as session:
            all_locations = await InventoryStore(session).list_locations(
                pickup_enabled_only=request.pickup_enabled_only
            )
        ranked = domain.locations_near(all_locations, near, request.radius_km)
        page = ranked[offset : offset + size]
        more = offset + size < len(ranked)
        return pb.ListLocationsResponse(
            locations=[
                pb.LocationWithDistance(
                    location=mapping.location_to_proto(item.location),
                    distance_km=item.distance_km,
                )
                for item in page
            ],
            next_page_token=domain.encode_page_token(offset + size) if more else "",
        )

    async def CreateProduct(
        self, request: pb.CreateProductRequest, context: Context
    ) -> pb.CreateProductResponse:
        product = mapping.product_from_proto(request.product)
        violations = Violations()
        domain.check_product(product, violations)
        violations.raise_if_any()
        async with self.db.transaction() as session:
            created = await InventoryStore(session).create_product(product)
        return pb.CreateProductResponse(product=mapping.product_to_proto(created))

    async def GetProducts(
        self, request: pb.GetProductsRequest, context: Context
    ) -> pb.GetProductsResponse:
        skus = list(request.skus)
        violations = Violations()
        _check_skus(violations, skus, required=False)
        violations.raise_if_any()
        if not skus:
            return pb.GetProductsResponse()
        async with self.db.transaction() as session:
            found = await InventoryStore(session).get_products(skus)
        return pb.GetProductsResponse(products=[mapping.product_to_proto(p) for p in found])

    # --- stock --------------------------------------------------------------------

    async def AdjustStock(
        self, request: pb.AdjustStockRequest, context: Context
    ) -> pb.AdjustStockResponse:
        violations = Violations()
        violations.check_text("idempotency_key", request.idempotency_key, required=True)
        violations.check_id("location_id", request.location_id)
        violations.check_id("sku", request.sku)
        if request.delta == 0:
            violations.add("delta", "must not be 0")
        elif abs(request.delta) > domain.MAX_ADJUSTMENT:
            violations.add(
                "delta", f"must be between -{domain.MAX_ADJUSTMENT} and {domain.MAX_ADJUSTMENT}"
            )
        if request.reason not in domain.ADJUSTMENT_REASONS:
            violations.add("reason", "must be one of: " + ", ".join(domain.ADJUSTMENT_REASONS))
        violations.check_text("actor", request.actor)
        violations.check_text("reference", request.reference)
        violations.raise_if_any()
        await self._release_expired_holds()
        async with self.db.transaction() as session:
            store = InventoryStore(session)

            async def adjust() -> pb.AdjustStockResponse:
                level = await store.adjust_stock(
                    location_id=request.location_id,
                    sku=request.sku,
                    delta=request.delta,
                    reason=request.reason,
                    actor=request.actor,
                    reference=request.reference,
                )
                return pb.AdjustStockResponse(stock=mapping.stock_to_proto(level))

            return await run_once(
                session,
                idempotency_keys,
                request.idempotency_key,
                request,
                pb.AdjustStockResponse,
                adjust,
            )

    async def SetSafetyStock(
        self, request: pb.SetSafetyStockRequest, context: Context
    ) -> pb.SetSafetyStockResponse:
        violations = Violations()
        violations.check_id("location_id", request.location_id)
        violations.check_id("sku", request.sku)
        violations.check_text("channel", request.channel, required=True)
        if not 0 <= request.quantity <= domain.MAX_ADJUSTMENT:
            violations.add("quantity", f"must be between 0 and {domain.MAX_ADJUSTMENT}")
        violations.raise_if_any()
        async with self.db.transaction() as session:
            level = await InventoryStore(session).set_safety_stock(
                location_id=request.location_id,
                sku=request.sku,
                channel=request.channel,
                quantity=request.quantity,
            )
        return pb.SetSafetyStockResponse(stock=mapping.stock_to_proto(level))

    async def GetStock(self, request: pb.GetStockRequest, context: Context) -> pb.GetStockResponse:
        violations = Violations()
        violations.check_id("location_id", request.location_id)
        violations.check_id("sku", request.sku)
        violations.raise_if_any()
        async with self._fresh_read() as store:
            level = await store.get_stock(request.location_id, request.sku)
        return pb.GetStockResponse(stock=mapping.stock_to_proto(level))

    async def GetAvailability(
        self, request: pb.GetAvailabilityRequest, context: Context
    ) -> pb.GetAvailabilityResponse:
        skus = domain.unique_in_order(request.skus)
        near = mapping.point_from_proto(request, "near")
        violations = Violations()
        _check_skus(violations, skus, required=True)
        if near is not None:
            violations.check_point("near", near)
        violations.check_radius("radius_km", request.radius_km)
        violations.check_text("channel", request.channel)
        violations.raise_if_any()
        snapshot = await self._read_availability(skus, request.channel)
        if snapshot.holds_due:
            await self._release_expired_holds()
            snapshot = await self._read_availability(skus, request.channel)
        domain.require_all_found(skus, snapshot.known_skus, "sku")
        items = domain.summarize_availability(skus, snapshot.stock, near, request.radius_km)
        return pb.GetAvailabilityResponse(items=[mapping.availability_to_proto(i) for i in items])

    async def _read_availability(self, skus: Sequence[str], channel: str) -> AvailabilitySnapshot:
        return await read_availability(
            self.hot_pool, skus, channel, database_name=self._database_name
        )

    # --- reservations -----------------------------------------------------------

    async def ReserveStock(
        self, request: pb.ReserveStockRequest, context: Context
    ) -> pb.ReserveStockResponse:
        reservation_request = domain.ReservationRequest(
            reservation_id=request.reservation_id,
            order_id=request.order_id,
            location_id=request.location_id,
            lines=mapping.lines_from_proto(request.lines),
            channel=request.channel,
            ttl_seconds=request.ttl_seconds,
        )
        domain.check_reservation_request(reservation_request)
        # One round trip; holds past their TTL are given back by the sweeps.
        outcome = await reserve_in_one_statement(
            self.hot_pool, reservation_request, database_name=self._database_name
        )
        if outcome.created:
            reservation = domain.Reservation(
                reservation_id=reservation_request.reservation_id,
                order_id=reservation_request.order_id,
                location_id=reservation_request.location_id,
                lines=tuple(domain.merge_lines(reservation_request.lines)),
                status=domain.STATUS_ACTIVE,
                expires_at=outcome.expires_at,
            )
        else:
            async with self._fresh_read() as store:
                if outcome.unknown_reference:
                    await store.check_reservable(reservation_request)  # raises NotFound
                if outcome.short_skus:
                    raise await store.insufficient_stock(reservation_request, outcome.short_skus)
                reservation = await store.existing_reservation(reservation_request)
        return pb.ReserveStockResponse(reservation=mapping.reservation_to_proto(reservation))

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReleaseReservationResponse:
        violations = Violations()
        violations.check_text("reservation_id", request.reservation_id, required=True)
        violations.raise_if_any()
        async with self.db.transaction() as session:
            reservation = await InventoryStore(session).release(request.reservation_id)
        return pb.ReleaseReservationResponse(reservation=mapping.reservation_to_proto(reservation))

    async def CommitReservation(
        self, request: pb.CommitReservationRequest, context: Context
    ) -> pb.CommitReservationResponse:
        lines = mapping.lines_from_proto(request.lines)
        violations = Violations()
        violations.check_text("reservation_id", request.reservation_id, required=True)
        if lines:
            violations.check_lines("lines", lines, allow_zero=True)
        violations.raise_if_any()
        async with self.db.transaction() as session:
            reservation = await InventoryStore(session).commit(request.reservation_id, lines)
        return pb.CommitReservationResponse(reservation=mapping.reservation_to_proto(reservation))

    # --- sourcing -------------------------------------------------------------------

    async def FindSources(
        self, request: pb.FindSourcesRequest, context: Context
    ) -> pb.FindSourcesResponse:
        destination = mapping.point_from_proto(request, "destination")
        sourcing = domain.SourcingRequest(
            lines=mapping.lines_from_proto(request.lines),
            destination=destination or domain.GeoPoint(0.0, 0.0),
            fulfillment_type=request.fulfillment_type,
            channel=request.channel,
            exclude_location_ids=frozenset(request.exclude_location_ids),
            max_locations=request.max_locations,
        )
        domain.check_sourcing_request(sourcing, destination_given=destination is not None)
        skus = [line.sku for line in domain.merge_lines(sourcing.lines)]
        async with self._fresh_read() as store:
            await store.require_product_skus(skus)
            candidates = await store.source_candidates(skus, request.channel)
        options = domain.find_sources(sourcing, candidates)
        return pb.FindSourcesResponse(
            options=[mapping.sourcing_option_to_proto(option) for option in options]
        )

    # --- invariants and live availability ------------------------------------------

    async def CheckInvariants(
        self, request: pb.CheckInvariantsRequest, context: Context
    ) -> pb.CheckInvariantsResponse:
        skus = domain.unique_in_order(request.skus)
        violations = Violations()
        _check_skus(violations, skus, required=False)
        violations.raise_if_any()
        async with self.db.transaction() as session:
            audits = await InventoryStore(session).audit_stock(skus)
        return pb.CheckInvariantsResponse(
            violations=[mapping.violation_to_proto(v) for v in domain.invariant_violations(audits)],
            rows_checked=len(audits),
        )

    async def WatchAvailability(
        self, request: pb.WatchAvailabilityRequest, context: Context
    ) -> AsyncIterator[pb.WatchAvailabilityResponse]:
        skus = domain.unique_in_order(request.skus)
        location_ids = domain.unique_in_order(request.location_ids)
        violations = Violations()
        _check_skus(violations, skus, required=True)
        _check_location_ids(violations, location_ids)
        violations.check_text("channel", request.channel)
        violations.raise_if_any()
        if self.changes is None:
            raise RuntimeError("this server was started without stock change notifications")
        async with self.changes.subscribe(skus, location_ids) as subscription:
            # Subscribed first, then read: a change in between is sent, never lost.
            async with self.db.transaction() as session:
                store = InventoryStore(session)
                await store.require_product_skus(skus)
                for location_id in location_ids:
                    await store.get_location(location_id)
            last_sent: dict[StockKey, int] = {}
            current = await self._available(skus, location_ids, request.channel)
            if location_ids:
                # Every pair asked about, 0 where the location never had the sku.
                current = {
                    (location_id, sku): current.get((location_id, sku), 0)
                    for location_id in location_ids
                    for sku in skus
                }
            for key, available_now in sorted(current.items()):
                last_sent[key] = available_now
                yield mapping.availability_change_to_proto(key, available_now, current=True)
            while (changes := await subscription.next_changes()) is not None:
                changed, resync = changes
                keys = set(current) | changed if resync else changed
                fresh = await self._available(
                    sorted({sku for _, sku in keys}),
                    sorted({location_id for location_id, _ in keys}),
                    request.channel,
                )
                for key in sorted(keys):
                    available_now = fresh.get(key, 0)
                    if last_sent.get(key) != available_now:
                        last_sent[key] = available_now
                        yield mapping.availability_change_to_proto(
                            key, available_now, current=False
                        )

    async def _available(
        self, skus: Sequence[str], location_ids: Sequence[str], channel: str
    ) -> dict[StockKey, int]:
        """Available for the channel per (location, sku) that has a stock row."""
        async with self.db.transaction() as session:
            rows = await InventoryStore(session).stock_with_locations(skus, channel, location_ids)
        return {(row.location.location_id, row.sku): row.available for row in rows}
