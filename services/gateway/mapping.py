"""Proto messages → the JSON shapes of API.md (snake_case, Money objects,
ISO-8601 UTC timestamps)."""

from __future__ import annotations

from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2
from omni.words import (
    ActivityKind,
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    IdentityKind,
    ItemCondition,
    LocationKind,
    OrderStatus,
    RefundMethod,
    RefundStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
    Word,
)


def money(value: common_pb2.Money) -> dict[str, Any]:
    return {"amount_minor": value.amount_minor, "currency": value.currency}


def timestamp(value: Timestamp) -> str | None:
    if value.seconds == 0 and value.nanos == 0:
        return None
    return value.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def word(kind: type[Word], number: int) -> str:
    """The REST word of a proto enum value ("" when unset)."""
    found = kind.from_proto(number)
    return found.value if found is not None else ""


def _money_if(message: Any, name: str) -> dict[str, Any] | None:
    return money(getattr(message, name)) if message.HasField(name) else None


def location(value: Any, distance_km: float | None = None) -> dict[str, Any]:
    out = {
        "location_id": value.location_id,
        "name": value.name,
        "kind": word(LocationKind, value.kind),
        "lat": value.point.lat,
        "lon": value.point.lon,
        "pickup_enabled": value.pickup_enabled,
        "ship_from_enabled": value.ship_from_enabled,
        "daily_order_capacity": value.daily_order_capacity,
        "pickup_window_hours": value.pickup_window_hours,
        "pick_sla_minutes": value.pick_sla_minutes,
    }
    if distance_km is not None:
        out["distance_km"] = round(distance_km, 3)
    return out


def product(value: Any) -> dict[str, Any]:
    return {
        "sku": value.sku,
        "name": value.name,
        "price": money(value.price),
        "returnable_days": value.returnable_days,
    }


def stock(value: Any) -> dict[str, Any]:
    return {
        "location_id": value.location_id,
        "sku": value.sku,
        "on_hand": value.on_hand,
        "reserved": value.reserved,
        "available": value.available,
        "safety_stock": dict(value.safety_stock),
    }


def availability(value: Any) -> dict[str, Any]:
    return {
        "items": [
            {
                "sku": item.sku,
                "online_available": item.online_available,
                "locations": [
                    {
                        "location_id": entry.location_id,
                        "distance_km": round(entry.distance_km, 3),
                        "available": max(entry.available, 0),
                        "pickup_enabled": entry.pickup_enabled,
                    }
                    for entry in item.locations
                ],
            }
            for item in value.items
        ]
    }


def customer(value: Any) -> dict[str, Any]:
    return {
        "customer_id": value.customer_id,
        "name": value.name,
        "email": value.email,
        "phone": value.phone,
        "identities": [
            {"kind": word(IdentityKind, i.kind), "value": i.value} for i in value.identities
        ],
        "loyalty_points": value.loyalty_points,
        "created_at": timestamp(value.created_at),
    }


def activity(value: Any) -> dict[str, Any]:
    is_return = ActivityKind.from_proto(value.kind) is ActivityKind.RETURN
    return {
        "kind": word(ActivityKind, value.kind),
        "reference_id": value.reference_id,
        "order_id": value.order_id if is_return else value.reference_id,
        "return_id": value.reference_id if is_return else None,
        "channel": word(Channel, value.channel),
        "status": value.status,
        "occurred_at": timestamp(value.occurred_at),
    }


def fulfillment_lines(lines: Any) -> list[dict[str, Any]]:
    return [
        {"sku": line.sku, "quantity": line.quantity, "quantity_picked": line.quantity_picked}
        for line in lines
    ]


