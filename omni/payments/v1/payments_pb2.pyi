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

class TenderType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TENDER_TYPE_UNSPECIFIED: _ClassVar[TenderType]
    TENDER_TYPE_CARD: _ClassVar[TenderType]
    TENDER_TYPE_GIFT_CARD: _ClassVar[TenderType]
    TENDER_TYPE_STORE_CREDIT: _ClassVar[TenderType]
    TENDER_TYPE_CASH: _ClassVar[TenderType]
    TENDER_TYPE_CARD_PRESENT: _ClassVar[TenderType]

class PaymentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYMENT_STATUS_UNSPECIFIED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_AUTHORIZED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_CAPTURED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_REFUNDED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_VOIDED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_EXPIRED: _ClassVar[PaymentStatus]
    PAYMENT_STATUS_DECLINED: _ClassVar[PaymentStatus]

class GiftCardKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GIFT_CARD_KIND_UNSPECIFIED: _ClassVar[GiftCardKind]
    GIFT_CARD_KIND_GIFT_CARD: _ClassVar[GiftCardKind]
    GIFT_CARD_KIND_STORE_CREDIT: _ClassVar[GiftCardKind]

class GiftCardEntryKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GIFT_CARD_ENTRY_KIND_UNSPECIFIED: _ClassVar[GiftCardEntryKind]
    GIFT_CARD_ENTRY_KIND_ISSUE: _ClassVar[GiftCardEntryKind]
    GIFT_CARD_ENTRY_KIND_RELOAD: _ClassVar[GiftCardEntryKind]
    GIFT_CARD_ENTRY_KIND_HOLD: _ClassVar[GiftCardEntryKind]
    GIFT_CARD_ENTRY_KIND_RELEASE: _ClassVar[GiftCardEntryKind]
    GIFT_CARD_ENTRY_KIND_REDEEM: _ClassVar[GiftCardEntryKind]
    GIFT_CARD_ENTRY_KIND_REFUND: _ClassVar[GiftCardEntryKind]

class ProviderOperationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_OPERATION_KIND_UNSPECIFIED: _ClassVar[ProviderOperationKind]
    PROVIDER_OPERATION_KIND_AUTHORIZE: _ClassVar[ProviderOperationKind]
    PROVIDER_OPERATION_KIND_CAPTURE: _ClassVar[ProviderOperationKind]
    PROVIDER_OPERATION_KIND_VOID: _ClassVar[ProviderOperationKind]
    PROVIDER_OPERATION_KIND_REFUND: _ClassVar[ProviderOperationKind]
    PROVIDER_OPERATION_KIND_RELEASE: _ClassVar[ProviderOperationKind]

class ProviderOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROVIDER_OUTCOME_UNSPECIFIED: _ClassVar[ProviderOutcome]
    PROVIDER_OUTCOME_APPROVED: _ClassVar[ProviderOutcome]
    PROVIDER_OUTCOME_DECLINED: _ClassVar[ProviderOutcome]
    PROVIDER_OUTCOME_ERROR: _ClassVar[ProviderOutcome]
TENDER_TYPE_UNSPECIFIED: TenderType
TENDER_TYPE_CARD: TenderType
TENDER_TYPE_GIFT_CARD: TenderType
TENDER_TYPE_STORE_CREDIT: TenderType
TENDER_TYPE_CASH: TenderType
TENDER_TYPE_CARD_PRESENT: TenderType
PAYMENT_STATUS_UNSPECIFIED: PaymentStatus
PAYMENT_STATUS_AUTHORIZED: PaymentStatus
PAYMENT_STATUS_CAPTURED: PaymentStatus
PAYMENT_STATUS_REFUNDED: PaymentStatus
PAYMENT_STATUS_VOIDED: PaymentStatus
PAYMENT_STATUS_EXPIRED: PaymentStatus
PAYMENT_STATUS_DECLINED: PaymentStatus
GIFT_CARD_KIND_UNSPECIFIED: GiftCardKind
GIFT_CARD_KIND_GIFT_CARD: GiftCardKind
GIFT_CARD_KIND_STORE_CREDIT: GiftCardKind
GIFT_CARD_ENTRY_KIND_UNSPECIFIED: GiftCardEntryKind
GIFT_CARD_ENTRY_KIND_ISSUE: GiftCardEntryKind
GIFT_CARD_ENTRY_KIND_RELOAD: GiftCardEntryKind
GIFT_CARD_ENTRY_KIND_HOLD: GiftCardEntryKind
GIFT_CARD_ENTRY_KIND_RELEASE: GiftCardEntryKind
GIFT_CARD_ENTRY_KIND_REDEEM: GiftCardEntryKind
GIFT_CARD_ENTRY_KIND_REFUND: GiftCardEntryKind
PROVIDER_OPERATION_KIND_UNSPECIFIED: ProviderOperationKind
PROVIDER_OPERATION_KIND_AUTHORIZE: ProviderOperationKind
PROVIDER_OPERATION_KIND_CAPTURE: ProviderOperationKind
PROVIDER_OPERATION_KIND_VOID: ProviderOperationKind
PROVIDER_OPERATION_KIND_REFUND: ProviderOperationKind
PROVIDER_OPERATION_KIND_RELEASE: ProviderOperationKind
PROVIDER_OUTCOME_UNSPECIFIED: ProviderOutcome
PROVIDER_OUTCOME_APPROVED: ProviderOutcome
PROVIDER_OUTCOME_DECLINED: ProviderOutcome
PROVIDER_OUTCOME_ERROR: ProviderOutcome

