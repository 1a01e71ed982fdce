import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from omni.common.v1 import common_pb2 as _common_pb2
from omni.payments.v1 import payments_pb2 as _payments_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PromotionKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROMOTION_KIND_UNSPECIFIED: _ClassVar[PromotionKind]
    PROMOTION_KIND_PERCENT_OFF: _ClassVar[PromotionKind]
    PROMOTION_KIND_AMOUNT_OFF: _ClassVar[PromotionKind]

class OrderStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ORDER_STATUS_UNSPECIFIED: _ClassVar[OrderStatus]
    ORDER_STATUS_PLACED: _ClassVar[OrderStatus]
    ORDER_STATUS_IN_FULFILLMENT: _ClassVar[OrderStatus]
    ORDER_STATUS_READY_FOR_PICKUP: _ClassVar[OrderStatus]
    ORDER_STATUS_PARTIALLY_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_SHIPPED: _ClassVar[OrderStatus]
    ORDER_STATUS_COMPLETED: _ClassVar[OrderStatus]
    ORDER_STATUS_CANCELLED: _ClassVar[OrderStatus]
    ORDER_STATUS_PENDING: _ClassVar[OrderStatus]
    ORDER_STATUS_REJECTED: _ClassVar[OrderStatus]

class FulfillmentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FULFILLMENT_STATUS_UNSPECIFIED: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_PENDING: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_PICKING: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_READY_FOR_PICKUP: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_PICKED_UP: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_SHIPPED: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_CANCELLED: _ClassVar[FulfillmentStatus]
    FULFILLMENT_STATUS_REROUTED: _ClassVar[FulfillmentStatus]

class ReturnStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_STATUS_UNSPECIFIED: _ClassVar[ReturnStatus]
    RETURN_STATUS_REQUESTED: _ClassVar[ReturnStatus]
    RETURN_STATUS_AWAITING_RECEIPT: _ClassVar[ReturnStatus]
    RETURN_STATUS_RECEIVED: _ClassVar[ReturnStatus]
    RETURN_STATUS_REFUNDED: _ClassVar[ReturnStatus]
    RETURN_STATUS_REJECTED: _ClassVar[ReturnStatus]
    RETURN_STATUS_EXPIRED: _ClassVar[ReturnStatus]
    RETURN_STATUS_REFUND_FAILED: _ClassVar[ReturnStatus]

class ReturnMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETURN_METHOD_UNSPECIFIED: _ClassVar[ReturnMethod]
    RETURN_METHOD_IN_STORE: _ClassVar[ReturnMethod]
    RETURN_METHOD_MAIL: _ClassVar[ReturnMethod]

class ItemCondition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ITEM_CONDITION_UNSPECIFIED: _ClassVar[ItemCondition]
    ITEM_CONDITION_SELLABLE: _ClassVar[ItemCondition]
    ITEM_CONDITION_DAMAGED: _ClassVar[ItemCondition]

class RefundMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_METHOD_UNSPECIFIED: _ClassVar[RefundMethod]
    REFUND_METHOD_ORIGINAL: _ClassVar[RefundMethod]
    REFUND_METHOD_STORE_CREDIT: _ClassVar[RefundMethod]

class RefundStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUND_STATUS_UNSPECIFIED: _ClassVar[RefundStatus]
    REFUND_STATUS_PENDING: _ClassVar[RefundStatus]
    REFUND_STATUS_SUCCEEDED: _ClassVar[RefundStatus]
    REFUND_STATUS_FAILED: _ClassVar[RefundStatus]

class TaskType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TASK_TYPE_UNSPECIFIED: _ClassVar[TaskType]
    TASK_TYPE_PICK: _ClassVar[TaskType]
    TASK_TYPE_PICKUP: _ClassVar[TaskType]
    TASK_TYPE_RETURN: _ClassVar[TaskType]
