"""Proto <-> domain conversion for the orders service, and nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from services.common.errors import FieldViolation, InvalidArgument
from services.common.pan import looks_like_card_number
from services.orders.domain import (
    CatalogPrice,
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderRecord,
    PickedLine,
    RefundRecord,
    RequestedAddress,
    RequestedLine,
    RequestedTender,
    ReturnRecord,
    ReturnRequestLine,
    StoreTaskRecord,
)
from services.orders.domain import (
    OrderRequest as OrderRequestModel,
)

# ---------------------------------------------------------------- card numbers


def card_number_fields(message: Message, prefix: str = "") -> list[str]:
    """Paths of every string field (nested, repeated) that looks like a card number."""
    found: list[str] = []
    for descriptor, value in message.ListFields():
        path = f"{prefix}{descriptor.name}"
        repeated = descriptor.is_repeated
        if descriptor.type == FieldDescriptor.TYPE_STRING:
            values = list(value) if repeated else [value]
            for index, text in enumerate(values):
                if looks_like_card_number(text):
                    found.append(f"{path}[{index}]" if repeated else path)
        elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
            entry = descriptor.message_type
            if repeated and entry is not None and entry.GetOptions().map_entry:
                continue  # no maps in these requests; skip rather than guess keys
            if repeated:
                for index, item in enumerate(value):
                    found += card_number_fields(item, f"{path}[{index}].")
            elif not repeated:
                found += card_number_fields(value, f"{path}.")
    return found


def reject_card_numbers(message: Message) -> None:
    """InvalidArgument naming the fields; the values themselves are never echoed."""
    fields = card_number_fields(message)
    if fields:
        raise InvalidArgument(
            "card numbers are not accepted: " + ", ".join(fields),
            [FieldViolation(name, "looks like a card number; send a token") for name in fields],
        )


# ---------------------------------------------------------------- time and money


def timestamp(at: datetime | None) -> Timestamp:
    stamp = Timestamp()
    if at is not None:
        stamp.FromDatetime(at.astimezone(UTC))
    return stamp


def from_timestamp(stamp: Timestamp, default: datetime) -> datetime:
    if stamp.seconds == 0 and stamp.nanos == 0:
        return default
    return stamp.ToDatetime(tzinfo=UTC)


def money(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


# ---------------------------------------------------------------- requests -> domain


def order_request(request: orders_pb2.PlaceOrderRequest) -> OrderRequestModel:
    fulfillment = request.fulfillment
    address = None
    if fulfillment.HasField("address"):
        a = fulfillment.address
        address = RequestedAddress(
            line1=a.line1,
            city=a.city,
            postal_code=a.postal_code,
            country=a.country,
            lat=a.point.lat,
            lon=a.point.lon,
        )
    tenders = [
        RequestedTender(type=t.type, token=t.token, code=t.code, amount_minor=t.amount_minor)
        for t in request.tenders
    ]
    return OrderRequestModel(
        customer_id=request.customer_id,
        channel=request.channel,
        lines=[RequestedLine(line.sku, line.quantity) for line in request.lines],
        fulfillment_type=fulfillment.type,
        location_id=fulfillment.location_id,
        address=address,
        tenders=tenders,
        associate_id=request.associate_id,
        store_id=request.store_id,
        referral_associate_id=request.referral_associate_id,
    )


def catalog_price(product: inventory_pb2.Product) -> CatalogPrice:
    return CatalogPrice(
        sku=product.sku,
        price_minor=product.price.amount_minor,
        currency=product.price.currency,
        returnable_days=product.returnable_days,
    )


def picked_lines(request: orders_pb2.PickFulfillmentRequest) -> list[PickedLine]:
    return [PickedLine(line.sku, line.quantity) for line in request.lines]


def return_lines(lines: list[orders_pb2.ReturnLine]) -> list[ReturnRequestLine]:
    return [ReturnRequestLine(line.sku, line.quantity, line.condition) for line in lines]


def progress_event(event: orders_pb2.OrderEvent, now: datetime) -> Event | None:
    if not event.type:
        return None
    return Event(at=from_timestamp(event.at, now), type=event.type, detail=event.detail)


def fulfillment_record(
    fulfillment: orders_pb2.Fulfillment, order: OrderRecord, now: datetime
) -> FulfillmentRecord:
    return FulfillmentRecord(
        fulfillment_id=fulfillment.fulfillment_id,
        order_id=order.order_id,
        type=fulfillment.type or order.fulfillment_type,
        location_id=fulfillment.location_id,
        status=fulfillment.status,
        lines=[
            FulfillmentLineRecord(line.sku, line.quantity, line.quantity_picked)
            for line in fulfillment.lines
        ],
        pickup_code=fulfillment.pickup_code,
        carrier=fulfillment.tracking.carrier,
        tracking_number=fulfillment.tracking.tracking_number,
        updated_at=now,
    )


def refund_records(refunds: list[orders_pb2.Refund], currency: str) -> list[RefundRecord]:
    return [
        RefundRecord(
            payment_id=r.payment_id,
            tender_type=r.tender_type,
            amount_minor=r.amount.amount_minor,
            currency=r.amount.currency or currency,
            status=r.status,
        )
        for r in refunds
    ]


# ---------------------------------------------------------------- domain -> protos


def _event(event: Event) -> orders_pb2.OrderEvent:
    return orders_pb2.OrderEvent(at=timestamp(event.at), type=event.type, detail=event.detail)


def _fulfillment_lines(lines: list[FulfillmentLineRecord]) -> list[orders_pb2.FulfillmentLine]:
    return [
        orders_pb2.FulfillmentLine(
            sku=line.sku, quantity=line.quantity, quantity_picked=line.quantity_picked
        )
        for line in lines
    ]


def fulfillment_proto(fulfillment: FulfillmentRecord) -> orders_pb2.Fulfillment:
    proto = orders_pb2.Fulfillment(
        fulfillment_id=fulfillment.fulfillment_id,
        order_id=fulfillment.order_id,
        type=fulfillment.type,
        location_id=fulfillment.location_id,
        status=fulfillment.status,
        lines=_fulfillment_lines(fulfillment.lines),
        pickup_code=fulfillment.pickup_code,
        updated_at=timestamp(fulfillment.updated_at),
        arrival_note=fulfillment.arrival_note,
    )
    if fulfillment.arrived_at is not None:
        proto.arrived_at.CopyFrom(timestamp(fulfillment.arrived_at))
    if fulfillment.carrier or fulfillment.tracking_number:
        proto.tracking.CopyFrom(
            orders_pb2.Tracking(
                carrier=fulfillment.carrier, tracking_number=fulfillment.tracking_number
            )
        )
    return proto


def order_proto(order: OrderRecord) -> orders_pb2.Order:
    request = orders_pb2.FulfillmentRequest(
        type=order.fulfillment_type, location_id=order.location_id
    )
    if order.address is not None:
        a = order.address
        request.address.CopyFrom(
            common_pb2.Address(
                line1=a.line1,
                city=a.city,
                postal_code=a.postal_code,
                country=a.country,
                point=common_pb2.GeoPoint(lat=a.lat, lon=a.lon),
            )
        )
    return orders_pb2.Order(
        order_id=order.order_id,
        customer_id=order.customer_id,
        channel=order.channel,
        status=order.status,
        lines=[
            orders_pb2.OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(line.unit_price_minor, order.currency),
                returnable_days=line.returnable_days,
                returned_quantity=line.returned_quantity,
            )
            for line in order.lines
        ],
        fulfillment_request=request,
        fulfillments=[fulfillment_proto(f) for f in order.fulfillments],
        events=[_event(e) for e in order.events],
        workflow_id=order.workflow_id,
        total=money(order.total_minor, order.currency),
        associate_id=order.associate_id,
        store_id=order.store_id,
        referral_associate_id=order.referral_associate_id,
        created_at=timestamp(order.created_at),
    )


def return_proto(record: ReturnRecord) -> orders_pb2.Return:
    return orders_pb2.Return(
        return_id=record.return_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        status=record.status,
        method=record.method,
        location_id=record.location_id,
        lines=[
            orders_pb2.ReturnLine(sku=line.sku, quantity=line.quantity, condition=line.condition)
            for line in record.lines
        ],
        refund=money(record.refund_minor, record.currency),
        refunds=[
            orders_pb2.Refund(
                payment_id=r.payment_id,
                tender_type=r.tender_type,
                amount=money(r.amount_minor, r.currency),
                status=r.status,
            )
            for r in record.refunds
        ],
        events=[_event(e) for e in record.events],
        workflow_id=record.workflow_id,
        channel=record.channel,
        created_at=timestamp(record.created_at),
        refund_method=record.refund_method,
    )


def store_task_proto(task: StoreTaskRecord) -> orders_pb2.StoreTask:
    is_return = task.type == "return"
    proto = orders_pb2.StoreTask(
        type=task.type,
        fulfillment_id="" if is_return else task.task_id,
        return_id=task.task_id if is_return else "",
        order_id=task.order_id,
        status=task.status,
        lines=_fulfillment_lines(task.lines),
        since=timestamp(task.since),
        arrival_note=task.arrival_note,
    )
    if task.arrived_at is not None:
        proto.arrived_at.CopyFrom(timestamp(task.arrived_at))
    return proto
