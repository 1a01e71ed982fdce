"""Customer activities: keep each customer's cross-channel history current,
and tell them what happened.

Workflow payloads carry the words; here they cross to the customers enums. A
word that is no member goes as unspecified, and the service refuses it
(INVALID_ARGUMENT, not retried)."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio import activity
from temporalio.exceptions import ApplicationError

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.words import (
    ActivityKind,
    Channel,
    NotificationKind,
    NotificationStatus,
    StoreNotificationKind,
    TimelineEventKind,
)
from services.common.together import side_by_side
from workflows.activities.rpc import RPC_TIMEOUT_SECONDS, call
from workflows.contracts.activities import (
    CheckoutCartInput,
    CustomerActivityInput,
    NotificationInput,
    OrderPlacedInput,
    TimelineEventInput,
)
from workflows.contracts.stores import StoreNotificationInput


def _channel(word: str) -> common_pb2.Channel:
    channel = Channel.parse(word)
    return channel.to_proto() if channel else common_pb2.CHANNEL_UNSPECIFIED


def _activity_kind(word: str) -> customers_pb2.ActivityKind:
    kind = ActivityKind.parse(word)
    return kind.to_proto() if kind else customers_pb2.ACTIVITY_KIND_UNSPECIFIED


def _event_kind(word: str) -> customers_pb2.TimelineEventKind:
    kind = TimelineEventKind.parse(word)
    return kind.to_proto() if kind else customers_pb2.TIMELINE_EVENT_KIND_UNSPECIFIED


def _notification_kind(word: str) -> customers_pb2.NotificationKind:
    kind = NotificationKind.parse(word)
    return kind.to_proto() if kind else customers_pb2.NOTIFICATION_KIND_UNSPECIFIED


class CustomerActivities:
    def __init__(self, stub: customers_pb2_grpc.CustomersServiceStub) -> None:
        self._stub = stub

    @activity.defn(name="customers.record_activity")
    async def record_activity(self, request: CustomerActivityInput) -> None:
        await call(
            self._stub.RecordActivity(
                customers_pb2.RecordActivityRequest(
                    customer_id=request.customer_id,
                    activity=customers_pb2.Activity(
                        kind=_activity_kind(request.kind),
                        reference_id=request.reference_id,
                        channel=_channel(request.channel),
                        status=request.status,
                        order_id=request.order_id,
                    ),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )

    @activity.defn(name="customers.record_timeline_event")
    async def record_timeline_event(self, request: TimelineEventInput) -> bool:
        """True when this call recorded it (False: an earlier attempt did)."""
        at = Timestamp()
        # When the milestone happened, not when a retry got through.
        at.FromDatetime(activity.info().scheduled_time)
        reply = await call(
            self._stub.RecordTimelineEvent(
                customers_pb2.RecordTimelineEventRequest(
                    customer_id=request.customer_id,
                    event=customers_pb2.TimelineEvent(
                        event_id=request.event_id,
                        kind=_event_kind(request.kind),
                        reference_id=request.reference_id,
                        order_id=request.order_id,
                        channel=_channel(request.channel),
                        summary=request.summary,
                        at=at,
                        amount_minor=request.amount_minor,
                        currency=request.currency,
                        details=request.details,
                    ),
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return bool(reply.recorded)

    @activity.defn(name="customers.send_notification")
    async def send_notification(self, request: NotificationInput) -> str:
        """The message's status: "sent", "queued" or "suppressed"."""
        reply = await call(
            self._stub.SendNotification(
                customers_pb2.SendNotificationRequest(
                    customer_id=request.customer_id,
                    notification_id=request.notification_id,
                    kind=_notification_kind(request.kind),
                    reference_id=request.reference_id,
                    details=request.details,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        status = NotificationStatus.from_proto(reply.notification.status)
        return status.value if status else ""

    @activity.defn(name="customers.send_store_notification")
    async def send_store_notification(self, request: StoreNotificationInput) -> str:
        """A message to a store's associates (once per notification_id); its id."""
        kind = StoreNotificationKind.parse(request.kind)
        reply = await call(
            self._stub.SendStoreNotification(
                customers_pb2.SendStoreNotificationRequest(
                    notification_id=request.notification_id,
                    store_id=request.store_id,
                    kind=kind.to_proto()
                    if kind
                    else customers_pb2.STORE_NOTIFICATION_KIND_UNSPECIFIED,
                    reference_id=request.reference_id,
                    details=request.details,
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return str(reply.notification.notification_id)

    @activity.defn(name="customers.checkout_cart")
    async def checkout_cart(self, request: CheckoutCartInput) -> bool:
        """True when this call took lines out of the cart."""
        reply = await call(
            self._stub.CheckoutCart(
                customers_pb2.CheckoutCartRequest(
                    customer_id=request.customer_id,
                    order_id=request.order_id,
                    lines=[customers_pb2.CartLine(sku=sku) for sku in request.skus],
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        )
        return bool(reply.checked_out)

    @activity.defn(name="customers.record_order_placed")
    async def record_order_placed(self, request: OrderPlacedInput) -> None:
        """The three records of a placed order in one activity (each call is
        idempotent, so a retry repeats none of them), side by side: the journey
        holds its lock until they are done, so a store action right after
        placement waits for the slowest of them, not their sum. They touch
        different rows (activity log, the customer's timeline, the cart). Every
        one ends before the first failure is raised. The cart is a convenience:
        a refusal there is logged, not raised."""
        await side_by_side(
            self.record_activity(request.activity),
            self.record_timeline_event(request.timeline),
            self._checkout_if_possible(request.cart),
        )

    async def _checkout_if_possible(self, request: CheckoutCartInput) -> None:
        try:
            await self.checkout_cart(request)
        except ApplicationError as error:
            if not error.non_retryable:
                raise
            activity.logger.warning("cart not checked out: %s", error.type)
