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

class LocationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LOCATION_KIND_UNSPECIFIED: _ClassVar[LocationKind]
    LOCATION_KIND_STORE: _ClassVar[LocationKind]
    LOCATION_KIND_WAREHOUSE: _ClassVar[LocationKind]

class StockMovementReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STOCK_MOVEMENT_REASON_UNSPECIFIED: _ClassVar[StockMovementReason]
    STOCK_MOVEMENT_REASON_RECEIPT: _ClassVar[StockMovementReason]
    STOCK_MOVEMENT_REASON_POS_SALE: _ClassVar[StockMovementReason]
    STOCK_MOVEMENT_REASON_CYCLE_COUNT: _ClassVar[StockMovementReason]
    STOCK_MOVEMENT_REASON_DAMAGE: _ClassVar[StockMovementReason]
    STOCK_MOVEMENT_REASON_RETURN_RESTOCK: _ClassVar[StockMovementReason]
    STOCK_MOVEMENT_REASON_COMMIT: _ClassVar[StockMovementReason]

class ReservationStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESERVATION_STATUS_UNSPECIFIED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_ACTIVE: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_COMMITTED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_RELEASED: _ClassVar[ReservationStatus]
    RESERVATION_STATUS_EXPIRED: _ClassVar[ReservationStatus]
LOCATION_KIND_UNSPECIFIED: LocationKind
LOCATION_KIND_STORE: LocationKind
LOCATION_KIND_WAREHOUSE: LocationKind
STOCK_MOVEMENT_REASON_UNSPECIFIED: StockMovementReason
STOCK_MOVEMENT_REASON_RECEIPT: StockMovementReason
STOCK_MOVEMENT_REASON_POS_SALE: StockMovementReason
STOCK_MOVEMENT_REASON_CYCLE_COUNT: StockMovementReason
STOCK_MOVEMENT_REASON_DAMAGE: StockMovementReason
STOCK_MOVEMENT_REASON_RETURN_RESTOCK: StockMovementReason
STOCK_MOVEMENT_REASON_COMMIT: StockMovementReason
RESERVATION_STATUS_UNSPECIFIED: ReservationStatus
RESERVATION_STATUS_ACTIVE: ReservationStatus
RESERVATION_STATUS_COMMITTED: ReservationStatus
RESERVATION_STATUS_RELEASED: ReservationStatus
RESERVATION_STATUS_EXPIRED: ReservationStatus

class Location(_message.Message):
    __slots__ = ("location_id", "name", "kind", "point", "pickup_enabled", "ship_from_enabled", "daily_order_capacity", "pickup_window_hours", "pick_sla_minutes", "tax_region", "timezone", "curbside_sla_minutes")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    PICKUP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    SHIP_FROM_ENABLED_FIELD_NUMBER: _ClassVar[int]
    DAILY_ORDER_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PICKUP_WINDOW_HOURS_FIELD_NUMBER: _ClassVar[int]
    PICK_SLA_MINUTES_FIELD_NUMBER: _ClassVar[int]
    TAX_REGION_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    CURBSIDE_SLA_MINUTES_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    name: str
    kind: LocationKind
    point: _common_pb2.GeoPoint
    pickup_enabled: bool
    ship_from_enabled: bool
    daily_order_capacity: int
    pickup_window_hours: float
    pick_sla_minutes: float
    tax_region: str
    timezone: str
    curbside_sla_minutes: float
    def __init__(self, location_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[LocationKind, str]] = ..., point: _Optional[_Union[_common_pb2.GeoPoint, _Mapping]] = ..., pickup_enabled: _Optional[bool] = ..., ship_from_enabled: _Optional[bool] = ..., daily_order_capacity: _Optional[int] = ..., pickup_window_hours: _Optional[float] = ..., pick_sla_minutes: _Optional[float] = ..., tax_region: _Optional[str] = ..., timezone: _Optional[str] = ..., curbside_sla_minutes: _Optional[float] = ...) -> None: ...

