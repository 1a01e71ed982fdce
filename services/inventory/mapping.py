"""Proto <-> domain conversion for the inventory service."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from google.protobuf.message import Message

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import Channel, FulfillmentType, LocationKind, StockMovementReason
from services.common.errors import InvalidArgument
from services.common.identity import actor_of
from services.common.money import Money
from services.common.timestamps import to_timestamp
from services.inventory import domain


def point_from_proto(message: Message, field_name: str) -> domain.GeoPoint | None:
    """None when the point field is unset."""
    if not message.HasField(field_name):
        return None
    point: common_pb2.GeoPoint = getattr(message, field_name)
    return domain.GeoPoint(point.lat, point.lon)


def point_to_proto(point: domain.GeoPoint) -> common_pb2.GeoPoint:
    return common_pb2.GeoPoint(lat=point.lat, lon=point.lon)


def lines_from_proto(lines: Iterable[common_pb2.SkuQuantity]) -> tuple[domain.Line, ...]:
    return tuple(domain.Line(line.sku, line.quantity) for line in lines)


def commit_reason_from_proto(reason: int) -> StockMovementReason | None:
    """A commit's ledger reason: unspecified is commit; None for a number no
    reason has (the use case refuses it, as it refuses any reason but pos_sale)."""
    if reason == 0:
        return StockMovementReason.COMMIT
    return StockMovementReason.from_proto(reason)


def lines_to_proto(lines: Iterable[domain.Line]) -> list[common_pb2.SkuQuantity]:
    return [common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity) for line in lines]


def location_from_proto(message: pb.Location) -> tuple[domain.Location, bool]:
    """The location, and whether its point was given at all."""
    point = point_from_proto(message, "point")
    location = domain.Location(
        location_id=message.location_id,
        name=message.name,
        kind=LocationKind.from_proto(message.kind),
        point=point or domain.GeoPoint(0.0, 0.0),
        pickup_enabled=message.pickup_enabled,
        ship_from_enabled=message.ship_from_enabled,
        daily_order_capacity=message.daily_order_capacity,
        pickup_window_hours=message.pickup_window_hours,
        pick_sla_minutes=message.pick_sla_minutes,
        tax_region=message.tax_region,
        timezone=message.timezone,
        curbside_sla_minutes=message.curbside_sla_minutes,
    )
    return location, point is not None


def location_to_proto(location: domain.Location) -> pb.Location:
    message = pb.Location(
        location_id=location.location_id,
        name=location.name,
        point=point_to_proto(location.point),
        pickup_enabled=location.pickup_enabled,
        ship_from_enabled=location.ship_from_enabled,
        daily_order_capacity=location.daily_order_capacity,
        pickup_window_hours=location.pickup_window_hours,
        pick_sla_minutes=location.pick_sla_minutes,
        tax_region=location.tax_region,
        timezone=location.timezone,
        curbside_sla_minutes=location.curbside_sla_minutes,
    )
    if location.kind is not None:
        message.kind = location.kind.to_proto()
    return message


def location_changes_from_proto(request: pb.UpdateLocationRequest) -> domain.LocationChanges:
    """Unset fields (kind UNSPECIFIED, no point) are None: left as they are."""

    def given(name: str) -> object:
        return getattr(request, name) if request.HasField(name) else None

    kind = LocationKind.from_proto(request.kind) if request.kind else None
    if request.kind and kind is None:
        # A number no kind has is a wrong field, not "leave it as it is".
        raise InvalidArgument.field("location.kind", "must be one of: " + ", ".join(LocationKind))
    return domain.LocationChanges(
        name=given("name"),  # type: ignore[arg-type]
        kind=kind,
        point=point_from_proto(request, "point"),
        pickup_enabled=given("pickup_enabled"),  # type: ignore[arg-type]
        ship_from_enabled=given("ship_from_enabled"),  # type: ignore[arg-type]
        daily_order_capacity=given("daily_order_capacity"),  # type: ignore[arg-type]
        pickup_window_hours=given("pickup_window_hours"),  # type: ignore[arg-type]
        pick_sla_minutes=given("pick_sla_minutes"),  # type: ignore[arg-type]
        tax_region=given("tax_region"),  # type: ignore[arg-type]
        timezone=given("timezone"),  # type: ignore[arg-type]
        curbside_sla_minutes=given("curbside_sla_minutes"),  # type: ignore[arg-type]
    )


def locations_to_proto(
    page: Iterable[domain.LocationWithDistance],
) -> list[pb.LocationWithDistance]:
    return [
        pb.LocationWithDistance(
            location=location_to_proto(item.location), distance_km=item.distance_km
        )
        for item in page
    ]


def product_from_proto(message: pb.Product) -> domain.Product:
    return domain.Product(
        sku=message.sku,
        name=message.name,
        price=Money(message.price.amount_minor, message.price.currency),
        returnable_days=message.returnable_days,
    )


def money_from_proto(message: common_pb2.Money) -> Money:
    return Money(message.amount_minor, message.currency)


def money_to_proto(money: Money) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=money.amount_minor, currency=money.currency)


def product_to_proto(product: domain.Product) -> pb.Product:
    message = pb.Product(
        sku=product.sku,
        name=product.name,
        price=money_to_proto(product.price),
        returnable_days=product.returnable_days,
        inactive=not product.active,
    )
    for channel, price in product.channel_prices.items():
        message.channel_prices[channel].CopyFrom(money_to_proto(price))
    return message


def product_changes_from_proto(request: pb.UpdateProductRequest) -> domain.ProductChanges:
    return domain.ProductChanges(
        name=request.name if request.HasField("name") else None,
        price=money_from_proto(request.price) if request.HasField("price") else None,
        returnable_days=request.returnable_days if request.HasField("returnable_days") else None,
        active=request.active if request.HasField("active") else None,
    )


def adjustment_from_proto(request: pb.AdjustStockRequest) -> domain.Adjustment:
    return domain.Adjustment(
        idempotency_key=request.idempotency_key,
        location_id=request.location_id,
        sku=request.sku,
        delta=request.delta,
        reason=StockMovementReason.from_proto(request.reason),
        actor=actor_of(request.actor),
        reference=request.reference,
    )


def safety_stock_from_proto(request: pb.SetSafetyStockRequest) -> domain.SafetyStock:
    return domain.SafetyStock(
        location_id=request.location_id,
        sku=request.sku,
        channel=Channel.from_proto(request.channel),
        quantity=request.quantity,
    )


def stock_to_proto(level: domain.StockLevel) -> pb.StockRecord:
    return pb.StockRecord(
        location_id=level.location_id,
        sku=level.sku,
        on_hand=level.on_hand,
        reserved=level.reserved,
        available=level.available,
        safety_stock={str(channel): quantity for channel, quantity in level.safety_stock.items()},
    )


def adjust_stock_response(level: domain.StockLevel) -> pb.AdjustStockResponse:
    return pb.AdjustStockResponse(stock=stock_to_proto(level))


def availability_query_from_proto(request: pb.GetAvailabilityRequest) -> domain.AvailabilityQuery:
    return domain.AvailabilityQuery(
        skus=tuple(request.skus),
        near=point_from_proto(request, "near"),
        radius_km=request.radius_km,
        channel=Channel.from_proto(request.channel),
    )


def availability_to_proto(items: Sequence[domain.SkuAvailability]) -> pb.GetAvailabilityResponse:
    """Built in place (`add`): half the cost of nested constructors on the
    hottest read, 100 entries for 10 skus at 10 stores."""
    reply = pb.GetAvailabilityResponse()
    for item in items:
        add = reply.items.add(sku=item.sku, online_available=item.online_available).locations.add
        for location in item.locations:
            add(
                location_id=location.location_id,
                distance_km=location.distance_km,
                available=location.available,
                pickup_enabled=location.pickup_enabled,
            )
    return reply


def reservation_request_from_proto(request: pb.ReserveStockRequest) -> domain.ReservationRequest:
    return domain.ReservationRequest(
        reservation_id=request.reservation_id,
        order_id=request.order_id,
        location_id=request.location_id,
        lines=lines_from_proto(request.lines),
        channel=Channel.from_proto(request.channel),
        ttl_seconds=request.ttl_seconds,
    )


def reservation_to_proto(reservation: domain.Reservation | None) -> pb.Reservation:
    """An empty message for a reservation that was never made."""
    if reservation is None:
        return pb.Reservation()
    message = pb.Reservation(
        reservation_id=reservation.reservation_id,
        order_id=reservation.order_id,
        location_id=reservation.location_id,
        lines=lines_to_proto(reservation.lines),
        status=reservation.status.to_proto(),
    )
    if reservation.expires_at is not None:
        message.expires_at.CopyFrom(to_timestamp(reservation.expires_at))
    return message


def sourcing_request_from_proto(
    request: pb.FindSourcesRequest,
) -> tuple[domain.SourcingRequest, bool]:
    """The request, and whether its destination was given at all."""
    destination = point_from_proto(request, "destination")
    sourcing = domain.SourcingRequest(
        lines=lines_from_proto(request.lines),
        destination=destination or domain.GeoPoint(0.0, 0.0),
        fulfillment_type=FulfillmentType.from_proto(request.fulfillment_type),
        channel=Channel.from_proto(request.channel),
        exclude_location_ids=frozenset(request.exclude_location_ids),
        max_locations=request.max_locations,
    )
    return sourcing, destination is not None


def sourcing_option_to_proto(option: domain.SourcingOption) -> pb.SourcingOption:
    return pb.SourcingOption(
        allocations=[
            pb.SourceAllocation(
                location_id=allocation.location_id,
                distance_km=allocation.distance_km,
                lines=lines_to_proto(allocation.lines),
            )
            for allocation in option.allocations
        ]
    )


def violation_to_proto(violation: domain.InvariantViolation) -> pb.InvariantViolation:
    return pb.InvariantViolation(
        location_id=violation.location_id,
        sku=violation.sku,
        rule=violation.rule,
        actual=violation.actual,
        expected=violation.expected,
    )


def availability_change_to_proto(
    change: domain.AvailabilityChange,
) -> pb.WatchAvailabilityResponse:
    """`at` is when the value was read."""
    return pb.WatchAvailabilityResponse(
        sku=change.sku,
        location_id=change.location_id,
        available=change.available,
        at=to_timestamp(datetime.now(UTC)),
        current=change.current,
    )