PROMOTION_KIND_UNSPECIFIED: PromotionKind
PROMOTION_KIND_PERCENT_OFF: PromotionKind
PROMOTION_KIND_AMOUNT_OFF: PromotionKind
ORDER_STATUS_UNSPECIFIED: OrderStatus
ORDER_STATUS_PLACED: OrderStatus
ORDER_STATUS_IN_FULFILLMENT: OrderStatus
ORDER_STATUS_READY_FOR_PICKUP: OrderStatus
ORDER_STATUS_PARTIALLY_SHIPPED: OrderStatus
ORDER_STATUS_SHIPPED: OrderStatus
ORDER_STATUS_COMPLETED: OrderStatus
ORDER_STATUS_CANCELLED: OrderStatus
ORDER_STATUS_PENDING: OrderStatus
ORDER_STATUS_REJECTED: OrderStatus
FULFILLMENT_STATUS_UNSPECIFIED: FulfillmentStatus
FULFILLMENT_STATUS_PENDING: FulfillmentStatus
FULFILLMENT_STATUS_PICKING: FulfillmentStatus
FULFILLMENT_STATUS_READY_FOR_PICKUP: FulfillmentStatus
FULFILLMENT_STATUS_PICKED_UP: FulfillmentStatus
FULFILLMENT_STATUS_SHIPPED: FulfillmentStatus
FULFILLMENT_STATUS_CANCELLED: FulfillmentStatus
FULFILLMENT_STATUS_REROUTED: FulfillmentStatus
RETURN_STATUS_UNSPECIFIED: ReturnStatus
RETURN_STATUS_REQUESTED: ReturnStatus
RETURN_STATUS_AWAITING_RECEIPT: ReturnStatus
RETURN_STATUS_RECEIVED: ReturnStatus
RETURN_STATUS_REFUNDED: ReturnStatus
RETURN_STATUS_REJECTED: ReturnStatus
RETURN_STATUS_EXPIRED: ReturnStatus
RETURN_STATUS_REFUND_FAILED: ReturnStatus
RETURN_METHOD_UNSPECIFIED: ReturnMethod
RETURN_METHOD_IN_STORE: ReturnMethod
RETURN_METHOD_MAIL: ReturnMethod
ITEM_CONDITION_UNSPECIFIED: ItemCondition
ITEM_CONDITION_SELLABLE: ItemCondition
ITEM_CONDITION_DAMAGED: ItemCondition
REFUND_METHOD_UNSPECIFIED: RefundMethod
REFUND_METHOD_ORIGINAL: RefundMethod
REFUND_METHOD_STORE_CREDIT: RefundMethod
REFUND_STATUS_UNSPECIFIED: RefundStatus
REFUND_STATUS_PENDING: RefundStatus
REFUND_STATUS_SUCCEEDED: RefundStatus
REFUND_STATUS_FAILED: RefundStatus
TASK_TYPE_UNSPECIFIED: TaskType
TASK_TYPE_PICK: TaskType
TASK_TYPE_PICKUP: TaskType
TASK_TYPE_RETURN: TaskType