class Tender(_message.Message):
    __slots__ = ("type", "token", "code", "amount_minor")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_MINOR_FIELD_NUMBER: _ClassVar[int]
    type: TenderType
    token: str
    code: str
    amount_minor: int
    def __init__(self, type: _Optional[_Union[TenderType, str]] = ..., token: _Optional[str] = ..., code: _Optional[str] = ..., amount_minor: _Optional[int] = ...) -> None: ...

class Payment(_message.Message):
    __slots__ = ("payment_id", "reference", "tender_type", "status", "authorized", "captured", "refunded", "card_brand", "card_last4", "created_at", "expires_at", "gift_card_code", "released")
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    TENDER_TYPE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    AUTHORIZED_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_FIELD_NUMBER: _ClassVar[int]
    REFUNDED_FIELD_NUMBER: _ClassVar[int]
    CARD_BRAND_FIELD_NUMBER: _ClassVar[int]
    CARD_LAST4_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    GIFT_CARD_CODE_FIELD_NUMBER: _ClassVar[int]
    RELEASED_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    reference: str
    tender_type: TenderType
    status: PaymentStatus
    authorized: _common_pb2.Money
    captured: _common_pb2.Money
    refunded: _common_pb2.Money
    card_brand: str
    card_last4: str
    created_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    gift_card_code: str
    released: _common_pb2.Money
    def __init__(self, payment_id: _Optional[str] = ..., reference: _Optional[str] = ..., tender_type: _Optional[_Union[TenderType, str]] = ..., status: _Optional[_Union[PaymentStatus, str]] = ..., authorized: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., captured: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., refunded: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., card_brand: _Optional[str] = ..., card_last4: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., gift_card_code: _Optional[str] = ..., released: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class AuthorizePaymentRequest(_message.Message):
    __slots__ = ("idempotency_key", "reference", "tender", "amount", "channel", "capture")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    TENDER_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    reference: str
    tender: Tender
    amount: _common_pb2.Money
    channel: _common_pb2.Channel
    capture: bool
    def __init__(self, idempotency_key: _Optional[str] = ..., reference: _Optional[str] = ..., tender: _Optional[_Union[Tender, _Mapping]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., channel: _Optional[_Union[_common_pb2.Channel, str]] = ..., capture: _Optional[bool] = ...) -> None: ...

class AuthorizePaymentResponse(_message.Message):
    __slots__ = ("payment",)
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ...) -> None: ...

class CapturePaymentRequest(_message.Message):
    __slots__ = ("idempotency_key", "payment_id", "amount", "final")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FINAL_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    payment_id: str
    amount: _common_pb2.Money
    final: bool
    def __init__(self, idempotency_key: _Optional[str] = ..., payment_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., final: _Optional[bool] = ...) -> None: ...

class CapturePaymentResponse(_message.Message):
    __slots__ = ("payment",)
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ...) -> None: ...

class VoidPaymentRequest(_message.Message):
    __slots__ = ("idempotency_key", "payment_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    payment_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...

class VoidPaymentResponse(_message.Message):
    __slots__ = ("payment",)
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ...) -> None: ...

class RefundPaymentRequest(_message.Message):
    __slots__ = ("idempotency_key", "payment_id", "amount", "to_store_credit", "customer_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    TO_STORE_CREDIT_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    payment_id: str
    amount: _common_pb2.Money
    to_store_credit: bool
    customer_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., payment_id: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., to_store_credit: _Optional[bool] = ..., customer_id: _Optional[str] = ...) -> None: ...

class RefundPaymentResponse(_message.Message):
    __slots__ = ("payment", "store_credit")
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    STORE_CREDIT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    store_credit: GiftCard
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ..., store_credit: _Optional[_Union[GiftCard, _Mapping]] = ...) -> None: ...

class GetPaymentRequest(_message.Message):
    __slots__ = ("payment_id",)
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    payment_id: str
    def __init__(self, payment_id: _Optional[str] = ...) -> None: ...

class GetPaymentResponse(_message.Message):
    __slots__ = ("payment",)
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ...) -> None: ...

class ListPaymentsRequest(_message.Message):
    __slots__ = ("reference",)
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    reference: str
    def __init__(self, reference: _Optional[str] = ...) -> None: ...

class ListPaymentsResponse(_message.Message):
    __slots__ = ("payments",)
    PAYMENTS_FIELD_NUMBER: _ClassVar[int]
    payments: _containers.RepeatedCompositeFieldContainer[Payment]
    def __init__(self, payments: _Optional[_Iterable[_Union[Payment, _Mapping]]] = ...) -> None: ...

