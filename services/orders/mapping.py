"""Proto <-> domain conversion for the orders service, and nothing else.

Enum fields cross as omni.words members: an unset field (0) is None; a number
this build does not know is None too where the domain names the field, and
refused here where the field is optional (so "unset" and "unknown" differ).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from omni.common.v1 import common_pb2
from omni.orders.v1 import orders_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    RefundMethod,
    RefundStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
    Word,
)
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.common.timestamps import from_timestamp, to_timestamp
from services.orders.domain.placing import OrderRequest, RequestedLine, RequestedTender
from services.orders.domain.progress import FulfillmentProgress, OrderProgress, ReturnProgress
from services.orders.domain.records import (
    Address,
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    StoreTaskRecord,
)
from services.orders.domain.returns import ReturnRequest, ReturnRequestLine
from services.orders.domain.store_work import PickedLine

W = TypeVar("W", bound=Word)


def optional_word(kind: type[W], number: int, field: str) -> W | None:
    """None for an unset field; InvalidArgument naming `field` for a number `kind` lacks."""
    if number == 0:
        return None
    word = kind.from_proto(number)
    if word is None:
        raise InvalidArgument.field(field, "must be one of " + ", ".join(kind))
    return word


def money(value: Money) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=value.amount_minor, currency=value.currency)


# ---------------------------------------------------------------- requests -> domain


def order_request(request: orders_pb2.PlaceOrderRequest) -> OrderRequest:
    fulfillment = request.fulfillment
    address = None
    if fulfillment.HasField("address"):
        a = fulfillment.address
        address = Address(a.line1, a.city, a.postal_code, a.country, a.point.lat, a.point.lon)
    return OrderRequest(
        customer_id=request.customer_id,
        channel=Channel.from_proto(request.channel),
        lines=[RequestedLine(line.sku, line.quantity) for line in request.lines],
        fulfillment_type=FulfillmentType.from_proto(fulfillment.type),
        location_id=fulfillment.location_id,
        address=address,
        tenders=[
            RequestedTender(
                type=TenderType.from_proto(t.type) or "",
                token=t.token,
                code=t.code,
                amount_minor=t.amount_minor,
            )
            for t in request.tenders
        ],
        associate_id=request.associate_id,
        store_id=request.store_id,
        referral_associate_id=request.referral_associate_id,
    )


def picked_lines(request: orders_pb2.PickFulfillmentRequest) -> list[PickedLine]:
    return [PickedLine(line.sku, line.quantity) for line in request.lines]


def return_lines(lines: list[orders_pb2.ReturnLine]) -> list[ReturnRequestLine]:
    return [
        ReturnRequestLine(line.sku, line.quantity, ItemCondition.from_proto(line.condition))
        for line in lines
    ]


def return_request(request: orders_pb2.CreateReturnRequest) -> ReturnRequest:
    return ReturnRequest(
        order_id=request.order_id,
        lines=return_lines(list(request.lines)),
        method=ReturnMethod.from_proto(request.method),
        location_id=request.location_id,
        channel=optional_word(Channel, request.channel, "channel"),
        refund_method=optional_word(RefundMethod, request.refund_method, "refund_method"),
    )


def task_type(request: orders_pb2.ListStoreTasksRequest) -> TaskType | None:
    return optional_word(TaskType, request.type, "type")


def _event(event: orders_pb2.OrderEvent, now: datetime) -> Event | None:
    if not event.type:
        return None
    return Event(at=from_timestamp(event.at) or now, type=event.type, detail=event.detail)


def order_progress(request: orders_pb2.RecordOrderProgressRequest, now: datetime) -> OrderProgress:
    return OrderProgress(
        event_id=request.event_id,
        order_id=request.order_id,
        status=optional_word(OrderStatus, request.status, "status"),
        fulfillments=[
            FulfillmentProgress(
                fulfillment_id=f.fulfillment_id,
                type=optional_word(FulfillmentType, f.type, f"fulfillments[{index}].type"),
                location_id=f.location_id,
                status=optional_word(FulfillmentStatus, f.status, f"fulfillments[{index}].status"),
                lines=[
                    FulfillmentLineRecord(line.sku, line.quantity, line.quantity_picked)
                    for line in f.lines
                ],
                pickup_code=f.pickup_code,
                carrier=f.tracking.carrier,
                tracking_number=f.tracking.tracking_number,
            )
            for index, f in enumerate(request.fulfillments)
        ],
        event=_event(request.event, now),
    )


def return_progress(
    request: orders_pb2.RecordReturnProgressRequest, now: datetime
) -> ReturnProgress:
    return ReturnProgress(
        event_id=request.event_id,
        return_id=request.return_id,
        status=optional_word(ReturnStatus, request.status, "status"),
        refunds=[
            RefundRecord(
                payment_id=r.payment_id,
                tender_type=optional_word(
                    TenderType, r.tender_type, f"refunds[{index}].tender_type"
                ),
                # A refund that does not say its currency is in the return's.
                amount=Money(r.amount.amount_minor, r.amount.currency),
                status=optional_word(RefundStatus, r.status, f"refunds[{index}].status"),
            )
            for index, r in enumerate(request.refunds)
        ],
        event=_event(request.event, now),
    )


# ---------------------------------------------------------------- domain -> protos


def _event_proto(event: Event) -> orders_pb2.OrderEvent:
    return orders_pb2.OrderEvent(at=to_timestamp(event.at), type=event.type, detail=event.detail)


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
        type=fulfillment.type.to_proto(),
        location_id=fulfillment.location_id,
        status=fulfillment.status.to_proto(),
        lines=_fulfillment_lines(fulfillment.lines),
        pickup_code=fulfillment.pickup_code,
        updated_at=to_timestamp(fulfillment.updated_at),
        arrival_note=fulfillment.arrival_note,
    )
    if fulfillment.arrived_at is not None:
        proto.arrived_at.CopyFrom(to_timestamp(fulfillment.arrived_at))
    if fulfillment.carrier or fulfillment.tracking_number:
        proto.tracking.CopyFrom(
            orders_pb2.Tracking(
                carrier=fulfillment.carrier, tracking_number=fulfillment.tracking_number
            )
        )
    return proto


def order_proto(order: OrderRecord) -> orders_pb2.Order:
    request = orders_pb2.FulfillmentRequest(
        type=order.fulfillment_type.to_proto(), location_id=order.location_id
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
    currency = order.total.currency
    return orders_pb2.Order(
        order_id=order.order_id,
        customer_id=order.customer_id,
        channel=order.channel.to_proto(),
        status=order.status.to_proto(),
        lines=[
            orders_pb2.OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(Money(line.unit_price_minor, currency)),
                returnable_days=line.returnable_days,
                returned_quantity=line.returned_quantity,
            )
            for line in order.lines
        ],
        fulfillment_request=request,
        fulfillments=[fulfillment_proto(f) for f in order.fulfillments],
        events=[_event_proto(e) for e in order.events],
        workflow_id=order.workflow_id,
        total=money(order.total),
        associate_id=order.associate_id,
        store_id=order.store_id,
        referral_associate_id=order.referral_associate_id,
        created_at=to_timestamp(order.created_at),
    )


def return_proto(record: ReturnRecord) -> orders_pb2.Return:
    return orders_pb2.Return(
        return_id=record.return_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        status=record.status.to_proto(),
        method=record.method.to_proto(),
        location_id=record.location_id,
        lines=[
            orders_pb2.ReturnLine(
                sku=line.sku, quantity=line.quantity, condition=line.condition.to_proto()
            )
            for line in record.lines
        ],
        refund=money(record.refund),
        refunds=[
            orders_pb2.Refund(
                payment_id=r.payment_id,
                tender_type=r.tender_type.to_proto() if r.tender_type is not None else None,
                amount=money(r.amount),
                status=r.status.to_proto() if r.status is not None else None,
            )
            for r in record.refunds
        ],
        events=[_event_proto(e) for e in record.events],
        workflow_id=record.workflow_id,
        channel=record.channel.to_proto(),
        created_at=to_timestamp(record.created_at),
        refund_method=record.refund_method.to_proto(),
    )


def store_task_proto(task: StoreTaskRecord) -> orders_pb2.StoreTask:
    proto = orders_pb2.StoreTask(
        type=task.type.to_proto(),
        order_id=task.order_id,
        lines=_fulfillment_lines(task.lines),
        since=to_timestamp(task.since),
        arrival_note=task.arrival_note,
    )
    if isinstance(task.status, ReturnStatus):
        proto.return_id = task.task_id
        proto.return_status = task.status.to_proto()
    else:
        proto.fulfillment_id = task.task_id
        proto.fulfillment_status = task.status.to_proto()
    if task.arrived_at is not None:
        proto.arrived_at.CopyFrom(to_timestamp(task.arrived_at))
    return proto
