import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.common.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_KIND_UNSPECIFIED: _ClassVar[IdentityKind]
    IDENTITY_KIND_EMAIL: _ClassVar[IdentityKind]
    IDENTITY_KIND_PHONE: _ClassVar[IdentityKind]
    IDENTITY_KIND_LOYALTY_CARD: _ClassVar[IdentityKind]

class ContactChannel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTACT_CHANNEL_UNSPECIFIED: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_EMAIL: _ClassVar[ContactChannel]
    CONTACT_CHANNEL_SMS: _ClassVar[ContactChannel]

class ActivityKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACTIVITY_KIND_UNSPECIFIED: _ClassVar[ActivityKind]
    ACTIVITY_KIND_ORDER: _ClassVar[ActivityKind]
    ACTIVITY_KIND_RETURN: _ClassVar[ActivityKind]

class TimelineEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TIMELINE_EVENT_KIND_UNSPECIFIED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_ORDER_PLACED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_READY_FOR_PICKUP: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_ORDER_COMPLETED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_ORDER_SHIPPED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_ORDER_CANCELLED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_PICKUP_REROUTED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_RETURN_REQUESTED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_RETURN_RECEIVED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_REFUND_ISSUED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_RETURN_EXPIRED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_ORDER_DELIVERED: _ClassVar[TimelineEventKind]
    TIMELINE_EVENT_KIND_RETURN_REJECTED: _ClassVar[TimelineEventKind]

class NotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_PICKUP_READY: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_PICKUP_REMINDER: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_ORDER_CANCELLED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_PICKUP_REROUTED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_ORDER_SHIPPED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_REFUND_ISSUED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_CART_REMINDER: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_CURBSIDE_COMING: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_PAYMENT_NEEDED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_ORDER_CONFIRMED: _ClassVar[NotificationKind]
    NOTIFICATION_KIND_ORDER_DELIVERED: _ClassVar[NotificationKind]

class StoreNotificationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STORE_NOTIFICATION_KIND_UNSPECIFIED: _ClassVar[StoreNotificationKind]
    STORE_NOTIFICATION_KIND_PICK_OVERDUE: _ClassVar[StoreNotificationKind]

class NotificationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NOTIFICATION_STATUS_UNSPECIFIED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_QUEUED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SENT: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_SUPPRESSED: _ClassVar[NotificationStatus]
    NOTIFICATION_STATUS_FAILED: _ClassVar[NotificationStatus]

class LoyaltyReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOYALTY_REASON_UNSPECIFIED: _ClassVar[LoyaltyReason]
    LOYALTY_REASON_ACCRUAL: _ClassVar[LoyaltyReason]
    LOYALTY_REASON_CLAWBACK: _ClassVar[LoyaltyReason]
    LOYALTY_REASON_MERGE: _ClassVar[LoyaltyReason]