def fulfillment(value: Any, *, show_pickup_code: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fulfillment_id": value.fulfillment_id,
        "order_id": value.order_id,
        "type": word(FulfillmentType, value.type),
        "location_id": value.location_id,
        "status": word(FulfillmentStatus, value.status),
        "lines": fulfillment_lines(value.lines),
        "tracking": (
            {"carrier": value.tracking.carrier, "tracking_number": value.tracking.tracking_number}
            if value.HasField("tracking") and value.tracking.tracking_number
            else None
        ),
        "updated_at": timestamp(value.updated_at),
    }
    if show_pickup_code and value.pickup_code:
        out["pickup_code"] = value.pickup_code
    out.update(arrival(value))
    return out


def arrival(value: Any) -> dict[str, Any]:
    """Curbside: `arrived_at` and `arrival_note`, only once the customer arrived."""
    if not value.HasField("arrived_at"):
        return {}
    return {"arrived_at": timestamp(value.arrived_at), "arrival_note": value.arrival_note}


def event(value: Any) -> dict[str, Any]:
    return {"at": timestamp(value.at), "type": value.type, "detail": value.detail}


def payment(value: Any) -> dict[str, Any]:
    return {
        "payment_id": value.payment_id,
        "tender_type": value.tender_type,
        "status": value.status,
        "authorized": _money_if(value, "authorized"),
        "captured": _money_if(value, "captured"),
        "refunded": _money_if(value, "refunded"),
        "released": _money_if(value, "released"),
        "card_brand": value.card_brand or None,
        "card_last4": value.card_last4 or None,
    }


def order(value: Any, payments: list[Any], *, show_pickup_code: bool) -> dict[str, Any]:
    return {
        "order_id": value.order_id,
        "customer_id": value.customer_id,
        "channel": word(Channel, value.channel),
        "status": word(OrderStatus, value.status),
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "unit_price": _money_if(line, "unit_price"),
                "returnable_days": line.returnable_days,
                "returned_quantity": line.returned_quantity,
            }
            for line in value.lines
        ],
        "fulfillments": [
            fulfillment(f, show_pickup_code=show_pickup_code) for f in value.fulfillments
        ],
        "payments": [payment(p) for p in payments],
        "events": [event(e) for e in value.events],
        "workflow_id": value.workflow_id or f"order-{value.order_id}",
        "total": _money_if(value, "total"),
        "associate_id": value.associate_id or None,
        "store_id": value.store_id or None,
        "referral_associate_id": value.referral_associate_id or None,
        "created_at": timestamp(value.created_at),
    }


def task(value: Any) -> dict[str, Any]:
    return {
        "type": word(TaskType, value.type),
        "fulfillment_id": value.fulfillment_id or None,
        "return_id": value.return_id or None,
        "order_id": value.order_id,
        "status": word(FulfillmentStatus, value.fulfillment_status)
        or word(ReturnStatus, value.return_status),
        "lines": fulfillment_lines(value.lines),
        "since": timestamp(value.since),
        **arrival(value),
    }


def return_(value: Any) -> dict[str, Any]:
    return {
        "return_id": value.return_id,
        "order_id": value.order_id,
        "customer_id": value.customer_id,
        "status": word(ReturnStatus, value.status),
        "method": word(ReturnMethod, value.method),
        "location_id": value.location_id or None,
        "lines": [
            {
                "sku": line.sku,
                "quantity": line.quantity,
                "condition": word(ItemCondition, line.condition),
            }
            for line in value.lines
        ],
        "refund": _money_if(value, "refund"),
        "refunds": [
            {
                "payment_id": r.payment_id or None,
                "tender_type": word(TenderType, r.tender_type),
                "amount": _money_if(r, "amount"),
                "status": word(RefundStatus, r.status),
            }
            for r in value.refunds
        ],
        "events": [event(e) for e in value.events],
        "workflow_id": value.workflow_id,
        "channel": word(Channel, value.channel),
        "created_at": timestamp(value.created_at),
        "refund_method": word(RefundMethod, value.refund_method) or RefundMethod.ORIGINAL,
    }


def provider_operation(value: Any) -> dict[str, Any]:
    return {
        "operation": value.operation,
        "amount": _money_if(value, "amount"),
        "outcome": value.outcome,
        "at": timestamp(value.at),
    }
