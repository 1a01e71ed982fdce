"""The CustomersService servicer: validate at the edge, then one unit of work per call.

Every customer id is resolved through merges first, so a merged duplicate's
id keeps working everywhere (it answers as the survivor).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, TypeAlias, TypeVar

import grpc
from sqlalchemy.ext.asyncio import AsyncSession

from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from services.common.db import Database
from services.common.errors import BusinessRuleViolation, InvalidArgument
from services.customers import domain, mapping, outbox, store
from services.customers.domain import (
    Customer,
    DeliveryRetry,
    Notification,
    PageCursor,
    TimelineEvent,
)
from services.customers.outbox import DevelopmentSender, Sender
from services.customers.reminders import CartReminders

Found = TypeVar("Found")
Item = TypeVar("Item")

MAX_ID_LENGTH = 36
EXPORT_LIMIT = 10_000


def _customer_id(value: str, field: str = "customer_id") -> str:
    if not value:
        raise InvalidArgument.field(field, "is required")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidArgument.field(field, f"is longer than {MAX_ID_LENGTH}")
    return value


def _cursor(token: str) -> PageCursor | None:
    return PageCursor.decode(token) if token else None


class _PageRequest(Protocol):
    """What every List* request of a customer's history carries."""

    @property
    def customer_id(self) -> str: ...
    @property
    def limit(self) -> int: ...
    @property
    def page_token(self) -> str: ...


_ListPage: TypeAlias = Callable[
    [AsyncSession, str, int, PageCursor | None], Awaitable[tuple[list[Item], PageCursor | None]]
]


def _not_erased(customer: Customer) -> Customer:
    if customer.erased:
        raise BusinessRuleViolation(
            domain.CUSTOMER_ERASED,
            f"customer {customer.customer_id} was erased",
            {"customer_id": customer.customer_id},
        )
    return customer


def _channel(value: str) -> str:
    if len(value) > 40:
        raise InvalidArgument.field("channel", "is longer than 40")
    return value