IDENTITY_KIND_UNSPECIFIED: IdentityKind
IDENTITY_KIND_EMAIL: IdentityKind
IDENTITY_KIND_PHONE: IdentityKind
IDENTITY_KIND_LOYALTY_CARD: IdentityKind
CONTACT_CHANNEL_UNSPECIFIED: ContactChannel
CONTACT_CHANNEL_EMAIL: ContactChannel
CONTACT_CHANNEL_SMS: ContactChannel
ACTIVITY_KIND_UNSPECIFIED: ActivityKind
ACTIVITY_KIND_ORDER: ActivityKind
ACTIVITY_KIND_RETURN: ActivityKind
TIMELINE_EVENT_KIND_UNSPECIFIED: TimelineEventKind
TIMELINE_EVENT_KIND_ORDER_PLACED: TimelineEventKind
TIMELINE_EVENT_KIND_READY_FOR_PICKUP: TimelineEventKind
TIMELINE_EVENT_KIND_ORDER_COMPLETED: TimelineEventKind
TIMELINE_EVENT_KIND_ORDER_SHIPPED: TimelineEventKind
TIMELINE_EVENT_KIND_ORDER_CANCELLED: TimelineEventKind
TIMELINE_EVENT_KIND_PICKUP_REROUTED: TimelineEventKind
TIMELINE_EVENT_KIND_RETURN_REQUESTED: TimelineEventKind
TIMELINE_EVENT_KIND_RETURN_RECEIVED: TimelineEventKind
TIMELINE_EVENT_KIND_REFUND_ISSUED: TimelineEventKind
TIMELINE_EVENT_KIND_RETURN_EXPIRED: TimelineEventKind
TIMELINE_EVENT_KIND_ORDER_DELIVERED: TimelineEventKind
TIMELINE_EVENT_KIND_RETURN_REJECTED: TimelineEventKind
NOTIFICATION_KIND_UNSPECIFIED: NotificationKind
NOTIFICATION_KIND_PICKUP_READY: NotificationKind
NOTIFICATION_KIND_PICKUP_REMINDER: NotificationKind
NOTIFICATION_KIND_ORDER_CANCELLED: NotificationKind
NOTIFICATION_KIND_PICKUP_REROUTED: NotificationKind
NOTIFICATION_KIND_ORDER_SHIPPED: NotificationKind
NOTIFICATION_KIND_REFUND_ISSUED: NotificationKind
NOTIFICATION_KIND_CART_REMINDER: NotificationKind
NOTIFICATION_KIND_CURBSIDE_COMING: NotificationKind
NOTIFICATION_KIND_PAYMENT_NEEDED: NotificationKind
NOTIFICATION_KIND_ORDER_CONFIRMED: NotificationKind
NOTIFICATION_KIND_ORDER_DELIVERED: NotificationKind
STORE_NOTIFICATION_KIND_UNSPECIFIED: StoreNotificationKind
STORE_NOTIFICATION_KIND_PICK_OVERDUE: StoreNotificationKind
NOTIFICATION_STATUS_UNSPECIFIED: NotificationStatus
NOTIFICATION_STATUS_QUEUED: NotificationStatus
NOTIFICATION_STATUS_SENT: NotificationStatus
NOTIFICATION_STATUS_SUPPRESSED: NotificationStatus
NOTIFICATION_STATUS_FAILED: NotificationStatus
LOYALTY_REASON_UNSPECIFIED: LoyaltyReason
LOYALTY_REASON_ACCRUAL: LoyaltyReason
LOYALTY_REASON_CLAWBACK: LoyaltyReason
LOYALTY_REASON_MERGE: LoyaltyReason

class Identity(_message.Message):
    __slots__ = ("kind", "value")
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    kind: IdentityKind
    value: str
    def __init__(self, kind: _Optional[_Union[IdentityKind, str]] = ..., value: _Optional[str] = ...) -> None: ...

class Customer(_message.Message):
    __slots__ = ("customer_id", "name", "email", "phone", "identities", "loyalty_points", "created_at", "loyalty_debt", "erased", "loyalty_card", "preferences")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    IDENTITIES_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_POINTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_DEBT_FIELD_NUMBER: _ClassVar[int]
    ERASED_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_CARD_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    name: str
    email: str
    phone: str
    identities: _containers.RepeatedCompositeFieldContainer[Identity]
    loyalty_points: int
    created_at: _timestamp_pb2.Timestamp
    loyalty_debt: int
    erased: bool
    loyalty_card: str
    preferences: Preferences
    def __init__(self, customer_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., phone: _Optional[str] = ..., identities: _Optional[_Iterable[_Union[Identity, _Mapping]]] = ..., loyalty_points: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., loyalty_debt: _Optional[int] = ..., erased: _Optional[bool] = ..., loyalty_card: _Optional[str] = ..., preferences: _Optional[_Union[Preferences, _Mapping]] = ...) -> None: ...

class Preferences(_message.Message):
    __slots__ = ("channels", "marketing_consent")
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    MARKETING_CONSENT_FIELD_NUMBER: _ClassVar[int]
    channels: _containers.RepeatedScalarFieldContainer[ContactChannel]
    marketing_consent: _containers.RepeatedScalarFieldContainer[ContactChannel]
    def __init__(self, channels: _Optional[_Iterable[_Union[ContactChannel, str]]] = ..., marketing_consent: _Optional[_Iterable[_Union[ContactChannel, str]]] = ...) -> None: ...

