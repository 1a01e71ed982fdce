from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Channel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHANNEL_UNSPECIFIED: _ClassVar[Channel]
    CHANNEL_WEB: _ClassVar[Channel]
    CHANNEL_APP: _ClassVar[Channel]
    CHANNEL_POS: _ClassVar[Channel]
    CHANNEL_CALL_CENTER: _ClassVar[Channel]
    CHANNEL_MARKETPLACE: _ClassVar[Channel]

class FulfillmentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FULFILLMENT_TYPE_UNSPECIFIED: _ClassVar[FulfillmentType]
    FULFILLMENT_TYPE_PICKUP: _ClassVar[FulfillmentType]
    FULFILLMENT_TYPE_SHIP: _ClassVar[FulfillmentType]
    FULFILLMENT_TYPE_CARRY_OUT: _ClassVar[FulfillmentType]
CHANNEL_UNSPECIFIED: Channel
CHANNEL_WEB: Channel
CHANNEL_APP: Channel
CHANNEL_POS: Channel
CHANNEL_CALL_CENTER: Channel
CHANNEL_MARKETPLACE: Channel
FULFILLMENT_TYPE_UNSPECIFIED: FulfillmentType
FULFILLMENT_TYPE_PICKUP: FulfillmentType
FULFILLMENT_TYPE_SHIP: FulfillmentType
FULFILLMENT_TYPE_CARRY_OUT: FulfillmentType

class Money(_message.Message):
    __slots__ = ("amount_minor", "currency")
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    amount_minor: int
    currency: str
    def __init__(self, amount_minor: _Optional[int] = ..., currency: _Optional[str] = ...) -> None: ...

class GeoPoint(_message.Message):
    __slots__ = ("lat", "lon")
    LAT_FIELD_NUMBER: _ClassVar[int]
    LON_FIELD_NUMBER: _ClassVar[int]
    lat: float
    lon: float
    def __init__(self, lat: _Optional[float] = ..., lon: _Optional[float] = ...) -> None: ...

class SkuQuantity(_message.Message):
    __slots__ = ("sku", "quantity")
    SKU_FIELD_NUMBER: _ClassVar[int]
    QUANTITY_FIELD_NUMBER: _ClassVar[int]
    sku: str
    quantity: int
    def __init__(self, sku: _Optional[str] = ..., quantity: _Optional[int] = ...) -> None: ...

class Address(_message.Message):
    __slots__ = ("line1", "city", "postal_code", "country", "point", "region")
    LINE1_FIELD_NUMBER: _ClassVar[int]
    CITY_FIELD_NUMBER: _ClassVar[int]
    POSTAL_CODE_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_FIELD_NUMBER: _ClassVar[int]
    POINT_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    line1: str
    city: str
    postal_code: str
    country: str
    point: GeoPoint
    region: str
    def __init__(self, line1: _Optional[str] = ..., city: _Optional[str] = ..., postal_code: _Optional[str] = ..., country: _Optional[str] = ..., point: _Optional[_Union[GeoPoint, _Mapping]] = ..., region: _Optional[str] = ...) -> None: ...
