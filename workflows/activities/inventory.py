"""Inventory activities: thin calls to omni.inventory.v1."""

from __future__ import annotations

from temporalio import activity

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.words import Channel, FulfillmentType, ReservationStatus, StockMovementReason
from workflows.activities.rpc import RPC_TIMEOUT_SECONDS, call
from workflows.contracts.activities import (
    AdjustStockInput,
    CommitReservationInput,
    ConfirmReservationInput,
    FindSourcesInput,
    FindSourcesResult,
    GetLocationInput,
    LocationInfo,
    ReleaseReservationInput,
    ReleaseReservationLinesInput,
    ReservationInfo,
    ReserveStockInput,
    SkuQty,
    SourceAllocationInfo,
    SourceOptionInfo,
    StockInfo,
)


def _lines(lines: list[SkuQty]) -> list[common_pb2.SkuQuantity]:
    return [common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity) for line in lines]


def _channel(word: str) -> common_pb2.Channel:
    """The order's channel on the wire; unspecified for "" (no channel)."""
    channel = Channel.parse(word)
    return channel.to_proto() if channel is not None else common_pb2.CHANNEL_UNSPECIFIED


def _fulfillment_type(word: str) -> common_pb2.FulfillmentType:
    """Unspecified for a word inventory does not know: it refuses, naming the field."""
    kind = FulfillmentType.parse(word)
    return kind.to_proto() if kind is not None else common_pb2.FULFILLMENT_TYPE_UNSPECIFIED


def _reason(word: str) -> inventory_pb2.StockMovementReason:
    reason = StockMovementReason.parse(word)
    return (
        reason.to_proto() if reason is not None else inventory_pb2.STOCK_MOVEMENT_REASON_UNSPECIFIED
    )


def _reservation(reservation: inventory_pb2.Reservation) -> ReservationInfo:
    return ReservationInfo(
        reservation_id=reservation.reservation_id,
        location_id=reservation.location_id,
        # The word ("active"); "" for a reservation that was never made.
        status=ReservationStatus.from_proto(reservation.status) or "",
    )


class InventoryActivities:
    def __init__(self, stub: inventory_pb2_grpc.InventoryServiceStub) -> None:
        self._stub = stub

    @activity.defn(name="inventory.reserve_stock")
    async def reserve_stock(self, request: ReserveStockInput) -> ReservationInfo:
        response = await call(
            self._stub.ReserveStock(
                inventory_pb2.ReserveStockRequest(
                    reservation_id=request.reservation_id,
                    order_id=request.order_id,
                    location_id=request.location_id,
                    lines=_lines(request.lines),
                    channel=_channel(request.channel),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _reservation(response.reservation)

    @activity.defn(name="inventory.release_reservation")
    async def release_reservation(self, request: ReleaseReservationInput) -> ReservationInfo:
        response = await call(
            self._stub.ReleaseReservation(
                inventory_pb2.ReleaseReservationRequest(reservation_id=request.reservation_id),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _reservation(response.reservation)

    @activity.defn(name="inventory.release_reservation_lines")
    async def release_reservation_lines(
        self, request: ReleaseReservationLinesInput
    ) -> ReservationInfo:
        """Gives back part of the hold (all lines or none, once per key)."""
        response = await call(
            self._stub.ReleaseReservationLines(
                inventory_pb2.ReleaseReservationLinesRequest(
                    reservation_id=request.reservation_id,
                    lines=_lines(request.lines),
                    idempotency_key=request.idempotency_key,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _reservation(response.reservation)

    @activity.defn(name="inventory.confirm_reservation")
    async def confirm_reservation(self, request: ConfirmReservationInput) -> ReservationInfo:
        """The placement hold is kept until released or committed; status
        "expired" when its time ran out first, "" when it was never made."""
        response = await call(
            self._stub.ConfirmReservation(
                inventory_pb2.ConfirmReservationRequest(reservation_id=request.reservation_id),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _reservation(response.reservation)

    @activity.defn(name="inventory.commit_reservation")
    async def commit_reservation(self, request: CommitReservationInput) -> ReservationInfo:
        response = await call(
            self._stub.CommitReservation(
                inventory_pb2.CommitReservationRequest(
                    reservation_id=request.reservation_id, lines=_lines(request.lines)
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return _reservation(response.reservation)

    @activity.defn(name="inventory.find_sources")
    async def find_sources(self, request: FindSourcesInput) -> FindSourcesResult:
        response = await call(
            self._stub.FindSources(
                inventory_pb2.FindSourcesRequest(
                    lines=_lines(request.lines),
                    destination=common_pb2.GeoPoint(lat=request.lat, lon=request.lon),
                    fulfillment_type=_fulfillment_type(request.fulfillment_type),
                    channel=_channel(request.channel),
                    max_locations=request.max_locations,
                    exclude_location_ids=request.exclude_location_ids,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return FindSourcesResult(
            location_ids=[
                option.allocations[0].location_id
                for option in response.options
                if option.allocations
            ],
            options=[
                SourceOptionInfo(
                    [
                        SourceAllocationInfo(
                            allocation.location_id,
                            [SkuQty(line.sku, line.quantity) for line in allocation.lines],
                        )
                        for allocation in option.allocations
                    ]
                )
                for option in response.options
                if option.allocations
            ],
        )

    @activity.defn(name="inventory.get_location")
    async def get_location(self, request: GetLocationInput) -> LocationInfo:
        response = await call(
            self._stub.GetLocation(
                inventory_pb2.GetLocationRequest(location_id=request.location_id),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        location = response.location
        return LocationInfo(
            location_id=location.location_id,
            name=location.name,
            pickup_window_hours=location.pickup_window_hours,
            lat=location.point.lat,
            lon=location.point.lon,
            pick_sla_minutes=location.pick_sla_minutes,
            curbside_sla_minutes=location.curbside_sla_minutes,
        )

    @activity.defn(name="inventory.adjust_stock")
    async def adjust_stock(self, request: AdjustStockInput) -> StockInfo:
        response = await call(
            self._stub.AdjustStock(
                inventory_pb2.AdjustStockRequest(
                    idempotency_key=request.idempotency_key,
                    location_id=request.location_id,
                    sku=request.sku,
                    delta=request.delta,
                    reason=_reason(request.reason),
                    actor=request.actor,
                    reference=request.reference,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        stock = response.stock
        return StockInfo(
            location_id=stock.location_id,
            sku=stock.sku,
            on_hand=stock.on_hand,
            available=stock.available,
        )
