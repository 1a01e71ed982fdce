"""Inventory, payments and customers as a till sale uses them (services/orders/till.py):
the soft hold, sold as a pos_sale or given back (each answering the
reservation's status after, which decides a recovery); authorizations, the
card_present sold (captured) at once, final captures, voids, refunds and the
order's payments; the customer's history, timeline and points."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.payments.v1 import payments_pb2, payments_pb2_grpc
from omni.words import (
    ActivityKind,
    Channel,
    OrderStatus,
    ReservationStatus,
    StockMovementReason,
    TenderType,
    TimelineEventKind,
)
from services.common.errors import Unavailable
from services.orders.adapters.payments import PaymentsClient, payment_info
from services.orders.adapters.refusals import AMBIGUOUS_CODES, refusal_of
from services.orders.adapters.stock import InventoryStock
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import OrderRecord
from workflows.contracts.activities import PaymentInfo
from workflows.contracts.journeys import order_workflow_id

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0


class TillInventory(InventoryStock):
    def __init__(
        self,
        stub: inventory_pb2_grpc.InventoryServiceStub,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(stub, timeout_seconds)
        self._till_stub = stub
        self._till_timeout = timeout_seconds

    async def sell(self, reservation_id: str) -> ReservationStatus | None:
        try:
            reply = await self._till_stub.CommitReservation(
                inventory_pb2.CommitReservationRequest(
                    reservation_id=reservation_id,
                    reason=StockMovementReason.POS_SALE.to_proto(),
                ),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("inventory", error) from error
        return ReservationStatus.from_proto(reply.reservation.status)

    async def give_back(self, reservation_id: str) -> ReservationStatus | None:
        try:
            reply = await self._till_stub.ReleaseReservation(
                inventory_pb2.ReleaseReservationRequest(reservation_id=reservation_id),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("inventory", error) from error
        return ReservationStatus.from_proto(reply.reservation.status)


class TillPaymentsClient(PaymentsClient):
    def __init__(
        self, stub: payments_pb2_grpc.PaymentsServiceStub, timeout_seconds: float = TIMEOUT_SECONDS
    ) -> None:
        super().__init__(stub, timeout_seconds)
        self._till_stub = stub
        self._till_timeout = timeout_seconds

    async def sell_card(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        """A card_present authorized and captured in full, final, in one call
        (AuthorizePaymentRequest.capture); a repeat of the key answers the
        first sale. The payment also as payments answered it (serialized)."""
        try:
            reply = await self._till_stub.AuthorizePayment(
                payments_pb2.AuthorizePaymentRequest(
                    idempotency_key=key,
                    reference=reference,
                    tender=payments_pb2.Tender(
                        type=TenderType.CARD_PRESENT.to_proto(), token=tender.token
                    ),
                    amount=common_pb2.Money(amount_minor=amount_minor, currency=currency),
                    channel=channel.to_proto(),
                    capture=True,
                ),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("payments", error) from error
        return payment_info(reply.payment), reply.payment.SerializeToString()

    async def refund(self, key: str, payment_id: str, amount_minor: int, currency: str) -> None:
        """To the card; a repeat of the key answers the first refund."""
        try:
            await self._till_stub.RefundPayment(
                payments_pb2.RefundPaymentRequest(
                    idempotency_key=key,
                    payment_id=payment_id,
                    amount=common_pb2.Money(amount_minor=amount_minor, currency=currency),
                ),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("payments", error) from error

    async def capture(self, key: str, payment_id: str, amount_minor: int, currency: str) -> bytes:
        """The whole authorization, final; a repeat of the key answers the
        first capture. The payment after, as payments answered it (serialized)."""
        try:
            reply = await self._till_stub.CapturePayment(
                payments_pb2.CapturePaymentRequest(
                    idempotency_key=key,
                    payment_id=payment_id,
                    amount=common_pb2.Money(amount_minor=amount_minor, currency=currency),
                    final=True,
                ),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("payments", error) from error
        return reply.payment.SerializeToString()

    async def payments_of(self, reference: str) -> list[PaymentInfo]:
        try:
            reply = await self._till_stub.ListPayments(
                payments_pb2.ListPaymentsRequest(reference=reference),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            raise refusal_of("payments", error) from error
        return [payment_info(payment) for payment in reply.payments]

    async def listed(self, reference: str) -> list[payments_pb2.Payment]:
        try:
            reply = await self._till_stub.ListPayments(
                payments_pb2.ListPaymentsRequest(reference=reference),
                timeout=self._till_timeout,
            )
        except grpc.aio.AioRpcError as error:
            logger.warning("payments of %s not read for the answer: %s", reference, error.details())
            return []
        return list(reply.payments)


class CustomerHistory:
    """The sale in the customer's orders (an activity), on their timeline as
    order_placed (their confirmation message) and order_completed with its
    total (which earns the points), each keyed by the order, so a repeat
    records nothing new."""

    def __init__(
        self,
        stub: customers_pb2_grpc.CustomersServiceStub,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def record_sale(self, order: OrderRecord) -> None:
        at = Timestamp()
        at.FromDatetime(order.created_at)
        activity = self._stub.RecordActivity(
            customers_pb2.RecordActivityRequest(
                customer_id=order.customer_id,
                activity=customers_pb2.Activity(
                    kind=ActivityKind.ORDER.to_proto(),
                    reference_id=order.order_id,
                    channel=order.channel.to_proto(),
                    status=OrderStatus.COMPLETED,
                    order_id=order.order_id,
                ),
            ),
            timeout=self._timeout,
        )
        lines = ", ".join(f"{line.quantity} x {line.sku}" for line in order.lines)

        def milestone(kind: TimelineEventKind, summary: str) -> Any:
            return self._stub.RecordTimelineEvent(
                customers_pb2.RecordTimelineEventRequest(
                    customer_id=order.customer_id,
                    event=customers_pb2.TimelineEvent(
                        event_id=f"{order_workflow_id(order.order_id)}/timeline/{kind}",
                        kind=kind.to_proto(),
                        reference_id=order.order_id,
                        order_id=order.order_id,
                        channel=order.channel.to_proto(),
                        summary=summary,
                        at=at,
                        amount_minor=order.total.amount_minor,
                        currency=order.total.currency,
                        details={"lines": lines, "store_id": order.location_id},
                    ),
                ),
                timeout=self._timeout,
            )

        # order_placed: the customer's confirmation (lines and total), as for
        # every placed order; order_completed: the points.
        placed = milestone(TimelineEventKind.ORDER_PLACED, "till sale (carry_out)")
        completed = milestone(
            TimelineEventKind.ORDER_COMPLETED, f"bought at the till of {order.location_id}"
        )
        results = await asyncio.gather(activity, placed, completed, return_exceptions=True)
        for result in results:
            if not isinstance(result, grpc.aio.AioRpcError):
                continue
            if result.code() in AMBIGUOUS_CODES:
                raise Unavailable(f"customers: {result.details() or result.code().name}")
            # A definite refusal (an unknown customer id, say): the sale stands,
            # its records cannot be kept; said in the log, not to the till.
            logger.warning(
                "till sale %s: the customer's records were refused: %s",
                order.order_id,
                result.details(),
            )
