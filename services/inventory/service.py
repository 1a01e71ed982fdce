"""The InventoryService gRPC servicer: validate, one unit of work, map back."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from services.common.db import Database
from services.common.idempotency import run_once
from services.inventory import domain, mapping
from services.inventory.domain import Violations
from services.inventory.store import InventoryStore, idempotency_keys

Context: TypeAlias = grpc.aio.ServicerContext

MAX_SKUS_PER_CALL = 200


def _check_skus(violations: Violations, skus: list[str], *, required: bool) -> None:
    if required and not skus:
        violations.add("skus", "must name at least one sku")
    if len(skus) > MAX_SKUS_PER_CALL:
        violations.add("skus", f"must name at most {MAX_SKUS_PER_CALL} skus")
    for index, sku in enumerate(skus):
        violations.check_id(f"skus[{index}]", sku)


class InventoryService(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, database: Database) -> None:
        self.db = database

    async def _release_expired_holds(self) -> None:
        """Expired soft holds stop counting before anything reads or holds stock."""
        async with self.db.transaction() as session:
            store = InventoryStore(session)
            if await store.has_expired_holds():
                await store.release_expired_holds()

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
        await self._release_expired_holds()
        async with self.db.transaction() as session:
            level = await InventoryStore(session).get_stock(request.location_id, request.sku)
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
        await self._release_expired_holds()
        async with self.db.transaction() as session:
            store = InventoryStore(session)
            await store.require_product_skus(skus)
            rows = await store.stock_with_locations(skus, request.channel)
        items = domain.summarize_availability(skus, rows, near, request.radius_km)
        return pb.GetAvailabilityResponse(items=[mapping.availability_to_proto(i) for i in items])

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
        await self._release_expired_holds()
        async with self.db.transaction() as session:
            reservation = await InventoryStore(session).reserve(reservation_request)
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
        await self._release_expired_holds()
        async with self.db.transaction() as session:
            store = InventoryStore(session)
            await store.require_product_skus(skus)
            candidates = await store.source_candidates(skus, request.channel)
        options = domain.find_sources(sourcing, candidates)
        return pb.FindSourcesResponse(
            options=[mapping.sourcing_option_to_proto(option) for option in options]
        )
