"""Order activities: the journeys write their progress to omni.orders.v1."""

from __future__ import annotations

from typing import Any

from temporalio import activity

from omni.common.v1 import common_pb2
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.payments.v1 import payments_pb2
from omni.words import (
    FulfillmentStatus,
    FulfillmentType,
    OrderStatus,
    RefundStatus,
    ReturnStatus,
    TenderType,
)
from workflows.activities.rpc import RPC_TIMEOUT_SECONDS, call
from workflows.contracts.activities import (
    ExchangePlaced,
    FulfillmentRecord,
    OrderProgress,
    PlaceExchangeInput,
    ReturnProgress,
)


def _fulfillment(order_id: str, record: FulfillmentRecord) -> orders_pb2.Fulfillment:
    fulfillment = orders_pb2.Fulfillment(
        fulfillment_id=record.fulfillment_id,
        order_id=order_id,
        # A word the enum lacks goes unset: the orders service names the field.
        type=_wire(FulfillmentType.parse(record.type)),
        location_id=record.location_id,
        status=_wire(FulfillmentStatus.parse(record.status)),
        lines=[
            orders_pb2.FulfillmentLine(
                sku=line.sku, quantity=line.quantity, quantity_picked=line.quantity_picked
            )
            for line in record.lines
        ],
        pickup_code=record.pickup_code,
        overdue=record.overdue,
    )
    if record.carrier or record.tracking_number:
        fulfillment.tracking.CopyFrom(
            orders_pb2.Tracking(carrier=record.carrier, tracking_number=record.tracking_number)
        )
    return fulfillment


def _wire(word: Any) -> Any:
    """The wire number of a word of omni.words; None (unset) for no word."""
    return None if word is None else word.to_proto()


def _event(event_type: str, detail: str) -> orders_pb2.OrderEvent | None:
    if not event_type:
        return None
    return orders_pb2.OrderEvent(type=event_type, detail=detail)


class OrderActivities:
    def __init__(self, stub: orders_pb2_grpc.OrdersServiceStub) -> None:
        self._stub = stub

    @activity.defn(name="orders.record_order_progress")
    async def record_order_progress(self, progress: OrderProgress) -> str:
        """Returns the order's status after the change."""
        response = await call(
            self._stub.RecordOrderProgress(
                orders_pb2.RecordOrderProgressRequest(
                    event_id=progress.event_id,
                    order_id=progress.order_id,
                    status=_wire(OrderStatus.parse(progress.status)),
                    fulfillments=[
                        _fulfillment(progress.order_id, f) for f in progress.fulfillments
                    ],
                    event=_event(progress.event_type, progress.event_detail),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return OrderStatus.from_proto(response.order.status) or ""

    @activity.defn(name="orders.place_exchange")
    async def place_exchange(self, request: PlaceExchangeInput) -> ExchangePlaced:
        """An exchange's replacement order placed (a repeat finds it placed)."""
        response = await call(
            self._stub.PlaceExchange(
                orders_pb2.PlaceExchangeRequest(
                    return_id=request.return_id,
                    order_id=request.order_id,
                    credits=[
                        payments_pb2.Tender(
                            type=payments_pb2.TENDER_TYPE_GIFT_CARD,
                            code=credit.code,
                            amount_minor=credit.amount_minor,
                        )
                        for credit in request.credits
                    ],
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        order = response.order
        return ExchangePlaced(order.order_id, OrderStatus.from_proto(order.status) or "")

    @activity.defn(name="orders.record_return_progress")
    async def record_return_progress(self, progress: ReturnProgress) -> str:
        """Returns the return's status after the change."""
        response = await call(
            self._stub.RecordReturnProgress(
                orders_pb2.RecordReturnProgressRequest(
                    event_id=progress.event_id,
                    return_id=progress.return_id,
                    status=_wire(ReturnStatus.parse(progress.status)),
                    refunds=[
                        orders_pb2.Refund(
                            payment_id=r.payment_id,
                            tender_type=_wire(TenderType.parse(r.tender_type)),
                            amount=common_pb2.Money(
                                amount_minor=r.amount_minor, currency=r.currency
                            ),
                            status=_wire(RefundStatus.parse(r.status)),
                        )
                        for r in progress.refunds
                    ],
                    event=_event(progress.event_type, progress.event_detail),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return ReturnStatus.from_proto(getattr(response, "return").status) or ""
