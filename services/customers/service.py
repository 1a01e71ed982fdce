"""The CustomersService servicer: request → mapping → use case → mapping → response.

Refusals are domain errors raised by the use cases; the error interceptor
(services/common/grpc_errors.py) turns them into statuses.
"""

from __future__ import annotations

import grpc

from omni.customers.v1 import customers_pb2 as pb
from omni.customers.v1 import customers_pb2_grpc
from omni.words import Channel, NotificationKind, StoreNotificationKind
from services.common.identity import actor_of, caller_or_none
from services.customers import access, mapping, use_cases
from services.customers.use_cases import Dependencies


class CustomersServicer(customers_pb2_grpc.CustomersServiceServicer):
    def __init__(self, deps: Dependencies) -> None:
        self._deps = deps

    # ------------------------------------------------------------ identity

    async def CreateCustomer(
        self, request: pb.CreateCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateCustomerResponse:
        caller = caller_or_none()
        customer, created = await use_cases.create_customer(
            self._deps,
            request.email,
            request.phone,
            request.loyalty_card,
            request.name,
            leave_matched_unchanged=(
                request.leave_matched_unchanged or not access.may_add_identities(caller)
            ),
        )
        found = mapping.customer_to_proto(customer)
        if not created:
            found = await access.view_of_match(self._deps.database, caller, found)
        return pb.CreateCustomerResponse(customer=found, created=created)

    async def GetCustomer(
        self, request: pb.GetCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCustomerResponse:
        customer, aliases = await use_cases.get_customer(self._deps, request.customer_id)
        return pb.GetCustomerResponse(customer=mapping.customer_to_proto(customer), aliases=aliases)

    async def FindCustomers(
        self, request: pb.FindCustomersRequest, context: grpc.aio.ServicerContext
    ) -> pb.FindCustomersResponse:
        found = await use_cases.find_customers(
            self._deps, request.email, request.phone, request.loyalty_card
        )
        return pb.FindCustomersResponse(customers=[mapping.customer_to_proto(c) for c in found])

    async def MergeCustomers(
        self, request: pb.MergeCustomersRequest, context: grpc.aio.ServicerContext
    ) -> pb.MergeCustomersResponse:
        customer, merge = await use_cases.merge_customers(
            self._deps,
            request.survivor_customer_id,
            request.duplicate_customer_id,
            actor_of(request.actor),
        )
        return pb.MergeCustomersResponse(
            customer=mapping.customer_to_proto(customer), merge_id=merge.merge_id
        )

    async def UpdatePreferences(
        self, request: pb.UpdatePreferencesRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdatePreferencesResponse:
        customer = await use_cases.update_preferences(
            self._deps, request.customer_id, mapping.preferences_from_proto(request.preferences)
        )
        return pb.UpdatePreferencesResponse(customer=mapping.customer_to_proto(customer))

    # ------------------------------------------------------------- history

    async def RecordActivity(
        self, request: pb.RecordActivityRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordActivityResponse:
        activity = await use_cases.record_activity(
            self._deps, request.customer_id, mapping.activity_from_proto(request.activity)
        )
        return pb.RecordActivityResponse(activity=mapping.activity_to_proto(activity))

    async def ListActivities(
        self, request: pb.ListActivitiesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListActivitiesResponse:
        page = await use_cases.list_activities(
            self._deps, request.customer_id, request.limit, request.page_token
        )
        return pb.ListActivitiesResponse(
            activities=[mapping.activity_to_proto(activity) for activity in page.items],
            next_page_token=page.next_cursor,
        )

    async def RecordTimelineEvent(
        self, request: pb.RecordTimelineEventRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordTimelineEventResponse:
        event, recorded = await use_cases.record_timeline_event(
            self._deps, request.customer_id, mapping.event_from_proto(request.event)
        )
        return pb.RecordTimelineEventResponse(
            event=mapping.event_to_proto(event), recorded=recorded
        )

    async def ListTimeline(
        self, request: pb.ListTimelineRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTimelineResponse:
        page = await use_cases.list_timeline(
            self._deps, request.customer_id, request.limit, request.page_token
        )
        return pb.ListTimelineResponse(
            events=[mapping.event_to_proto(event) for event in page.items],
            next_page_token=page.next_cursor,
        )

    async def ListLoyaltyHistory(
        self, request: pb.ListLoyaltyHistoryRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListLoyaltyHistoryResponse:
        entries = await use_cases.list_loyalty_history(self._deps, request.customer_id)
        return pb.ListLoyaltyHistoryResponse(
            entries=[mapping.loyalty_entry_to_proto(entry) for entry in entries]
        )

    # ---------------------------------------------------------------- cart

    async def GetCart(
        self, request: pb.GetCartRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCartResponse:
        cart = await use_cases.get_cart(self._deps, request.customer_id)
        return pb.GetCartResponse(cart=mapping.cart_to_proto(cart))

    async def PutCart(
        self, request: pb.PutCartRequest, context: grpc.aio.ServicerContext
    ) -> pb.PutCartResponse:
        cart = await use_cases.put_cart(
            self._deps,
            request.customer_id,
            mapping.cart_lines_from_proto(request.lines),
            Channel.from_proto(request.channel),
            request.expected_version if request.check_version else None,
        )
        return pb.PutCartResponse(cart=mapping.cart_to_proto(cart))

    async def MergeGuestCart(
        self, request: pb.MergeGuestCartRequest, context: grpc.aio.ServicerContext
    ) -> pb.MergeGuestCartResponse:
        cart = await use_cases.merge_guest_cart(
            self._deps,
            request.customer_id,
            mapping.cart_lines_from_proto(request.lines),
            Channel.from_proto(request.channel),
        )
        return pb.MergeGuestCartResponse(cart=mapping.cart_to_proto(cart))

    async def CheckoutCart(
        self, request: pb.CheckoutCartRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckoutCartResponse:
        cart, checked_out = await use_cases.checkout_cart(
            self._deps, request.customer_id, request.order_id, [line.sku for line in request.lines]
        )
        return pb.CheckoutCartResponse(cart=mapping.cart_to_proto(cart), checked_out=checked_out)

    # ------------------------------------------------------- notifications

    async def SendNotification(
        self, request: pb.SendNotificationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SendNotificationResponse:
        message = await use_cases.send_notification(
            self._deps,
            request.customer_id,
            request.notification_id,
            mapping.required(NotificationKind, request.kind, "kind"),
            request.reference_id,
            dict(request.details),
        )
        return pb.SendNotificationResponse(notification=mapping.notification_to_proto(message))

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListNotificationsResponse:
        page = await use_cases.list_notifications(
            self._deps, request.customer_id, request.limit, request.page_token
        )
        return pb.ListNotificationsResponse(
            notifications=[mapping.notification_to_proto(m) for m in page.items],
            next_page_token=page.next_cursor,
        )

    async def SendStoreNotification(
        self, request: pb.SendStoreNotificationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SendStoreNotificationResponse:
        message = await use_cases.send_store_notification(
            self._deps,
            request.notification_id,
            request.store_id,
            StoreNotificationKind.from_proto(request.kind),
            request.reference_id,
            dict(request.details),
        )
        return pb.SendStoreNotificationResponse(
            notification=mapping.store_notification_to_proto(message)
        )

    async def ListStoreNotifications(
        self, request: pb.ListStoreNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListStoreNotificationsResponse:
        page = await use_cases.list_store_notifications(
            self._deps, request.store_id, request.limit, request.page_token
        )
        return pb.ListStoreNotificationsResponse(
            notifications=[mapping.store_notification_to_proto(m) for m in page.items],
            next_page_token=page.next_cursor,
        )

    # ------------------------------------------------------------- privacy

    async def ExportCustomer(
        self, request: pb.ExportCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.ExportCustomerResponse:
        export = await use_cases.export_customer(self._deps, request.customer_id)
        return mapping.export_to_proto(export)

    async def EraseCustomer(
        self, request: pb.EraseCustomerRequest, context: grpc.aio.ServicerContext
    ) -> pb.EraseCustomerResponse:
        customer, aliases = await use_cases.erase_customer(self._deps, request.customer_id)
        return pb.EraseCustomerResponse(
            customer=mapping.customer_to_proto(customer), aliases=aliases
        )