class CreateCustomerRequest(_message.Message):
    __slots__ = ("email", "phone", "name", "loyalty_card", "leave_matched_unchanged")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_CARD_FIELD_NUMBER: _ClassVar[int]
    LEAVE_MATCHED_UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    email: str
    phone: str
    name: str
    loyalty_card: str
    leave_matched_unchanged: bool
    def __init__(self, email: _Optional[str] = ..., phone: _Optional[str] = ..., name: _Optional[str] = ..., loyalty_card: _Optional[str] = ..., leave_matched_unchanged: _Optional[bool] = ...) -> None: ...

class CreateCustomerResponse(_message.Message):
    __slots__ = ("customer", "created")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    created: bool
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class FindCustomersRequest(_message.Message):
    __slots__ = ("email", "phone", "loyalty_card")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHONE_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_CARD_FIELD_NUMBER: _ClassVar[int]
    email: str
    phone: str
    loyalty_card: str
    def __init__(self, email: _Optional[str] = ..., phone: _Optional[str] = ..., loyalty_card: _Optional[str] = ...) -> None: ...

class FindCustomersResponse(_message.Message):
    __slots__ = ("customers",)
    CUSTOMERS_FIELD_NUMBER: _ClassVar[int]
    customers: _containers.RepeatedCompositeFieldContainer[Customer]
    def __init__(self, customers: _Optional[_Iterable[_Union[Customer, _Mapping]]] = ...) -> None: ...

class GetCustomerResponse(_message.Message):
    __slots__ = ("customer", "aliases")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("kind", "reference_id", "channel", "status", "order_id", "occurred_at")
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    kind: ActivityKind
    reference_id: str
    channel: _common_pb2.Channel
    status: str
    order_id: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[ActivityKind, str]] = ..., reference_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., status: _Optional[str] = ..., order_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RecordActivityRequest(_message.Message):
    __slots__ = ("customer_id", "activity")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    activity: Activity
    def __init__(self, customer_id: _Optional[str] = ..., activity: _Optional[_Union[Activity, _Mapping]] = ...) -> None: ...

class RecordActivityResponse(_message.Message):
    __slots__ = ("activity",)
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    activity: Activity
    def __init__(self, activity: _Optional[_Union[Activity, _Mapping]] = ...) -> None: ...