class ChangeShippingAddressRequest(_message.Message):
    __slots__ = ("order_id", "address", "actor", "idempotency_key")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    address: _common_pb2.Address
    actor: str
    idempotency_key: str
    def __init__(self, order_id: _Optional[str] = ..., address: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ChangeShippingAddressResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class SubmitOrderPaymentRequest(_message.Message):
    __slots__ = ("order_id", "tenders", "actor", "idempotency_key")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TENDERS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    tenders: _containers.RepeatedCompositeFieldContainer[_payments_pb2.Tender]
    actor: str
    idempotency_key: str
    def __init__(self, order_id: _Optional[str] = ..., tenders: _Optional[_Iterable[_Union[_payments_pb2.Tender, _Mapping]]] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class SubmitOrderPaymentResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class OrderLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price", "returnable_days", "returned_quantity", "discount", "tax", "total", "quantity_cancelled")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    RETURNABLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    RETURNED_QUANTITY_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price: _common_pb2.Money
    returnable_days: int
    returned_quantity: int
    discount: _common_pb2.Money
    tax: _common_pb2.Money
    total: _common_pb2.Money
    quantity_cancelled: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., returnable_days: _Optional[int] = ..., returned_quantity: _Optional[int] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., quantity_cancelled: _Optional[int] = ...) -> None: ...

class Totals(_message.Message):
    __slots__ = ("subtotal", "discount", "shipping", "tax", "total", "shipping_tax")
    SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_TAX_FIELD_NUMBER: _ClassVar[int]
    subtotal: _common_pb2.Money
    discount: _common_pb2.Money
    shipping: _common_pb2.Money
    tax: _common_pb2.Money
    total: _common_pb2.Money
    shipping_tax: _common_pb2.Money
    def __init__(self, subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., shipping: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., shipping_tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class AppliedPromotion(_message.Message):
    __slots__ = ("promotion_id", "name", "code", "discount")
    PROMOTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    promotion_id: str
    name: str
    code: str
    discount: _common_pb2.Money
    def __init__(self, promotion_id: _Optional[str] = ..., name: _Optional[str] = ..., code: _Optional[str] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class FulfillmentRequest(_message.Message):
    __slots__ = ("type", "location_id", "address", "shipping_method")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_METHOD_FIELD_NUMBER: _ClassVar[int]
    type: _common_pb2.FulfillmentType
    location_id: str
    address: _common_pb2.Address
    shipping_method: str
    def __init__(self, type: _Optional[_Union[_common_pb2.FulfillmentType, str]] = ..., location_id: _Optional[str] = ..., address: _Optional[_Union[_common_pb2.Address, _Mapping]] = ..., shipping_method: _Optional[str] = ...) -> None: ...

class FulfillmentLine(_message.Message):
    __slots__ = ("sku", "quantity", "quantity_picked")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_PICKED_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    quantity_picked: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., quantity_picked: _Optional[int] = ...) -> None: ...

class Tracking(_message.Message):
    __slots__ = ("carrier", "tracking_number")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    tracking_number: str
    def __init__(self, carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ...) -> None: ...

class Fulfillment(_message.Message):
    __slots__ = ("fulfillment_id", "order_id", "type", "location_id", "status", "lines", "pickup_code", "tracking", "updated_at", "arrived_at", "arrival_note", "overdue")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    PICKUP_CODE_FIELD_NUMBER: _ClassVar[int]
    TRACKING_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_NOTE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    order_id: str
    type: _common_pb2.FulfillmentType
    location_id: str
    status: FulfillmentStatus
    lines: _containers.RepeatedCompositeFieldContainer[FulfillmentLine]
    pickup_code: str
    tracking: Tracking
    updated_at: _timestamp_pb2.Timestamp
    arrived_at: _timestamp_pb2.Timestamp
    arrival_note: str
    overdue: bool
    def __init__(self, fulfillment_id: _Optional[str] = ..., order_id: _Optional[str] = ..., type: _Optional[_Union[_common_pb2.FulfillmentType, str]] = ..., location_id: _Optional[str] = ..., status: _Optional[_Union[FulfillmentStatus, str]] = ..., lines: _Optional[_Iterable[_Union[FulfillmentLine, _Mapping]]] = ..., pickup_code: _Optional[str] = ..., tracking: _Optional[_Union[Tracking, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., arrival_note: _Optional[str] = ..., overdue: _Optional[bool] = ...) -> None: ...

class OrderEvent(_message.Message):
    __slots__ = ("at", "type", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    type: str
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., type: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class Order(_message.Message):
    __slots__ = ("order_id", "customer_id", "channel", "status", "lines", "fulfillment_request", "fulfillments", "events", "workflow_id", "total", "associate_id", "store_id", "referral_associate_id", "created_at", "totals", "promotions_applied", "tax_rule", "shipping_method", "coupon_codes", "credited_associate_id", "exchange_for")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_REQUEST_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENTS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    PROMOTIONS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    TAX_RULE_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_METHOD_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    CREDITED_ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FOR_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    customer_id: str
    channel: _common_pb2.Channel
    status: OrderStatus
    lines: _containers.RepeatedCompositeFieldContainer[OrderLine]
    fulfillment_request: FulfillmentRequest
    fulfillments: _containers.RepeatedCompositeFieldContainer[Fulfillment]
    events: _containers.RepeatedCompositeFieldContainer[OrderEvent]
    workflow_id: str
    total: _common_pb2.Money
    associate_id: str
    store_id: str
    referral_associate_id: str
    created_at: _timestamp_pb2.Timestamp
    totals: Totals
    promotions_applied: _containers.RepeatedCompositeFieldContainer[AppliedPromotion]
    tax_rule: str
    shipping_method: str
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    credited_associate_id: str
    exchange_for: str
    def __init__(self, order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., lines: _Optional[_Iterable[_Union[OrderLine, _Mapping]]] = ..., fulfillment_request: _Optional[_Union[FulfillmentRequest, _Mapping]] = ..., fulfillments: _Optional[_Iterable[_Union[Fulfillment, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[OrderEvent, _Mapping]]] = ..., workflow_id: _Optional[str] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., associate_id: _Optional[str] = ..., store_id: _Optional[str] = ..., referral_associate_id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., totals: _Optional[_Union[Totals, _Mapping]] = ..., promotions_applied: _Optional[_Iterable[_Union[AppliedPromotion, _Mapping]]] = ..., tax_rule: _Optional[str] = ..., shipping_method: _Optional[str] = ..., coupon_codes: _Optional[_Iterable[str]] = ..., credited_associate_id: _Optional[str] = ..., exchange_for: _Optional[str] = ...) -> None: ...

class PlaceOrderRequest(_message.Message):
    __slots__ = ("idempotency_key", "customer_id", "channel", "lines", "fulfillment", "tenders", "associate_id", "store_id", "referral_associate_id", "coupon_codes")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    TENDERS_FIELD_NUMBER: _ClassVar[int]
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    REFERRAL_ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    customer_id: str
    channel: _common_pb2.Channel
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    fulfillment: FulfillmentRequest
    tenders: _containers.RepeatedCompositeFieldContainer[_payments_pb2.Tender]
    associate_id: str
    store_id: str
    referral_associate_id: str
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, idempotency_key: _Optional[str] = ..., customer_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., fulfillment: _Optional[_Union[FulfillmentRequest, _Mapping]] = ..., tenders: _Optional[_Iterable[_Union[_payments_pb2.Tender, _Mapping]]] = ..., associate_id: _Optional[str] = ..., store_id: _Optional[str] = ..., referral_associate_id: _Optional[str] = ..., coupon_codes: _Optional[_Iterable[str]] = ...) -> None: ...

class PlaceOrderResponse(_message.Message):
    __slots__ = ("order", "payments")
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    order: Order
    payments: _containers.RepeatedCompositeFieldContainer[_payments_pb2.Payment]
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ..., payments: _Optional[_Iterable[_Union[_payments_pb2.Payment, _Mapping]]] = ...) -> None: ...

class GetOrderRequest(_message.Message):
    __slots__ = ("order_id",)
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    def __init__(self, order_id: _Optional[str] = ...) -> None: ...

class GetOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class CancelOrderRequest(_message.Message):
    __slots__ = ("order_id", "reason", "actor", "idempotency_key")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    reason: str
    actor: str
    idempotency_key: str
    def __init__(self, order_id: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CancelOrderResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class CancelOrderLinesRequest(_message.Message):
    __slots__ = ("order_id", "lines", "reason", "actor", "idempotency_key")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    order_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    reason: str
    actor: str
    idempotency_key: str
    def __init__(self, order_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CancelOrderLinesResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class StoreTask(_message.Message):
    __slots__ = ("type", "fulfillment_id", "return_id", "order_id", "fulfillment_status", "lines", "since", "arrived_at", "arrival_note", "return_status", "overdue")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_STATUS_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    ARRIVED_AT_FIELD_NUMBER: _ClassVar[int]
    ARRIVAL_NOTE_FIELD_NUMBER: _ClassVar[int]
    RETURN_STATUS_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    type: TaskType
    fulfillment_id: str
    return_id: str
    order_id: str
    fulfillment_status: FulfillmentStatus
    lines: _containers.RepeatedCompositeFieldContainer[FulfillmentLine]
    since: _timestamp_pb2.Timestamp
    arrived_at: _timestamp_pb2.Timestamp
    arrival_note: str
    return_status: ReturnStatus
    overdue: bool
    def __init__(self, type: _Optional[_Union[TaskType, str]] = ..., fulfillment_id: _Optional[str] = ..., return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., fulfillment_status: _Optional[_Union[FulfillmentStatus, str]] = ..., lines: _Optional[_Iterable[_Union[FulfillmentLine, _Mapping]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., arrived_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., arrival_note: _Optional[str] = ..., return_status: _Optional[_Union[ReturnStatus, str]] = ..., overdue: _Optional[bool] = ...) -> None: ...

class ListStoreTasksRequest(_message.Message):
    __slots__ = ("store_id", "type", "limit", "page_token")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    type: TaskType
    limit: int
    page_token: str
    def __init__(self, store_id: _Optional[str] = ..., type: _Optional[_Union[TaskType, str]] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListStoreTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_page_token")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[StoreTask]
    next_page_token: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[StoreTask, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetFulfillmentRequest(_message.Message):
    __slots__ = ("fulfillment_id",)
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    def __init__(self, fulfillment_id: _Optional[str] = ...) -> None: ...

class GetFulfillmentResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class PickFulfillmentRequest(_message.Message):
    __slots__ = ("fulfillment_id", "lines", "actor", "idempotency_key")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    actor: str
    idempotency_key: str
    def __init__(self, fulfillment_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class PickFulfillmentResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class HandoverFulfillmentRequest(_message.Message):
    __slots__ = ("fulfillment_id", "pickup_code", "actor", "idempotency_key", "lines")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    PICKUP_CODE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    pickup_code: str
    actor: str
    idempotency_key: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    def __init__(self, fulfillment_id: _Optional[str] = ..., pickup_code: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ...) -> None: ...

class HandoverFulfillmentResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class ShipFulfillmentRequest(_message.Message):
    __slots__ = ("fulfillment_id", "carrier", "tracking_number", "actor", "idempotency_key")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    TRACKING_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    carrier: str
    tracking_number: str
    actor: str
    idempotency_key: str
    def __init__(self, fulfillment_id: _Optional[str] = ..., carrier: _Optional[str] = ..., tracking_number: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ShipFulfillmentResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class RejectFulfillmentRequest(_message.Message):
    __slots__ = ("fulfillment_id", "reason", "actor", "idempotency_key")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    reason: str
    actor: str
    idempotency_key: str
    def __init__(self, fulfillment_id: _Optional[str] = ..., reason: _Optional[str] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class RejectFulfillmentResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class MarkCustomerArrivedRequest(_message.Message):
    __slots__ = ("fulfillment_id", "note", "actor")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    note: str
    actor: str
    def __init__(self, fulfillment_id: _Optional[str] = ..., note: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class MarkCustomerArrivedResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class IssuePickupCodeRequest(_message.Message):
    __slots__ = ("fulfillment_id", "actor")
    FULFILLMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    fulfillment_id: str
    actor: str
    def __init__(self, fulfillment_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class IssuePickupCodeResponse(_message.Message):
    __slots__ = ("fulfillment",)
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    fulfillment: Fulfillment
    def __init__(self, fulfillment: _Optional[_Union[Fulfillment, _Mapping]] = ...) -> None: ...

class ReturnLine(_message.Message):
    __slots__ = ("sku", "quantity", "condition")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    condition: ItemCondition
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., condition: _Optional[_Union[ItemCondition, str]] = ...) -> None: ...

class Refund(_message.Message):
    __slots__ = ("payment_id", "tender_type", "amount", "status")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    TENDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    tender_type: _payments_pb2.TenderType
    amount: _common_pb2.Money
    status: RefundStatus
    def __init__(self, payment_id: _Optional[str] = ..., tender_type: _Optional[_Union[_payments_pb2.TenderType, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., status: _Optional[_Union[RefundStatus, str]] = ...) -> None: ...

class Return(_message.Message):
    __slots__ = ("return_id", "order_id", "customer_id", "status", "method", "location_id", "lines", "refund", "refunds", "events", "workflow_id", "channel", "created_at", "refund_method", "replacement_order_id", "label")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REFUND_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    REFUND_METHOD_FIELD_NUMBER: _ClassVar[int]
    REPLACEMENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    customer_id: str
    status: ReturnStatus
    method: ReturnMethod
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    refund: _common_pb2.Money
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    events: _containers.RepeatedCompositeFieldContainer[OrderEvent]
    workflow_id: str
    channel: _common_pb2.Channel
    created_at: _timestamp_pb2.Timestamp
    refund_method: RefundMethod
    replacement_order_id: str
    label: ReturnLabel
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., customer_id: _Optional[str] = ..., status: _Optional[_Union[ReturnStatus, str]] = ..., method: _Optional[_Union[ReturnMethod, str]] = ..., location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., refund: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ..., events: _Optional[_Iterable[_Union[OrderEvent, _Mapping]]] = ..., workflow_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refund_method: _Optional[_Union[RefundMethod, str]] = ..., replacement_order_id: _Optional[str] = ..., label: _Optional[_Union[ReturnLabel, _Mapping]] = ...) -> None: ...

class ReturnLabel(_message.Message):
    __slots__ = ("carrier", "reference")
    CARRIER_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    carrier: str
    reference: str
    def __init__(self, carrier: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class CreateReturnRequest(_message.Message):
    __slots__ = ("idempotency_key", "order_id", "lines", "method", "location_id", "channel", "actor", "refund_method", "exchange")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REFUND_METHOD_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    order_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    method: ReturnMethod
    location_id: str
    channel: _common_pb2.Channel
    actor: str
    refund_method: RefundMethod
    exchange: ExchangeRequest
    def __init__(self, idempotency_key: _Optional[str] = ..., order_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., method: _Optional[_Union[ReturnMethod, str]] = ..., location_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., actor: _Optional[str] = ..., refund_method: _Optional[_Union[RefundMethod, str]] = ..., exchange: _Optional[_Union[ExchangeRequest, _Mapping]] = ...) -> None: ...

class ExchangeRequest(_message.Message):
    __slots__ = ("lines", "fulfillment")
    LINES_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    fulfillment: FulfillmentRequest
    def __init__(self, lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., fulfillment: _Optional[_Union[FulfillmentRequest, _Mapping]] = ...) -> None: ...

class PlaceExchangeRequest(_message.Message):
    __slots__ = ("return_id", "order_id", "credits")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    CREDITS_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    order_id: str
    credits: _containers.RepeatedCompositeFieldContainer[_payments_pb2.Tender]
    def __init__(self, return_id: _Optional[str] = ..., order_id: _Optional[str] = ..., credits: _Optional[_Iterable[_Union[_payments_pb2.Tender, _Mapping]]] = ...) -> None: ...

class PlaceExchangeResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class CreateReturnResponse(_message.Message):
    __slots__ = ()
    RETURN_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class GetReturnRequest(_message.Message):
    __slots__ = ("return_id",)
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    def __init__(self, return_id: _Optional[str] = ...) -> None: ...

class GetReturnResponse(_message.Message):
    __slots__ = ()
    RETURN_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class ReceiveReturnRequest(_message.Message):
    __slots__ = ("return_id", "location_id", "lines", "actor", "idempotency_key")
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    return_id: str
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[ReturnLine]
    actor: str
    idempotency_key: str
    def __init__(self, return_id: _Optional[str] = ..., location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[ReturnLine, _Mapping]]] = ..., actor: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReceiveReturnResponse(_message.Message):
    __slots__ = ()
    RETURN_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class RecordOrderProgressRequest(_message.Message):
    __slots__ = ("event_id", "order_id", "status", "fulfillments", "event")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENTS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    order_id: str
    status: OrderStatus
    fulfillments: _containers.RepeatedCompositeFieldContainer[Fulfillment]
    event: OrderEvent
    def __init__(self, event_id: _Optional[str] = ..., order_id: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., fulfillments: _Optional[_Iterable[_Union[Fulfillment, _Mapping]]] = ..., event: _Optional[_Union[OrderEvent, _Mapping]] = ...) -> None: ...

class RecordOrderProgressResponse(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: Order
    def __init__(self, order: _Optional[_Union[Order, _Mapping]] = ...) -> None: ...

class RecordReturnProgressRequest(_message.Message):
    __slots__ = ("event_id", "return_id", "status", "refunds", "event")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RETURN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REFUNDS_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    return_id: str
    status: ReturnStatus
    refunds: _containers.RepeatedCompositeFieldContainer[Refund]
    event: OrderEvent
    def __init__(self, event_id: _Optional[str] = ..., return_id: _Optional[str] = ..., status: _Optional[_Union[ReturnStatus, str]] = ..., refunds: _Optional[_Iterable[_Union[Refund, _Mapping]]] = ..., event: _Optional[_Union[OrderEvent, _Mapping]] = ...) -> None: ...

class RecordReturnProgressResponse(_message.Message):
    __slots__ = ()
    RETURN_FIELD_NUMBER: _ClassVar[int]
    def __init__(self, **kwargs) -> None: ...

class ErasePersonalDataRequest(_message.Message):
    __slots__ = ("customer_ids",)
    CUSTOMER_IDS_FIELD_NUMBER: _ClassVar[int]
    customer_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ErasePersonalDataResponse(_message.Message):
    __slots__ = ("orders_erased",)
    ORDERS_ERASED_FIELD_NUMBER: _ClassVar[int]
    orders_erased: int
    def __init__(self, orders_erased: _Optional[int] = ...) -> None: ...

class Promotion(_message.Message):
    __slots__ = ("promotion_id", "name", "kind", "value", "currency", "skus", "channels", "code", "min_subtotal", "starts_at", "ends_at", "ended_at")
    PROMOTION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    SKUS_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MIN_SUBTOTAL_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_FIELD_NUMBER: _ClassVar[int]
    promotion_id: str
    name: str
    kind: PromotionKind
    value: int
    currency: str
    skus: _containers.RepeatedScalarFieldContainer[str]
    channels: _containers.RepeatedScalarFieldContainer[_common_pb2.Channel]
    code: str
    min_subtotal: _common_pb2.Money
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    ended_at: _timestamp_pb2.Timestamp
    def __init__(self, promotion_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[PromotionKind, str]] = ..., value: _Optional[int] = ..., currency: _Optional[str] = ..., skus: _Optional[_Iterable[str]] = ..., channels: _Optional[_Iterable[_Union[_common_pb2.Channel, str]]] = ..., code: _Optional[str] = ..., min_subtotal: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ended_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TaxRegion(_message.Message):
    __slots__ = ("region", "name", "rate_bps")
    REGION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RATE_BPS_FIELD_NUMBER: _ClassVar[int]
    region: str
    name: str
    rate_bps: int
    def __init__(self, region: _Optional[str] = ..., name: _Optional[str] = ..., rate_bps: _Optional[int] = ...) -> None: ...

class ShippingMethod(_message.Message):
    __slots__ = ("method_id", "name", "price", "free_over", "countries")
    METHOD_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    FREE_OVER_FIELD_NUMBER: _ClassVar[int]
    COUNTRIES_FIELD_NUMBER: _ClassVar[int]
    method_id: str
    name: str
    price: _common_pb2.Money
    free_over: _common_pb2.Money
    countries: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, method_id: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., free_over: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., countries: _Optional[_Iterable[str]] = ...) -> None: ...

class QuotedLine(_message.Message):
    __slots__ = ("sku", "quantity", "unit_price", "discount", "tax", "total")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    UNIT_PRICE_FIELD_NUMBER: _ClassVar[int]
    DISCOUNT_FIELD_NUMBER: _ClassVar[int]
    TAX_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    unit_price: _common_pb2.Money
    discount: _common_pb2.Money
    tax: _common_pb2.Money
    total: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ..., unit_price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., discount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., tax: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., total: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class Quote(_message.Message):
    __slots__ = ("lines", "totals", "promotions_applied", "tax_rule", "shipping_method")
    LINES_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    PROMOTIONS_APPLIED_FIELD_NUMBER: _ClassVar[int]
    TAX_RULE_FIELD_NUMBER: _ClassVar[int]
    SHIPPING_METHOD_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[QuotedLine]
    totals: Totals
    promotions_applied: _containers.RepeatedCompositeFieldContainer[AppliedPromotion]
    tax_rule: str
    shipping_method: str
    def __init__(self, lines: _Optional[_Iterable[_Union[QuotedLine, _Mapping]]] = ..., totals: _Optional[_Union[Totals, _Mapping]] = ..., promotions_applied: _Optional[_Iterable[_Union[AppliedPromotion, _Mapping]]] = ..., tax_rule: _Optional[str] = ..., shipping_method: _Optional[str] = ...) -> None: ...

class QuoteBasketRequest(_message.Message):
    __slots__ = ("customer_id", "channel", "lines", "fulfillment", "coupon_codes")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_FIELD_NUMBER: _ClassVar[int]
    COUPON_CODES_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    channel: _common_pb2.Channel
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    fulfillment: FulfillmentRequest
    coupon_codes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, customer_id: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., fulfillment: _Optional[_Union[FulfillmentRequest, _Mapping]] = ..., coupon_codes: _Optional[_Iterable[str]] = ...) -> None: ...

class QuoteBasketResponse(_message.Message):
    __slots__ = ("quote",)
    QUOTE_FIELD_NUMBER: _ClassVar[int]
    quote: Quote
    def __init__(self, quote: _Optional[_Union[Quote, _Mapping]] = ...) -> None: ...

class CreatePromotionRequest(_message.Message):
    __slots__ = ("promotion", "idempotency_key")
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    idempotency_key: str
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class CreatePromotionResponse(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ...) -> None: ...

class ListPromotionsRequest(_message.Message):
    __slots__ = ("limit", "page_token")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    limit: int
    page_token: str
    def __init__(self, limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPromotionsResponse(_message.Message):
    __slots__ = ("promotions", "next_page_token")
    PROMOTIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    promotions: _containers.RepeatedCompositeFieldContainer[Promotion]
    next_page_token: str
    def __init__(self, promotions: _Optional[_Iterable[_Union[Promotion, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class EndPromotionRequest(_message.Message):
    __slots__ = ("promotion_id",)
    PROMOTION_ID_FIELD_NUMBER: _ClassVar[int]
    promotion_id: str
    def __init__(self, promotion_id: _Optional[str] = ...) -> None: ...

class EndPromotionResponse(_message.Message):
    __slots__ = ("promotion",)
    PROMOTION_FIELD_NUMBER: _ClassVar[int]
    promotion: Promotion
    def __init__(self, promotion: _Optional[_Union[Promotion, _Mapping]] = ...) -> None: ...

class PutTaxRegionRequest(_message.Message):
    __slots__ = ("tax_region",)
    TAX_REGION_FIELD_NUMBER: _ClassVar[int]
    tax_region: TaxRegion
    def __init__(self, tax_region: _Optional[_Union[TaxRegion, _Mapping]] = ...) -> None: ...

class PutTaxRegionResponse(_message.Message):
    __slots__ = ("tax_region",)
    TAX_REGION_FIELD_NUMBER: _ClassVar[int]
    tax_region: TaxRegion
    def __init__(self, tax_region: _Optional[_Union[TaxRegion, _Mapping]] = ...) -> None: ...

class CreateShippingMethodRequest(_message.Message):
    __slots__ = ("shipping_method",)
    SHIPPING_METHOD_FIELD_NUMBER: _ClassVar[int]
    shipping_method: ShippingMethod
    def __init__(self, shipping_method: _Optional[_Union[ShippingMethod, _Mapping]] = ...) -> None: ...

class CreateShippingMethodResponse(_message.Message):
    __slots__ = ("shipping_method",)
    SHIPPING_METHOD_FIELD_NUMBER: _ClassVar[int]
    shipping_method: ShippingMethod
    def __init__(self, shipping_method: _Optional[_Union[ShippingMethod, _Mapping]] = ...) -> None: ...

class ListShippingMethodsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListShippingMethodsResponse(_message.Message):
    __slots__ = ("shipping_methods",)
    SHIPPING_METHODS_FIELD_NUMBER: _ClassVar[int]
    shipping_methods: _containers.RepeatedCompositeFieldContainer[ShippingMethod]
    def __init__(self, shipping_methods: _Optional[_Iterable[_Union[ShippingMethod, _Mapping]]] = ...) -> None: ...

class Associate(_message.Message):
    __slots__ = ("associate_id", "name", "store_id", "active", "created_at", "deactivated_at")
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DEACTIVATED_AT_FIELD_NUMBER: _ClassVar[int]
    associate_id: str
    name: str
    store_id: str
    active: bool
    created_at: _timestamp_pb2.Timestamp
    deactivated_at: _timestamp_pb2.Timestamp
    def __init__(self, associate_id: _Optional[str] = ..., name: _Optional[str] = ..., store_id: _Optional[str] = ..., active: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deactivated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAssociateRequest(_message.Message):
    __slots__ = ("associate",)
    ASSOCIATE_FIELD_NUMBER: _ClassVar[int]
    associate: Associate
    def __init__(self, associate: _Optional[_Union[Associate, _Mapping]] = ...) -> None: ...

class CreateAssociateResponse(_message.Message):
    __slots__ = ("associate", "created")
    ASSOCIATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    associate: Associate
    created: bool
    def __init__(self, associate: _Optional[_Union[Associate, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetAssociateRequest(_message.Message):
    __slots__ = ("associate_id",)
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    associate_id: str
    def __init__(self, associate_id: _Optional[str] = ...) -> None: ...

class GetAssociateResponse(_message.Message):
    __slots__ = ("associate",)
    ASSOCIATE_FIELD_NUMBER: _ClassVar[int]
    associate: Associate
    def __init__(self, associate: _Optional[_Union[Associate, _Mapping]] = ...) -> None: ...

class ListAssociatesRequest(_message.Message):
    __slots__ = ("store_id", "limit", "page_token")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    limit: int
    page_token: str
    def __init__(self, store_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAssociatesResponse(_message.Message):
    __slots__ = ("associates", "next_page_token")
    ASSOCIATES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    associates: _containers.RepeatedCompositeFieldContainer[Associate]
    next_page_token: str
    def __init__(self, associates: _Optional[_Iterable[_Union[Associate, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeactivateAssociateRequest(_message.Message):
    __slots__ = ("associate_id",)
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    associate_id: str
    def __init__(self, associate_id: _Optional[str] = ...) -> None: ...

class DeactivateAssociateResponse(_message.Message):
    __slots__ = ("associate",)
    ASSOCIATE_FIELD_NUMBER: _ClassVar[int]
    associate: Associate
    def __init__(self, associate: _Optional[_Union[Associate, _Mapping]] = ...) -> None: ...

class SalesFigures(_message.Message):
    __slots__ = ("orders_credited", "gross", "returned", "net")
    ORDERS_CREDITED_FIELD_NUMBER: _ClassVar[int]
    GROSS_FIELD_NUMBER: _ClassVar[int]
    RETURNED_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    orders_credited: int
    gross: _common_pb2.Money
    returned: _common_pb2.Money
    net: _common_pb2.Money
    def __init__(self, orders_credited: _Optional[int] = ..., gross: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., returned: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., net: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ChannelSales(_message.Message):
    __slots__ = ("channel", "figures")
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    channel: _common_pb2.Channel
    figures: SalesFigures
    def __init__(self, channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., figures: _Optional[_Union[SalesFigures, _Mapping]] = ...) -> None: ...

class StaffSales(_message.Message):
    __slots__ = ("associate_id", "name", "store_id", "total", "channels")
    ASSOCIATE_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    CHANNELS_FIELD_NUMBER: _ClassVar[int]
    associate_id: str
    name: str
    store_id: str
    total: SalesFigures
    channels: _containers.RepeatedCompositeFieldContainer[ChannelSales]
    def __init__(self, associate_id: _Optional[str] = ..., name: _Optional[str] = ..., store_id: _Optional[str] = ..., total: _Optional[_Union[SalesFigures, _Mapping]] = ..., channels: _Optional[_Iterable[_Union[ChannelSales, _Mapping]]] = ...) -> None: ...

class GetStaffSalesRequest(_message.Message):
    __slots__ = ("store_id", "period_start", "period_end")
    STORE_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    store_id: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    def __init__(self, store_id: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetStaffSalesResponse(_message.Message):
    __slots__ = ("associates", "currency")
    ASSOCIATES_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    associates: _containers.RepeatedCompositeFieldContainer[StaffSales]
    currency: str
    def __init__(self, associates: _Optional[_Iterable[_Union[StaffSales, _Mapping]]] = ..., currency: _Optional[str] = ...) -> None: ...

class ListOrdersRequest(_message.Message):
    __slots__ = ("customer_id", "status", "location_id", "limit", "page_token")
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    status: OrderStatus
    location_id: str
    limit: int
    page_token: str
    def __init__(self, customer_id: _Optional[str] = ..., status: _Optional[_Union[OrderStatus, str]] = ..., location_id: _Optional[str] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrdersResponse(_message.Message):
    __slots__ = ("orders", "next_page_token")
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    next_page_token: str
    def __init__(self, orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