class CustomersServicer(customers_pb2_grpc.CustomersServiceServicer):
    def __init__(
        self,
        database: Database,
        *,
        reminders: CartReminders | None = None,
        sender: Sender | None = None,
        points_per_unit: int = 1,
        retry: DeliveryRetry | None = None,
    ) -> None:
        self._database = database
        self._reminders = reminders or CartReminders(None, 0)
        self._sender: Sender = sender or DevelopmentSender()
        self._points_per_unit = points_per_unit
        self._retry = retry or DeliveryRetry()

    async def _for_live_customer(
        self, customer_id: str, work: Callable[[AsyncSession, str], Awaitable[Found]]
    ) -> Found:
        """`work` on the customer `customer_id` resolves to (through merges),
        in one unit of work; NotFound when there is none."""
        customer_id = _customer_id(customer_id)
        async with self._database.transaction() as session:
            return await work(session, await store.require_customer(session, customer_id))

    async def _page(
        self, request: _PageRequest, list_page: _ListPage[Item]
    ) -> tuple[list[Item], str]:
        """One page of a customer's history and the token of the next ("" at the end)."""
        _customer_id(request.customer_id)
        limit = domain.page_size(request.limit)
        after = _cursor(request.page_token)
        items, cursor = await self._for_live_customer(
            request.customer_id, lambda session, live_id: list_page(session, live_id, limit, after)
        )
        return items, cursor.encode() if cursor else ""

    # ------------------------------------------------------------ identity

    async def CreateCustomer(
        self, request: customers_pb2.CreateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.CreateCustomerResponse:
        identities = domain.identities_from(request.email, request.phone, request.loyalty_card)
        name = request.name.strip()
        if len(name) > domain.MAX_TEXT_LENGTH:
            raise InvalidArgument.field("name", f"is longer than {domain.MAX_TEXT_LENGTH}")
        async with self._database.transaction() as session:
            customer, created = await store.create_or_match(session, identities, name)
        return customers_pb2.CreateCustomerResponse(
            customer=mapping.customer_to_proto(customer), created=created
        )

    async def GetCustomer(
        self, request: customers_pb2.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.GetCustomerResponse:
        customer_id = _customer_id(request.customer_id)
        async with self._database.transaction() as session:
            customer = await store.get_customer(session, customer_id)
            aliases = await store.lifecycle.aliases_of(session, customer.customer_id)
        return customers_pb2.GetCustomerResponse(
            customer=mapping.customer_to_proto(customer), aliases=aliases
        )

    async def MergeCustomers(
        self, request: customers_pb2.MergeCustomersRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.MergeCustomersResponse:
        survivor_id = _customer_id(request.survivor_customer_id, "survivor_customer_id")
        duplicate_id = _customer_id(request.duplicate_customer_id, "duplicate_customer_id")
        async with self._database.transaction() as session:
            outcome = await store.lifecycle.merge(
                session, survivor_id, duplicate_id, request.actor[: domain.MAX_TEXT_LENGTH]
            )
            customer = await store.get_customer(session, outcome.merge.survivor_id)
        if outcome.cart is not None:
            await self._reminders.cart_changed(outcome.cart)
            await self._reminders.cart_changed(domain.Cart(customer_id=duplicate_id, version=0))
        return customers_pb2.MergeCustomersResponse(
            customer=mapping.customer_to_proto(customer), merge_id=outcome.merge.merge_id
        )

    async def UpdatePreferences(
        self, request: customers_pb2.UpdatePreferencesRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.UpdatePreferencesResponse:
        customer_id = _customer_id(request.customer_id)
        preferences = mapping.preferences_from_proto(request.preferences)
        async with self._database.transaction() as session:
            customer = _not_erased(await store.get_customer(session, customer_id, lock=True))
            await store.update_preferences(session, customer.customer_id, preferences)
            customer = await store.get_customer(session, customer.customer_id)
        return customers_pb2.UpdatePreferencesResponse(customer=mapping.customer_to_proto(customer))

    # ------------------------------------------------------------- history

    async def RecordActivity(
        self, request: customers_pb2.RecordActivityRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.RecordActivityResponse:
        customer_id = _customer_id(request.customer_id)
        activity = mapping.activity_from_proto(request.activity)
        async with self._database.transaction() as session:
            live_id = await store.require_customer(session, customer_id)
            recorded = await store.record_activity(session, live_id, activity)
        return customers_pb2.RecordActivityResponse(activity=mapping.activity_to_proto(recorded))

    async def ListActivities(
        self, request: customers_pb2.ListActivitiesRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ListActivitiesResponse:
        activities, next_token = await self._page(request, store.list_activities)
        return customers_pb2.ListActivitiesResponse(
            activities=[mapping.activity_to_proto(activity) for activity in activities],
            next_page_token=next_token,
        )

    async def RecordTimelineEvent(
        self, request: customers_pb2.RecordTimelineEventRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.RecordTimelineEventResponse:
        """The event once; with it, in the same transaction, its loyalty points
        and its message to the customer (both keyed by the event id)."""
        customer_id = _customer_id(request.customer_id)
        event = mapping.event_from_proto(request.event)
        message: Notification | None = None
        async with self._database.transaction() as session:
            customer = await store.get_customer(session, customer_id)
            stored, recorded = await store.timeline.record_event(
                session, customer.customer_id, event
            )
            if recorded:
                change = domain.loyalty_change(event, self._points_per_unit)
                if change is not None:
                    reason, points = change
                    await store.timeline.change_points(
                        session,
                        customer.customer_id,
                        event.event_id,
                        reason,
                        event.reference_id,
                        points,
                    )
            message = await self._queue_milestone_message(session, customer, event)
        if message is not None:
            await outbox.deliver(self._database, self._sender, customer, message, self._retry)
        return customers_pb2.RecordTimelineEventResponse(
            event=mapping.event_to_proto(stored), recorded=recorded
        )

    async def _queue_milestone_message(
        self, session: AsyncSession, customer: Customer, event: TimelineEvent
    ) -> Notification | None:
        kind = domain.MILESTONE_NOTIFICATIONS.get(event.kind)
        if kind is None:
            return None
        details = {
            "order_id": event.order_id or event.reference_id,
            "return_id": event.reference_id,
            "amount": f"{event.amount_minor / domain.MINOR_UNITS_PER_UNIT:.2f}",
            "currency": event.currency,
            **event.details,
        }
        message = domain.compose_notification(
            f"{event.event_id}/notify", kind, event.reference_id, details, customer
        )
        return await store.notifications.queue(session, customer.customer_id, message)

    async def ListTimeline(
        self, request: customers_pb2.ListTimelineRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ListTimelineResponse:
        events, next_token = await self._page(request, store.timeline.list_events)
        return customers_pb2.ListTimelineResponse(
            events=[mapping.event_to_proto(event) for event in events],
            next_page_token=next_token,
        )

    async def ListLoyaltyHistory(
        self, request: customers_pb2.ListLoyaltyHistoryRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ListLoyaltyHistoryResponse:
        entries = await self._for_live_customer(request.customer_id, store.timeline.loyalty_history)
        return customers_pb2.ListLoyaltyHistoryResponse(
            entries=[mapping.loyalty_entry_to_proto(entry) for entry in entries]
        )

    # ---------------------------------------------------------------- cart

    async def GetCart(
        self, request: customers_pb2.GetCartRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.GetCartResponse:
        cart = await self._for_live_customer(request.customer_id, store.carts.get_cart)
        return customers_pb2.GetCartResponse(cart=mapping.cart_to_proto(cart))

    async def PutCart(
        self, request: customers_pb2.PutCartRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.PutCartResponse:
        customer_id = _customer_id(request.customer_id)
        lines = mapping.cart_lines_from_proto(request.lines)
        channel = _channel(request.channel)
        if request.check_version and request.expected_version < 0:
            raise InvalidArgument.field("expected_version", "must not be negative")
        expected = request.expected_version if request.check_version else None
        async with self._database.transaction() as session:
            customer = _not_erased(await store.get_customer(session, customer_id))
            cart = await store.carts.put_cart(
                session, customer.customer_id, lines, channel, expected
            )
        await self._reminders.cart_changed(cart)
        return customers_pb2.PutCartResponse(cart=mapping.cart_to_proto(cart))

    async def MergeGuestCart(
        self, request: customers_pb2.MergeGuestCartRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.MergeGuestCartResponse:
        customer_id = _customer_id(request.customer_id)
        guest_lines = mapping.cart_lines_from_proto(request.lines)
        channel = _channel(request.channel)
        async with self._database.transaction() as session:
            customer = _not_erased(await store.get_customer(session, customer_id))
            current = await store.carts.get_cart(session, customer.customer_id, lock=True)
            lines = domain.merge_cart_lines(current.lines, guest_lines)
            if lines == current.lines:
                cart = current
            else:
                cart = await store.carts.put_cart(
                    session, customer.customer_id, lines, channel or current.channel, None
                )
        if cart is not current:
            await self._reminders.cart_changed(cart)
        return customers_pb2.MergeGuestCartResponse(cart=mapping.cart_to_proto(cart))

    async def CheckoutCart(
        self, request: customers_pb2.CheckoutCartRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.CheckoutCartResponse:
        """Called by the order journey once an order is placed: its skus leave
        the cart, and a cart left empty ends its reminder."""
        customer_id = _customer_id(request.customer_id)
        if not request.order_id or len(request.order_id) > domain.MAX_TEXT_LENGTH:
            raise InvalidArgument.field(
                "order_id", f"must be 1 to {domain.MAX_TEXT_LENGTH} characters"
            )
        skus = [line.sku for line in request.lines]
        for index, sku in enumerate(skus):
            if not sku or len(sku) > domain.MAX_SKU_LENGTH:
                raise InvalidArgument.field(
                    f"lines[{index}].sku", f"must be 1 to {domain.MAX_SKU_LENGTH} characters"
                )
        async with self._database.transaction() as session:
            live_id = await store.require_customer(session, customer_id)
            cart, changed = await store.carts.checkout(session, live_id, request.order_id, skus)
        if changed:
            await self._reminders.cart_changed(cart)
        return customers_pb2.CheckoutCartResponse(
            cart=mapping.cart_to_proto(cart), checked_out=changed
        )

    # ------------------------------------------------------- notifications

    async def SendNotification(
        self, request: customers_pb2.SendNotificationRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.SendNotificationResponse:
        customer_id = _customer_id(request.customer_id)
        async with self._database.transaction() as session:
            customer = await store.get_customer(session, customer_id)
            message = domain.compose_notification(
                request.notification_id,
                request.kind,
                request.reference_id,
                dict(request.details),
                customer,
            )
            message = await store.notifications.queue(session, customer.customer_id, message)
        message = await outbox.deliver(self._database, self._sender, customer, message, self._retry)
        return customers_pb2.SendNotificationResponse(
            notification=mapping.notification_to_proto(message)
        )

    async def ListNotifications(
        self, request: customers_pb2.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ListNotificationsResponse:
        messages, next_token = await self._page(request, store.notifications.list_notifications)
        return customers_pb2.ListNotificationsResponse(
            notifications=[mapping.notification_to_proto(m) for m in messages],
            next_page_token=next_token,
        )

    # ------------------------------------------------------------- privacy

    async def ExportCustomer(
        self, request: customers_pb2.ExportCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.ExportCustomerResponse:
        customer_id = _customer_id(request.customer_id)
        async with self._database.transaction() as session:
            customer = await store.get_customer(session, customer_id)
            live_id = customer.customer_id
            activities, _ = await store.list_activities(session, live_id, EXPORT_LIMIT, None)
            events, _ = await store.timeline.list_events(session, live_id, EXPORT_LIMIT, None)
            cart = await store.carts.get_cart(session, live_id)
            entries = await store.timeline.loyalty_history(session, live_id)
            messages, _ = await store.notifications.list_notifications(
                session, live_id, EXPORT_LIMIT, None
            )
            merges = await store.lifecycle.merges_into(session, live_id)
            aliases = await store.lifecycle.aliases_of(session, live_id)
        return customers_pb2.ExportCustomerResponse(
            customer=mapping.customer_to_proto(customer),
            activities=[mapping.activity_to_proto(a) for a in activities],
            timeline=[mapping.event_to_proto(e) for e in events],
            cart=mapping.cart_to_proto(cart),
            loyalty_history=[mapping.loyalty_entry_to_proto(e) for e in entries],
            notifications=[mapping.notification_to_proto(m) for m in messages],
            merges=[mapping.merge_to_proto(m) for m in merges],
            aliases=aliases,
        )

    async def EraseCustomer(
        self, request: customers_pb2.EraseCustomerRequest, context: grpc.aio.ServicerContext
    ) -> customers_pb2.EraseCustomerResponse:
        customer_id = _customer_id(request.customer_id)
        async with self._database.transaction() as session:
            erased_id = await store.lifecycle.erase(session, customer_id)
            customer = await store.get_customer(session, erased_id)
            aliases = await store.lifecycle.aliases_of(session, erased_id)
        # Its cart is gone: a pending reminder must not go out.
        await self._reminders.cart_changed(domain.Cart(customer_id=erased_id, version=0))
        return customers_pb2.EraseCustomerResponse(
            customer=mapping.customer_to_proto(customer), aliases=aliases
        )
