"""Inventory as placement uses it: where a shipped order can come from, the
soft hold taken before the journey starts (workflows/contracts/journeys.
placement_hold_id, PLACEMENT_HOLD_TTL_SECONDS), and giving it back."""

from __future__ import annotations

import grpc

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.words import Channel, FulfillmentType, ReservationStatus
from services.orders.adapters.refusals import refusal_of
from services.orders.placement import Hold

INVENTORY_TIMEOUT_SECONDS = 10.0


def _lines(lines: list[tuple[str, int]]) -> list[common_pb2.SkuQuantity]:
    return [common_pb2.SkuQuantity(sku=sku, quantity=quantity) for sku, quantity in lines]


class InventoryStock:
    def __init__(
        self,
        stub: inventory_pb2_grpc.InventoryServiceStub,
        timeout_seconds: float = INVENTORY_TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def _find_sources(
        self,
        lines: list[tuple[str, int]],
        lat: float,
        lon: float,
        channel: Channel,
        max_locations: int,
    ) -> inventory_pb2.FindSourcesResponse:
        try:
            return await self._stub.FindSources(
                inventory_pb2.FindSourcesRequest(
                    lines=_lines(lines),
                    destination=common_pb2.GeoPoint(lat=lat, lon=lon),
                    fulfillment_type=FulfillmentType.SHIP.to_proto(),
                    channel=channel.to_proto(),
                    max_locations=max_locations,
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("inventory", error) from error

    async def sources(
        self, lines: list[tuple[str, int]], lat: float, lon: float, channel: Channel
    ) -> list[str]:
        """Locations that can ship every line, best first."""
        reply = await self._find_sources(lines, lat, lon, channel, max_locations=1)
        return [option.allocations[0].location_id for option in reply.options if option.allocations]

    async def split(
        self,
        lines: list[tuple[str, int]],
        lat: float,
        lon: float,
        channel: Channel,
        max_locations: int,
    ) -> list[tuple[str, list[tuple[str, int]]]]:
        """The fewest locations that together ship every line, nearest first,
        each with what it ships; [] when none can within `max_locations`."""
        reply = await self._find_sources(lines, lat, lon, channel, max_locations)
        for option in reply.options:
            if len(option.allocations) > 1:
                return [
                    (a.location_id, [(line.sku, line.quantity) for line in a.lines])
                    for a in option.allocations
                ]
        return []

    async def hold(
        self,
        reservation_id: str,
        order_id: str,
        location_id: str,
        lines: list[tuple[str, int]],
        channel: Channel,
        ttl_seconds: int,
    ) -> Hold:
        """Raises BusinessRuleViolation (INSUFFICIENT_STOCK, ...) or Unavailable."""
        try:
            reply = await self._stub.ReserveStock(
                inventory_pb2.ReserveStockRequest(
                    reservation_id=reservation_id,
                    order_id=order_id,
                    location_id=location_id,
                    lines=_lines(lines),
                    channel=channel.to_proto(),
                    ttl_seconds=ttl_seconds,
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("inventory", error) from error
        held = reply.reservation
        return Hold(
            held.reservation_id,
            held.location_id or location_id,
            ReservationStatus.from_proto(held.status),
        )

    async def release(self, reservation_id: str) -> None:
        """Gives the hold back (nothing when it was never made)."""
        try:
            await self._stub.ReleaseReservation(
                inventory_pb2.ReleaseReservationRequest(reservation_id=reservation_id),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("inventory", error) from error