class ReauthorizePaymentRequest(_message.Message):
    __slots__ = ("idempotency_key", "payment_id")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    PAYMENT_ID_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    payment_id: str
    def __init__(self, idempotency_key: _Optional[str] = ..., payment_id: _Optional[str] = ...) -> None: ...

class ReauthorizePaymentResponse(_message.Message):
    __slots__ = ("payment",)
    PAYMENT_FIELD_NUMBER: _ClassVar[int]
    payment: Payment
    def __init__(self, payment: _Optional[_Union[Payment, _Mapping]] = ...) -> None: ...

class ProviderOperation(_message.Message):
    __slots__ = ("operation", "amount", "outcome", "at")
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    operation: ProviderOperationKind
    amount: _common_pb2.Money
    outcome: ProviderOutcome
    at: _timestamp_pb2.Timestamp
    def __init__(self, operation: _Optional[_Union[ProviderOperationKind, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., outcome: _Optional[_Union[ProviderOutcome, str]] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListProviderOperationsRequest(_message.Message):
    __slots__ = ("reference",)
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    reference: str
    def __init__(self, reference: _Optional[str] = ...) -> None: ...

class ListProviderOperationsResponse(_message.Message):
    __slots__ = ("operations",)
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    operations: _containers.RepeatedCompositeFieldContainer[ProviderOperation]
    def __init__(self, operations: _Optional[_Iterable[_Union[ProviderOperation, _Mapping]]] = ...) -> None: ...

class GiftCardEntry(_message.Message):
    __slots__ = ("kind", "amount", "reference", "at")
    KIND_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    kind: GiftCardEntryKind
    amount: _common_pb2.Money
    reference: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, kind: _Optional[_Union[GiftCardEntryKind, str]] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., reference: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GiftCard(_message.Message):
    __slots__ = ("code", "balance", "held", "kind", "customer_id", "history", "created_at")
    CODE_FIELD_NUMBER: _ClassVar[int]
    BALANCE_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    code: str
    balance: _common_pb2.Money
    held: _common_pb2.Money
    kind: GiftCardKind
    customer_id: str
    history: _containers.RepeatedCompositeFieldContainer[GiftCardEntry]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, code: _Optional[str] = ..., balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., held: _Optional[_Union[_common_pb2.Money, _Mapping]] = ..., kind: _Optional[_Union[GiftCardKind, str]] = ..., customer_id: _Optional[str] = ..., history: _Optional[_Iterable[_Union[GiftCardEntry, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class IssueGiftCardRequest(_message.Message):
    __slots__ = ("idempotency_key", "initial_balance")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    INITIAL_BALANCE_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    initial_balance: _common_pb2.Money
    def __init__(self, idempotency_key: _Optional[str] = ..., initial_balance: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class IssueGiftCardResponse(_message.Message):
    __slots__ = ("gift_card",)
    GIFT_CARD_FIELD_NUMBER: _ClassVar[int]
    gift_card: GiftCard
    def __init__(self, gift_card: _Optional[_Union[GiftCard, _Mapping]] = ...) -> None: ...

class ReloadGiftCardRequest(_message.Message):
    __slots__ = ("idempotency_key", "code", "amount")
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    idempotency_key: str
    code: str
    amount: _common_pb2.Money
    def __init__(self, idempotency_key: _Optional[str] = ..., code: _Optional[str] = ..., amount: _Optional[_Union[_common_pb2.Money, _Mapping]] = ...) -> None: ...

class ReloadGiftCardResponse(_message.Message):
    __slots__ = ("gift_card",)
    GIFT_CARD_FIELD_NUMBER: _ClassVar[int]
    gift_card: GiftCard
    def __init__(self, gift_card: _Optional[_Union[GiftCard, _Mapping]] = ...) -> None: ...

class GetGiftCardRequest(_message.Message):
    __slots__ = ("code",)
    CODE_FIELD_NUMBER: _ClassVar[int]
    code: str
    def __init__(self, code: _Optional[str] = ...) -> None: ...

class GetGiftCardResponse(_message.Message):
    __slots__ = ("gift_card",)
    GIFT_CARD_FIELD_NUMBER: _ClassVar[int]
    gift_card: GiftCard
    def __init__(self, gift_card: _Optional[_Union[GiftCard, _Mapping]] = ...) -> None: ...

class ListStoreCreditRequest(_message.Message):
    __slots__ = ("customer_id",)
    CUSTOMER_ID_FIELD_NUMBER: _ClassVar[int]
    customer_id: str
    def __init__(self, customer_id: _Optional[str] = ...) -> None: ...

class ListStoreCreditResponse(_message.Message):
    __slots__ = ("store_credit",)
    STORE_CREDIT_FIELD_NUMBER: _ClassVar[int]
    store_credit: _containers.RepeatedCompositeFieldContainer[GiftCard]
    def __init__(self, store_credit: _Optional[_Iterable[_Union[GiftCard, _Mapping]]] = ...) -> None: ...
