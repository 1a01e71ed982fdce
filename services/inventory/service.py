"""The InventoryServicer: request → mapping → use case → mapping → response.

Domain errors are mapped to status codes by the server's error interceptor.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypeAlias

import grpc

from omni.inventory.v1 import inventory_pb2 as pb
from omni.inventory.v1 import inventory_pb2_grpc
from omni.words import Channel
from services.inventory import mapping, use_cases
from services.inventory.use_cases import Inventory, KeyedReply

Context: TypeAlias = grpc.aio.ServicerContext


class InventoryServicer(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory

    async def CreateLocation(
        self, request: pb.CreateLocationRequest, context: Context
    ) -> pb.CreateLocationResponse:
        location, point_given = mapping.location_from_proto(request.location)
        created = await use_cases.create_location(self.inventory, location, point_given=point_given)
        return pb.CreateLocationResponse(location=mapping.location_to_proto(created))

    async def GetLocation(
        self, request: pb.GetLocationRequest, context: Context
    ) -> pb.GetLocationResponse:
        location = await use_cases.get_location(self.inventory, request.location_id)
        return pb.GetLocationResponse(location=mapping.location_to_proto(location))

    async def UpdateLocation(
        self, request: pb.UpdateLocationRequest, context: Context
    ) -> pb.UpdateLocationResponse:
        changed = await use_cases.update_location(
            self.inventory, request.location_id, mapping.location_changes_from_proto(request)
        )
        return pb.UpdateLocationResponse(location=mapping.location_to_proto(changed))

    async def ListLocations(
        self, request: pb.ListLocationsRequest, context: Context
    ) -> pb.ListLocationsResponse:
        page = await use_cases.list_locations(
            self.inventory,
            near=mapping.point_from_proto(request, "near"),
            radius_km=request.radius_km,
            pickup_enabled_only=request.pickup_enabled_only,
            limit=request.limit,
            page_token=request.page_token,
        )
        return pb.ListLocationsResponse(
            locations=mapping.locations_to_proto(page.items), next_page_token=page.next_cursor
        )

    async def CreateProduct(
        self, request: pb.CreateProductRequest, context: Context
    ) -> pb.CreateProductResponse:
        product = mapping.product_from_proto(request.product)
        created = await use_cases.create_product(self.inventory, product)
        return pb.CreateProductResponse(product=mapping.product_to_proto(created))

    async def GetProducts(
        self, request: pb.GetProductsRequest, context: Context
    ) -> pb.GetProductsResponse:
        found, location = await use_cases.get_products_at(
            self.inventory,
            list(request.skus),
            Channel.from_proto(request.channel),
            request.location_id,
        )
        reply = pb.GetProductsResponse(products=[mapping.product_to_proto(p) for p in found])
        if location is not None:
            reply.location.CopyFrom(mapping.location_to_proto(location))
        return reply

    async def ListProducts(
        self, request: pb.ListProductsRequest, context: Context
    ) -> pb.ListProductsResponse:
        page = await use_cases.list_products(
            self.inventory,
            request.query,
            Channel.from_proto(request.channel),
            request.limit,
            request.page_token,
        )
        return pb.ListProductsResponse(
            products=[mapping.product_to_proto(p) for p in page.items],
            next_page_token=page.next_cursor,
        )

    async def UpdateProduct(
        self, request: pb.UpdateProductRequest, context: Context
    ) -> pb.UpdateProductResponse:
        changed = await use_cases.update_product(
            self.inventory, request.sku, mapping.product_changes_from_proto(request)
        )
        return pb.UpdateProductResponse(product=mapping.product_to_proto(changed))

    async def SetChannelPrice(
        self, request: pb.SetChannelPriceRequest, context: Context
    ) -> pb.SetChannelPriceResponse:
        product = await use_cases.set_channel_price(
            self.inventory,
            request.sku,
            Channel.from_proto(request.channel),
            mapping.money_from_proto(request.price) if request.HasField("price") else None,
        )
        return pb.SetChannelPriceResponse(product=mapping.product_to_proto(product))

    async def DeleteChannelPrice(
        self, request: pb.DeleteChannelPriceRequest, context: Context
    ) -> pb.DeleteChannelPriceResponse:
        product = await use_cases.delete_channel_price(
            self.inventory, request.sku, Channel.from_proto(request.channel)
        )
        return pb.DeleteChannelPriceResponse(product=mapping.product_to_proto(product))

    async def AdjustStock(
        self, request: pb.AdjustStockRequest, context: Context
    ) -> pb.AdjustStockResponse:
        reply = KeyedReply(request, pb.AdjustStockResponse, mapping.adjust_stock_response)
        return await use_cases.adjust_stock(
            self.inventory, mapping.adjustment_from_proto(request), reply
        )

    async def SetSafetyStock(
        self, request: pb.SetSafetyStockRequest, context: Context
    ) -> pb.SetSafetyStockResponse:
        safety = mapping.safety_stock_from_proto(request)
        level = await use_cases.set_safety_stock(self.inventory, safety)
        return pb.SetSafetyStockResponse(stock=mapping.stock_to_proto(level))

    async def GetStock(self, request: pb.GetStockRequest, context: Context) -> pb.GetStockResponse:
        level = await use_cases.get_stock(self.inventory, request.location_id, request.sku)
        return pb.GetStockResponse(stock=mapping.stock_to_proto(level))

    async def GetAvailability(
        self, request: pb.GetAvailabilityRequest, context: Context
    ) -> pb.GetAvailabilityResponse:
        query = mapping.availability_query_from_proto(request)
        items = await use_cases.get_availability(self.inventory, query)
        return mapping.availability_to_proto(items)

    async def ReserveStock(
        self, request: pb.ReserveStockRequest, context: Context
    ) -> pb.ReserveStockResponse:
        reservation = await use_cases.reserve_stock(
            self.inventory, mapping.reservation_request_from_proto(request)
        )
        return pb.ReserveStockResponse(reservation=mapping.reservation_to_proto(reservation))

    async def ReleaseReservation(
        self, request: pb.ReleaseReservationRequest, context: Context
    ) -> pb.ReleaseReservationResponse:
        reservation = await use_cases.release_reservation(self.inventory, request.reservation_id)
        return pb.ReleaseReservationResponse(reservation=mapping.reservation_to_proto(reservation))

    async def CommitReservation(
        self, request: pb.CommitReservationRequest, context: Context
    ) -> pb.CommitReservationResponse:
        reservation = await use_cases.commit_reservation(
            self.inventory,
            request.reservation_id,
            mapping.lines_from_proto(request.lines),
            mapping.commit_reason_from_proto(request.reason),
        )
        return pb.CommitReservationResponse(reservation=mapping.reservation_to_proto(reservation))

    async def ReleaseReservationLines(
        self, request: pb.ReleaseReservationLinesRequest, context: Context
    ) -> pb.ReleaseReservationLinesResponse:
        return await use_cases.release_reservation_lines(
            self.inventory,
            request.reservation_id,
            request.idempotency_key,
            mapping.lines_from_proto(request.lines),
            use_cases.ReservationReply(
                request,
                pb.ReleaseReservationLinesResponse,
                lambda reservation: pb.ReleaseReservationLinesResponse(
                    reservation=mapping.reservation_to_proto(reservation)
                ),
            ),
        )

    async def ConfirmReservation(
        self, request: pb.ConfirmReservationRequest, context: Context
    ) -> pb.ConfirmReservationResponse:
        reservation = await use_cases.confirm_reservation(self.inventory, request.reservation_id)
        return pb.ConfirmReservationResponse(reservation=mapping.reservation_to_proto(reservation))

    async def FindSources(
        self, request: pb.FindSourcesRequest, context: Context
    ) -> pb.FindSourcesResponse:
        sourcing, destination_given = mapping.sourcing_request_from_proto(request)
        options = await use_cases.find_sources(
            self.inventory, sourcing, destination_given=destination_given
        )
        return pb.FindSourcesResponse(
            options=[mapping.sourcing_option_to_proto(o) for o in options]
        )

    async def CheckInvariants(
        self, request: pb.CheckInvariantsRequest, context: Context
    ) -> pb.CheckInvariantsResponse:
        violations, rows_checked = await use_cases.check_invariants(
            self.inventory, list(request.skus)
        )
        return pb.CheckInvariantsResponse(
            violations=[mapping.violation_to_proto(v) for v in violations],
            rows_checked=rows_checked,
        )

    async def WatchAvailability(
        self, request: pb.WatchAvailabilityRequest, context: Context
    ) -> AsyncIterator[pb.WatchAvailabilityResponse]:
        changes = use_cases.watch_availability(
            self.inventory,
            list(request.skus),
            list(request.location_ids),
            Channel.from_proto(request.channel),
        )
        async for change in changes:
            yield mapping.availability_change_to_proto(change)