class Product(_message.Message):
    __slots__ = ("sku", "name", "price", "returnable_days", "inactive", "channel_prices")
    class ChannelPricesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _common_pb2.Money
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    RETURNABLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    INACTIVE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_PRICES_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    price: _common_pb2.Money
    returnable_days: int
    inactive: bool
    channel_prices: _containers.MessageMap[str, _common_pb2.Money]
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., returnable_days: _Optional[int] = ..., inactive: _Optional[bool] = ..., channel_prices: _Optional[_Mapping[str, _common_pb2.Money]] = ...) -> None: ...

class StockRecord(_message.Message):
    __slots__ = ("location_id", "sku", "on_hand", "reserved", "available", "safety_stock")
    class SafetyStockEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    ON_HAND_FIELD_NUMBER: _ClassVar[int]
    RESERVED_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    SAFETY_STOCK_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    safety_stock: _containers.ScalarMap[str, int]
    def __init__(self, location_id: _Optional[str] = ..., sku: _Optional[str] = ..., on_hand: _Optional[int] = ..., reserved: _Optional[int] = ..., available: _Optional[int] = ..., safety_stock: _Optional[_Mapping[str, int]] = ...) -> None: ...

class CreateLocationRequest(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class CreateLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class GetLocationRequest(_message.Message):
    __slots__ = ("location_id",)
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    def __init__(self, location_id: _Optional[str] = ...) -> None: ...

class GetLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class ListLocationsRequest(_message.Message):
    __slots__ = ("near", "radius_km", "pickup_enabled_only", "limit", "page_token")
    NEAR_FIELD_NUMBER: _ClassVar[int]
    RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    PICKUP_ENABLED_ONLY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    near: _common_pb2.GeoPoint
    radius_km: float
    pickup_enabled_only: bool
    limit: int
    page_token: str
    def __init__(self, near: _Optional[_Union[_common_pb2.GeoPoint, _Mapping]] = ..., radius_km: _Optional[float] = ..., pickup_enabled_only: _Optional[bool] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class LocationWithDistance(_message.Message):
    __slots__ = ("location", "distance_km")
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    location: Location
    distance_km: float
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ..., distance_km: _Optional[float] = ...) -> None: ...

class ListLocationsResponse(_message.Message):
    __slots__ = ("locations", "next_page_token")
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    locations: _containers.RepeatedCompositeFieldContainer[LocationWithDistance]
    next_page_token: str
    def __init__(self, locations: _Optional[_Iterable[_Union[LocationWithDistance, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateLocationRequest(_message.Message):
    __slots__ = ("location_id", "name", "kind", "point", "pickup_enabled", "ship_from_enabled", "daily_order_capacity", "pickup_window_hours", "pick_sla_minutes", "tax_region", "timezone", "curbside_sla_minutes")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    PICKUP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    SHIP_FROM_ENABLED_FIELD_NUMBER: _ClassVar[int]
    DAILY_ORDER_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    PICKUP_WINDOW_HOURS_FIELD_NUMBER: _ClassVar[int]
    PICK_SLA_MINUTES_FIELD_NUMBER: _ClassVar[int]
    TAX_REGION_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    CURBSIDE_SLA_MINUTES_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    name: str
    kind: LocationKind
    point: _common_pb2.GeoPoint
    pickup_enabled: bool
    ship_from_enabled: bool
    daily_order_capacity: int
    pickup_window_hours: float
    pick_sla_minutes: float
    tax_region: str
    timezone: str
    curbside_sla_minutes: float
    def __init__(self, location_id: _Optional[str] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[LocationKind, str]] = ..., point: _Optional[_Union[_common_pb2.GeoPoint, _Mapping]] = ..., pickup_enabled: _Optional[bool] = ..., ship_from_enabled: _Optional[bool] = ..., daily_order_capacity: _Optional[int] = ..., pickup_window_hours: _Optional[float] = ..., pick_sla_minutes: _Optional[float] = ..., tax_region: _Optional[str] = ..., timezone: _Optional[str] = ..., curbside_sla_minutes: _Optional[float] = ...) -> None: ...

class UpdateLocationResponse(_message.Message):
    __slots__ = ("location",)
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    location: Location
    def __init__(self, location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class CreateProductRequest(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: Product
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class CreateProductResponse(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: Product
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class GetProductsRequest(_message.Message):
    __slots__ = ("skus", "channel", "location_id")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    channel: _common_pb2.Channel
    location_id: str
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., location_id: _Optional[str] = ...) -> None: ...

class GetProductsResponse(_message.Message):
    __slots__ = ("products", "location")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    location: Location
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ..., location: _Optional[_Union[Location, _Mapping]] = ...) -> None: ...

class ListProductsRequest(_message.Message):
    __slots__ = ("query", "channel", "limit", "page_token")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    query: str
    channel: _common_pb2.Channel
    limit: int
    page_token: str
    def __init__(self, query: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., limit: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProductsResponse(_message.Message):
    __slots__ = ("products", "next_page_token")
    PRODUCTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    products: _containers.RepeatedCompositeFieldContainer[Product]
    next_page_token: str
    def __init__(self, products: _Optional[_Iterable[_Union[Product, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateProductRequest(_message.Message):
    __slots__ = ("sku", "name", "price", "returnable_days", "active")
    SKU_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    RETURNABLE_DAYS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    name: str
    price: _common_pb2.Money
    returnable_days: int
    active: bool
    def __init__(self, sku: _Optional[str] = ..., name: _Optional[str] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., returnable_days: _Optional[int] = ..., active: _Optional[bool] = ...) -> None: ...

class UpdateProductResponse(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: Product
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class SetChannelPriceRequest(_message.Message):
    __slots__ = ("sku", "channel", "price")
    SKU_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    sku: str
    channel: _common_pb2.Channel
    price: _common_pb2.Money
    def __init__(self, sku: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., price: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class SetChannelPriceResponse(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: Product
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class DeleteChannelPriceRequest(_message.Message):
    __slots__ = ("sku", "channel")
    SKU_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    sku: str
    channel: _common_pb2.Channel
    def __init__(self, sku: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class DeleteChannelPriceResponse(_message.Message):
    __slots__ = ("product",)
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    product: Product
    def __init__(self, product: _Optional[_Union[Product, _Mapping]] = ...) -> None: ...

class AdjustStockRequest(_message.Message):
    __slots__ = ("idempotency_key", "location_id", "sku", "delta", "reason", "actor", "reference")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    location_id: str
    sku: str
    delta: int
    reason: StockMovementReason
    actor: str
    reference: str
    def __init__(self, idempotency_key: _Optional[str] = ..., location_id: _Optional[str] = ..., sku: _Optional[str] = ..., delta: _Optional[int] = ..., reason: _Optional[_Union[StockMovementReason, str]] = ..., actor: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class AdjustStockResponse(_message.Message):
    __slots__ = ("stock",)
    STOCK_FIELD_NUMBER: _ClassVar[int]
    stock: StockRecord
    def __init__(self, stock: _Optional[_Union[StockRecord, _Mapping]] = ...) -> None: ...

class SetSafetyStockRequest(_message.Message):
    __slots__ = ("location_id", "sku", "channel", "quantity")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    sku: str
    channel: _common_pb2.Channel
    quantity: int
    def __init__(self, location_id: _Optional[str] = ..., sku: _Optional[str] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., quantity: _Optional[int] = ...) -> None: ...

class SetSafetyStockResponse(_message.Message):
    __slots__ = ("stock",)
    STOCK_FIELD_NUMBER: _ClassVar[int]
    stock: StockRecord
    def __init__(self, stock: _Optional[_Union[StockRecord, _Mapping]] = ...) -> None: ...

class GetStockRequest(_message.Message):
    __slots__ = ("location_id", "sku")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    sku: str
    def __init__(self, location_id: _Optional[str] = ..., sku: _Optional[str] = ...) -> None: ...

class GetStockResponse(_message.Message):
    __slots__ = ("stock",)
    STOCK_FIELD_NUMBER: _ClassVar[int]
    stock: StockRecord
    def __init__(self, stock: _Optional[_Union[StockRecord, _Mapping]] = ...) -> None: ...

class GetAvailabilityRequest(_message.Message):
    __slots__ = ("skus", "near", "radius_km", "channel")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    NEAR_FIELD_NUMBER: _ClassVar[int]
    RADIUS_KM_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    near: _common_pb2.GeoPoint
    radius_km: float
    channel: _common_pb2.Channel
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., near: _Optional[_Union[_common_pb2.GeoPoint, _Mapping]] = ..., radius_km: _Optional[float] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class LocationAvailability(_message.Message):
    __slots__ = ("location_id", "distance_km", "available", "pickup_enabled")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    PICKUP_ENABLED_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    distance_km: float
    available: int
    pickup_enabled: bool
    def __init__(self, location_id: _Optional[str] = ..., distance_km: _Optional[float] = ..., available: _Optional[int] = ..., pickup_enabled: _Optional[bool] = ...) -> None: ...

class SkuAvailability(_message.Message):
    __slots__ = ("sku", "online_available", "locations")
    SKU_FIELD_NUMBER: _ClassVar[int]
    ONLINE_AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    sku: str
    online_available: int
    locations: _containers.RepeatedCompositeFieldContainer[LocationAvailability]
    def __init__(self, sku: _Optional[str] = ..., online_available: _Optional[int] = ..., locations: _Optional[_Iterable[_Union[LocationAvailability, _Mapping]]] = ...) -> None: ...

class GetAvailabilityResponse(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SkuAvailability]
    def __init__(self, items: _Optional[_Iterable[_Union[SkuAvailability, _Mapping]]] = ...) -> None: ...

class Reservation(_message.Message):
    __slots__ = ("reservation_id", "order_id", "location_id", "lines", "status", "expires_at")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    order_id: str
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    status: ReservationStatus
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, reservation_id: _Optional[str] = ..., order_id: _Optional[str] = ..., location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., status: _Optional[_Union[ReservationStatus, str]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReserveStockRequest(_message.Message):
    __slots__ = ("reservation_id", "order_id", "location_id", "lines", "channel", "ttl_seconds")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    TTL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    order_id: str
    location_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    channel: _common_pb2.Channel
    ttl_seconds: int
    def __init__(self, reservation_id: _Optional[str] = ..., order_id: _Optional[str] = ..., location_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., ttl_seconds: _Optional[int] = ...) -> None: ...

class ReserveStockResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class ReleaseReservationRequest(_message.Message):
    __slots__ = ("reservation_id",)
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    def __init__(self, reservation_id: _Optional[str] = ...) -> None: ...

class ReleaseReservationResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class CommitReservationRequest(_message.Message):
    __slots__ = ("reservation_id", "lines", "reason")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    reason: StockMovementReason
    def __init__(self, reservation_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., reason: _Optional[_Union[StockMovementReason, str]] = ...) -> None: ...

class CommitReservationResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class ReleaseReservationLinesRequest(_message.Message):
    __slots__ = ("reservation_id", "lines", "idempotency_key")
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    idempotency_key: str
    def __init__(self, reservation_id: _Optional[str] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class ReleaseReservationLinesResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class ConfirmReservationRequest(_message.Message):
    __slots__ = ("reservation_id",)
    RESERVATION_ID_FIELD_NUMBER: _ClassVar[int]
    reservation_id: str
    def __init__(self, reservation_id: _Optional[str] = ...) -> None: ...

class ConfirmReservationResponse(_message.Message):
    __slots__ = ("reservation",)
    RESERVATION_FIELD_NUMBER: _ClassVar[int]
    reservation: Reservation
    def __init__(self, reservation: _Optional[_Union[Reservation, _Mapping]] = ...) -> None: ...

class FindSourcesRequest(_message.Message):
    __slots__ = ("lines", "destination", "fulfillment_type", "channel", "exclude_location_ids", "max_locations")
    LINES_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    FULFILLMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXCLUDE_LOCATION_IDS_FIELD_NUMBER: _ClassVar[int]
    MAX_LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    destination: _common_pb2.GeoPoint
    fulfillment_type: _common_pb2.FulfillmentType
    channel: _common_pb2.Channel
    exclude_location_ids: _containers.RepeatedScalarFieldContainer[str]
    max_locations: int
    def __init__(self, lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ..., destination: _Optional[_Union[_common_pb2.GeoPoint, _Mapping]] = ..., fulfillment_type: _Optional[_Union[_common_pb2.FulfillmentType, str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., exclude_location_ids: _Optional[_Iterable[str]] = ..., max_locations: _Optional[int] = ...) -> None: ...

class SourceAllocation(_message.Message):
    __slots__ = ("location_id", "distance_km", "lines")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_KM_FIELD_NUMBER: _ClassVar[int]
    LINES_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    distance_km: float
    lines: _containers.RepeatedCompositeFieldContainer[_common_pb2.SkuQuantity]
    def __init__(self, location_id: _Optional[str] = ..., distance_km: _Optional[float] = ..., lines: _Optional[_Iterable[_Union[_common_pb2.SkuQuantity, _Mapping]]] = ...) -> None: ...

class SourcingOption(_message.Message):
    __slots__ = ("allocations",)
    ALLOCATIONS_FIELD_NUMBER: _ClassVar[int]
    allocations: _containers.RepeatedCompositeFieldContainer[SourceAllocation]
    def __init__(self, allocations: _Optional[_Iterable[_Union[SourceAllocation, _Mapping]]] = ...) -> None: ...

class FindSourcesResponse(_message.Message):
    __slots__ = ("options",)
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    options: _containers.RepeatedCompositeFieldContainer[SourcingOption]
    def __init__(self, options: _Optional[_Iterable[_Union[SourcingOption, _Mapping]]] = ...) -> None: ...

class CheckInvariantsRequest(_message.Message):
    __slots__ = ("skus",)
    SKUS_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, skus: _Optional[_Iterable[str]] = ...) -> None: ...

class InvariantViolation(_message.Message):
    __slots__ = ("location_id", "sku", "rule", "actual", "expected")
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    SKU_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    ACTUAL_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_FIELD_NUMBER: _ClassVar[int]
    location_id: str
    sku: str
    rule: str
    actual: int
    expected: int
    def __init__(self, location_id: _Optional[str] = ..., sku: _Optional[str] = ..., rule: _Optional[str] = ..., actual: _Optional[int] = ..., expected: _Optional[int] = ...) -> None: ...

class CheckInvariantsResponse(_message.Message):
    __slots__ = ("violations", "rows_checked")
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    ROWS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    violations: _containers.RepeatedCompositeFieldContainer[InvariantViolation]
    rows_checked: int
    def __init__(self, violations: _Optional[_Iterable[_Union[InvariantViolation, _Mapping]]] = ..., rows_checked: _Optional[int] = ...) -> None: ...

class WatchAvailabilityRequest(_message.Message):
    __slots__ = ("skus", "location_ids", "channel")
    SKUS_FIELD_NUMBER: _ClassVar[int]
    LOCATION_IDS_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    skus: _containers.RepeatedScalarFieldContainer[str]
    location_ids: _containers.RepeatedScalarFieldContainer[str]
    channel: _common_pb2.Channel
    def __init__(self, skus: _Optional[_Iterable[str]] = ..., location_ids: _Optional[_Iterable[str]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ...) -> None: ...

class WatchAvailabilityResponse(_message.Message):
    __slots__ = ("sku", "location_id", "available", "at", "current")
    SKU_FIELD_NUMBER: _ClassVar[int]
    LOCATION_ID_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CURRENT_FIELD_NUMBER: _ClassVar[int]
    sku: str
    location_id: str
    available: int
    at: _timestamp_pb2.Timestamp
    current: bool
    def __init__(self, sku: _Optional[str] = ..., location_id: _Optional[str] = ..., available: _Optional[int] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., current: _Optional[bool] = ...) -> None: ...
