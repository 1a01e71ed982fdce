"""Proto <-> domain conversion for payments, and the card-number guard."""

from __future__ import annotations

from datetime import datetime

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2
from omni.payments.v1 import payments_pb2
from services.common.errors import FieldViolation, InvalidArgument
from services.common.pan import looks_like_card_number
from services.payments import domain
from services.payments.domain import GiftCard, Money, Payment, Tender
from services.payments.provider import ProviderOperation


def card_number_fields(message: Message, prefix: str = "") -> list[str]:
    """Paths of every string field (nested ones too) that holds something like a PAN."""
    found: list[str] = []
    for descriptor, value in message.ListFields():
        path = f"{prefix}{descriptor.name}"
        values = value if descriptor.is_repeated else [value]
        for item in values:
            if descriptor.type == FieldDescriptor.TYPE_STRING and looks_like_card_number(item):
                found.append(path)
            elif descriptor.type == FieldDescriptor.TYPE_MESSAGE:
                found.extend(card_number_fields(item, f"{path}."))
    return found


def reject_card_numbers(request: Message) -> None:
    """Card numbers never enter Omni; the error names the field, never the value."""
    fields = card_number_fields(request)
    if fields:
        message = "looks like a card number; send a provider token instead"
        raise InvalidArgument(
            f"{', '.join(fields)}: {message}", [FieldViolation(f, message) for f in fields]
        )


def money_from_proto(money: common_pb2.Money, field: str) -> Money:
    return domain.validate_money(Money(money.amount_minor, money.currency), field)


def money_to_proto(amount_minor: int, currency: str) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount_minor, currency=currency)


def tender_from_proto(tender: payments_pb2.Tender) -> Tender:
    if tender.type not in domain.TENDER_TYPES:
        raise InvalidArgument.field(
            "tender.type", f"must be one of {', '.join(domain.TENDER_TYPES)}"
        )
    if tender.type == domain.CARD and not tender.token:
        raise InvalidArgument.field("tender.token", "is required for a card")
    if tender.type in domain.LEDGER_TENDERS and not tender.code:
        raise InvalidArgument.field("tender.code", f"is required for {tender.type}")
    return Tender(type=tender.type, token=tender.token, code=tender.code)


def timestamp(at: datetime | None) -> Timestamp:
    stamp = Timestamp()
    if at is not None:
        stamp.FromDatetime(at)
    return stamp


def payment_to_proto(payment: Payment) -> payments_pb2.Payment:
    return payments_pb2.Payment(
        payment_id=payment.payment_id,
        reference=payment.reference,
        tender_type=payment.tender_type,
        status=payment.status,
        authorized=money_to_proto(payment.authorized_minor, payment.currency),
        captured=money_to_proto(payment.captured_minor, payment.currency),
        refunded=money_to_proto(payment.refunded_minor, payment.currency),
        card_brand=payment.card_brand,
        card_last4=payment.card_last4,
        created_at=timestamp(payment.created_at),
        expires_at=timestamp(payment.expires_at) if payment.expires_at else None,
        gift_card_code=payment.gift_card_code,
        released=money_to_proto(payment.released_minor, payment.currency),
    )


def gift_card_to_proto(card: GiftCard) -> payments_pb2.GiftCard:
    return payments_pb2.GiftCard(
        code=card.code,
        balance=money_to_proto(card.balance_minor, card.currency),
        held=money_to_proto(card.held_minor, card.currency),
        kind=card.kind,
        customer_id=card.customer_id,
        history=[
            payments_pb2.GiftCardEntry(
                kind=entry.kind,
                amount=money_to_proto(entry.amount.amount_minor, entry.amount.currency),
                reference=entry.reference,
                at=timestamp(entry.at),
            )
            for entry in card.history
        ],
        created_at=timestamp(card.created_at),
    )


def provider_operation_to_proto(operation: ProviderOperation) -> payments_pb2.ProviderOperation:
    return payments_pb2.ProviderOperation(
        operation=operation.operation,
        amount=money_to_proto(operation.amount.amount_minor, operation.amount.currency),
        outcome=operation.outcome,
        at=timestamp(operation.at),
    )