class ListActivitiesRequest(_message.Message):
    __slots__ = ("customer_id", "limit", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    limit: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListActivitiesResponse(_message.Message):
    __slots__ = ("activities", "next_page_token")
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    activities: _containers.RepeatedCompositeFieldContainer[Activity]
    next_page_token: str
    def __init__(self, activities: _Optional[_Iterable[_Union[Activity, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class MergeCustomersRequest(_message.Message):
    __slots__ = ("survivor_customer_id", "duplicate_customer_id", "actor")
    SURVIVOR_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    survivor_customer_id: str
    duplicate_customer_id: str
    actor: str
    def __init__(self, survivor_customer_id: _Optional[str] = ..., duplicate_customer_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class MergeCustomersResponse(_message.Message):
    __slots__ = ("customer", "merge_id")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    merge_id: str
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., merge_id: _Optional[str] = ...) -> None: ...

class TimelineEvent(_message.Message):
    __slots__ = ("event_id", "kind", "reference_id", "order_id", "channel", "summary", "at", "amount_minor", "currency", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    kind: TimelineEventKind
    reference_id: str
    order_id: str
    channel: _common_pb2.Channel
    summary: str
    at: _timestamp_pb2.Timestamp
    amount_minor: int
    currency: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, event_id: _Optional[str] = ..., kind: _Optional[_Union[TimelineEventKind, str]] = ..., reference_id: _Optional[str] = ..., order_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., summary: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., amount_minor: _Optional[int] = ..., currency: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class RecordTimelineEventRequest(_message.Message):
    __slots__ = ("customer_id", "event")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    event: TimelineEvent
    def __init__(self, customer_id: _Optional[str] = ..., event: _Optional[_Union[TimelineEvent, _Mapping]] = ...) -> None: ...

class RecordTimelineEventResponse(_message.Message):
    __slots__ = ("event", "recorded")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_FIELD_NUMBER: _ClassVar[int]
    event: TimelineEvent
    recorded: bool
    def __init__(self, event: _Optional[_Union[TimelineEvent, _Mapping]] = ..., recorded: _Optional[bool] = ...) -> None: ...

class ListTimelineRequest(_message.Message):
    __slots__ = ("customer_id", "limit", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    limit: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTimelineResponse(_message.Message):
    __slots__ = ("events", "next_page_token")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[TimelineEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[TimelineEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CartLine(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Cart(_message.Message):
    __slots__ = ("customer_id", "lines", "channel", "version", "updated_at")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    channel: _common_pb2.Channel
    version: int
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., version: _Optional[int] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetCartRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class GetCartResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class PutCartRequest(_message.Message):
    __slots__ = ("customer_id", "lines", "channel", "expected_version", "check_version")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_VERSION_FIELD_NUMBER: _ClassVar[int]
    CHECK_VERSION_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    channel: _common_pb2.Channel
    expected_version: int
    check_version: bool
    def __init__(self, customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., expected_version: _Optional[int] = ..., check_version: _Optional[bool] = ...) -> None: ...

class PutCartResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class MergeGuestCartRequest(_message.Message):
    __slots__ = ("customer_id", "lines", "channel")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    channel: _common_pb2.Channel
    def __init__(self, customer_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class MergeGuestCartResponse(_message.Message):
    __slots__ = ("cart",)
    CART_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ...) -> None: ...

class CheckoutCartRequest(_message.Message):
    __slots__ = ("customer_id", "order_id", "lines")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    order_id: str
    lines: _containers.RepeatedCompositeFieldContainer[CartLine]
    def __init__(self, customer_id: _Optional[str] = ..., order_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[CartLine, _Mapping]]] = ...) -> None: ...

class CheckoutCartResponse(_message.Message):
    __slots__ = ("cart", "checked_out")
    CART_FIELD_NUMBER: _ClassVar[int]
    CHECKED_OUT_FIELD_NUMBER: _ClassVar[int]
    cart: Cart
    checked_out: bool
    def __init__(self, cart: _Optional[_Union[Cart, _Mapping]] = ..., checked_out: _Optional[bool] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("notification_id", "kind", "channel", "subject", "body", "status", "marketing", "reference_id", "created_at", "attempts")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    MARKETING_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    kind: NotificationKind
    channel: ContactChannel
    subject: str
    body: str
    status: NotificationStatus
    marketing: bool
    reference_id: str
    created_at: _timestamp_pb2.Timestamp
    attempts: int
    def __init__(self, notification_id: _Optional[str] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., channel: _Optional[_Union[ContactChannel, str]] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., status: _Optional[_Union[NotificationStatus, str]] = ..., marketing: _Optional[bool] = ..., reference_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., attempts: _Optional[int] = ...) -> None: ...

class SendNotificationRequest(_message.Message):
    __slots__ = ("customer_id", "notification_id", "kind", "reference_id", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    notification_id: str
    kind: NotificationKind
    reference_id: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, customer_id: _Optional[str] = ..., notification_id: _Optional[str] = ..., kind: _Optional[_Union[NotificationKind, str]] = ..., reference_id: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SendNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: Notification
    def __init__(self, notification: _Optional[_Union[Notification, _Mapping]] = ...) -> None: ...

class ListNotificationsRequest(_message.Message):
    __slots__ = ("customer_id", "limit", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    limit: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StoreNotification(_message.Message):
    __slots__ = ("notification_id", "store_id", "kind", "subject", "body", "reference_id", "created_at")
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    store_id: str
    kind: StoreNotificationKind
    subject: str
    body: str
    reference_id: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, notification_id: _Optional[str] = ..., store_id: _Optional[str] = ..., kind: _Optional[_Union[StoreNotificationKind, str]] = ..., subject: _Optional[str] = ..., body: _Optional[str] = ..., reference_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SendStoreNotificationRequest(_message.Message):
    __slots__ = ("notification_id", "store_id", "kind", "reference_id", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NOTIFICATION_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    notification_id: str
    store_id: str
    kind: StoreNotificationKind
    reference_id: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, notification_id: _Optional[str] = ..., store_id: _Optional[str] = ..., kind: _Optional[_Union[StoreNotificationKind, str]] = ..., reference_id: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SendStoreNotificationResponse(_message.Message):
    __slots__ = ("notification",)
    NOTIFICATION_FIELD_NUMBER: _ClassVar[int]
    notification: StoreNotification
    def __init__(self, notification: _Optional[_Union[StoreNotification, _Mapping]] = ...) -> None: ...

class ListStoreNotificationsRequest(_message.Message):
    __slots__ = ("store_id", "limit", "page_token")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    limit: int
    page_token: str
    def __init__(self, store_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStoreNotificationsResponse(_message.Message):
    __slots__ = ("notifications", "next_page_token")
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    notifications: _containers.RepeatedCompositeFieldContainer[StoreNotification]
    next_page_token: str
    def __init__(self, notifications: _Optional[_Iterable[_Union[StoreNotification, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdatePreferencesRequest(_message.Message):
    __slots__ = ("customer_id", "preferences")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    PREFERENCES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    preferences: Preferences
    def __init__(self, customer_id: _Optional[str] = ..., preferences: _Optional[_Union[Preferences, _Mapping]] = ...) -> None: ...

class UpdatePreferencesResponse(_message.Message):
    __slots__ = ("customer",)
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ...) -> None: ...

class LoyaltyEntry(_message.Message):
    __slots__ = ("entry_id", "reason", "reference_id", "points", "balance_after", "debt_after", "at")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    BALANCE_AFTER_FIELD_NUMBER: _ClassVar[int]
    DEBT_AFTER_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    entry_id: str
    reason: LoyaltyReason
    reference_id: str
    points: int
    balance_after: int
    debt_after: int
    at: _timestamp_pb2.Timestamp
    def __init__(self, entry_id: _Optional[str] = ..., reason: _Optional[_Union[LoyaltyReason, str]] = ..., reference_id: _Optional[str] = ..., points: _Optional[int] = ..., balance_after: _Optional[int] = ..., debt_after: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListLoyaltyHistoryRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ListLoyaltyHistoryResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LoyaltyEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[LoyaltyEntry, _Mapping]]] = ...) -> None: ...

class MergeRecord(_message.Message):
    __slots__ = ("merge_id", "survivor_customer_id", "duplicate_customer_id", "actor", "at")
    MERGE_ID_FIELD_NUMBER: _ClassVar[int]
    SURVIVOR_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    merge_id: str
    survivor_customer_id: str
    duplicate_customer_id: str
    actor: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, merge_id: _Optional[str] = ..., survivor_customer_id: _Optional[str] = ..., duplicate_customer_id: _Optional[str] = ..., actor: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExportCustomerRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ExportCustomerResponse(_message.Message):
    __slots__ = ("customer", "activities", "timeline", "cart", "loyalty_history", "notifications", "merges", "aliases")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ACTIVITIES_FIELD_NUMBER: _ClassVar[int]
    TIMELINE_FIELD_NUMBER: _ClassVar[int]
    CART_FIELD_NUMBER: _ClassVar[int]
    LOYALTY_HISTORY_FIELD_NUMBER: _ClassVar[int]
    NOTIFICATIONS_FIELD_NUMBER: _ClassVar[int]
    MERGES_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    activities: _containers.RepeatedCompositeFieldContainer[Activity]
    timeline: _containers.RepeatedCompositeFieldContainer[TimelineEvent]
    cart: Cart
    loyalty_history: _containers.RepeatedCompositeFieldContainer[LoyaltyEntry]
    notifications: _containers.RepeatedCompositeFieldContainer[Notification]
    merges: _containers.RepeatedCompositeFieldContainer[MergeRecord]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., activities: _Optional[_Iterable[_Union[Activity, _Mapping]]] = ..., timeline: _Optional[_Iterable[_Union[TimelineEvent, _Mapping]]] = ..., cart: _Optional[_Union[Cart, _Mapping]] = ..., loyalty_history: _Optional[_Iterable[_Union[LoyaltyEntry, _Mapping]]] = ..., notifications: _Optional[_Iterable[_Union[Notification, _Mapping]]] = ..., merges: _Optional[_Iterable[_Union[MergeRecord, _Mapping]]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...

class EraseCustomerRequest(_message.Message):
    __slots__ = ("customer_id", "actor")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    actor: str
    def __init__(self, customer_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class EraseCustomerResponse(_message.Message):
    __slots__ = ("customer", "aliases")
    CUSTOMER_FIELD_NUMBER: _ClassVar[int]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    customer: Customer
    aliases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer: _Optional[_Union[Customer, _Mapping]] = ..., aliases: _Optional[_Iterable[str]] = ...) -> None: ...
