"""Proto <-> domain conversion for the orders service, and nothing else.

Enum fields cross as omni.words members: an unset field (0) is None; a number
this build does not know is None too where the domain names the field, and
refused here where the field is optional (so "unset" and "unknown" differ).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TypeVar

from omni.common.v1 import common_pb2
from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    ItemCondition,
    OrderStatus,
    PromotionKind,
    RefundMethod,
    RefundStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
    Word,
)
from services.common.carrier import Label
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.common.timestamps import from_timestamp, to_timestamp
from services.common.validation import Violations
from services.orders.domain.associates import Associate, Figures, StaffSales, credited_associate
from services.orders.domain.placing import OrderRequest, RequestedLine, RequestedTender
from services.orders.domain.pricing import PricedBasket, Promotion, ShippingMethod
from services.orders.domain.progress import FulfillmentProgress, OrderProgress, ReturnProgress
from services.orders.domain.records import (
    Address,
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    StoreTaskRecord,
    TaxRegionRecord,
)
from services.orders.domain.returns import ExchangeRequest, ReturnRequest, ReturnRequestLine
from services.orders.domain.store_work import PickedLine, TakenLine
from services.orders.quoting import BasketRequest

W = TypeVar("W", bound=Word)


def optional_word(kind: type[W], number: int, field: str) -> W | None:
    """None for an unset field; InvalidArgument naming `field` for a number `kind` lacks."""
    if number == 0:
        return None
    word = kind.from_proto(number)
    if word is None:
        raise InvalidArgument.field(field, "must be one of " + ", ".join(kind))
    return word


def money(value: Money) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=value.amount_minor, currency=value.currency)


# ---------------------------------------------------------------- requests -> domain


def _requested_address(fulfillment: orders_pb2.FulfillmentRequest) -> Address | None:
    if not fulfillment.HasField("address"):
        return None
    a = fulfillment.address
    return Address(a.line1, a.city, a.postal_code, a.country, a.point.lat, a.point.lon, a.region)


def requested_tenders(tenders: Iterable[payments_pb2.Tender]) -> list[RequestedTender]:
    return [
        RequestedTender(
            type=TenderType.from_proto(t.type) or "",
            token=t.token,
            code=t.code,
            amount_minor=t.amount_minor,
        )
        for t in tenders
    ]


def order_request(request: orders_pb2.PlaceOrderRequest) -> OrderRequest:
    fulfillment = request.fulfillment
    address = _requested_address(fulfillment)
    return OrderRequest(
        customer_id=request.customer_id,
        channel=Channel.from_proto(request.channel),
        lines=[RequestedLine(line.sku, line.quantity) for line in request.lines],
        fulfillment_type=FulfillmentType.from_proto(fulfillment.type),
        location_id=fulfillment.location_id,
        address=address,
        tenders=[
            RequestedTender(
                type=TenderType.from_proto(t.type) or "",
                token=t.token,
                code=t.code,
                amount_minor=t.amount_minor,
            )
            for t in request.tenders
        ],
        associate_id=request.associate_id,
        store_id=request.store_id,
        referral_associate_id=request.referral_associate_id,
        coupon_codes=list(request.coupon_codes),
        shipping_method=fulfillment.shipping_method,
    )


def picked_lines(request: orders_pb2.PickFulfillmentRequest) -> list[PickedLine]:
    return [PickedLine(line.sku, line.quantity) for line in request.lines]


def return_lines(lines: list[orders_pb2.ReturnLine]) -> list[ReturnRequestLine]:
    return [
        ReturnRequestLine(line.sku, line.quantity, ItemCondition.from_proto(line.condition))
        for line in lines
    ]


def return_request(request: orders_pb2.CreateReturnRequest) -> ReturnRequest:
    return ReturnRequest(
        order_id=request.order_id,
        lines=return_lines(list(request.lines)),
        method=ReturnMethod.from_proto(request.method),
        location_id=request.location_id,
        channel=optional_word(Channel, request.channel, "channel"),
        refund_method=optional_word(RefundMethod, request.refund_method, "refund_method"),
        exchange=exchange_request(request.exchange) if request.HasField("exchange") else None,
    )


def exchange_request(exchange: orders_pb2.ExchangeRequest) -> ExchangeRequest:
    fulfillment = exchange.fulfillment
    return ExchangeRequest(
        lines=[RequestedLine(line.sku, line.quantity) for line in exchange.lines],
        fulfillment_type=FulfillmentType.from_proto(fulfillment.type),
        location_id=fulfillment.location_id,
        address=_requested_address(fulfillment),
        shipping_method=fulfillment.shipping_method,
    )


def credit_tenders(request: orders_pb2.PlaceExchangeRequest) -> list[RequestedTender]:
    return [
        RequestedTender(TenderType.GIFT_CARD, code=t.code, amount_minor=t.amount_minor)
        for t in request.credits
    ]


def task_type(request: orders_pb2.ListStoreTasksRequest) -> TaskType | None:
    return optional_word(TaskType, request.type, "type")


def _event(event: orders_pb2.OrderEvent, now: datetime) -> Event | None:
    if not event.type:
        return None
    return Event(at=from_timestamp(event.at) or now, type=event.type, detail=event.detail)


def order_progress(request: orders_pb2.RecordOrderProgressRequest, now: datetime) -> OrderProgress:
    return OrderProgress(
        event_id=request.event_id,
        order_id=request.order_id,
        status=optional_word(OrderStatus, request.status, "status"),
        fulfillments=[
            FulfillmentProgress(
                fulfillment_id=f.fulfillment_id,
                type=optional_word(FulfillmentType, f.type, f"fulfillments[{index}].type"),
                location_id=f.location_id,
                status=optional_word(FulfillmentStatus, f.status, f"fulfillments[{index}].status"),
                lines=[
                    FulfillmentLineRecord(line.sku, line.quantity, line.quantity_picked)
                    for line in f.lines
                ],
                pickup_code=f.pickup_code,
                carrier=f.tracking.carrier,
                tracking_number=f.tracking.tracking_number,
                overdue=f.overdue,
            )
            for index, f in enumerate(request.fulfillments)
        ],
        event=_event(request.event, now),
    )


def return_progress(
    request: orders_pb2.RecordReturnProgressRequest, now: datetime
) -> ReturnProgress:
    return ReturnProgress(
        event_id=request.event_id,
        return_id=request.return_id,
        status=optional_word(ReturnStatus, request.status, "status"),
        refunds=[
            RefundRecord(
                payment_id=r.payment_id,
                tender_type=optional_word(
                    TenderType, r.tender_type, f"refunds[{index}].tender_type"
                ),
                # A refund that does not say its currency is in the return's.
                amount=Money(r.amount.amount_minor, r.amount.currency),
                status=optional_word(RefundStatus, r.status, f"refunds[{index}].status"),
            )
            for index, r in enumerate(request.refunds)
        ],
        event=_event(request.event, now),
    )


# ---------------------------------------------------------------- domain -> protos


def _event_proto(event: Event) -> orders_pb2.OrderEvent:
    return orders_pb2.OrderEvent(at=to_timestamp(event.at), type=event.type, detail=event.detail)


def _fulfillment_lines(lines: list[FulfillmentLineRecord]) -> list[orders_pb2.FulfillmentLine]:
    return [
        orders_pb2.FulfillmentLine(
            sku=line.sku, quantity=line.quantity, quantity_picked=line.quantity_picked
        )
        for line in lines
    ]


def taken_lines(lines: Iterable[common_pb2.SkuQuantity]) -> list[TakenLine]:
    """A partial handover's lines (empty: everything picked was taken)."""
    return [TakenLine(line.sku, line.quantity) for line in lines]


def fulfillment_proto(fulfillment: FulfillmentRecord) -> orders_pb2.Fulfillment:
    proto = orders_pb2.Fulfillment(
        fulfillment_id=fulfillment.fulfillment_id,
        order_id=fulfillment.order_id,
        type=fulfillment.type.to_proto(),
        location_id=fulfillment.location_id,
        status=fulfillment.status.to_proto(),
        lines=_fulfillment_lines(fulfillment.lines),
        pickup_code=fulfillment.pickup_code,
        updated_at=to_timestamp(fulfillment.updated_at),
        arrival_note=fulfillment.arrival_note,
        overdue=fulfillment.overdue,
    )
    if fulfillment.arrived_at is not None:
        proto.arrived_at.CopyFrom(to_timestamp(fulfillment.arrived_at))
    if fulfillment.carrier or fulfillment.tracking_number:
        proto.tracking.CopyFrom(
            orders_pb2.Tracking(
                carrier=fulfillment.carrier, tracking_number=fulfillment.tracking_number
            )
        )
    return proto


def totals_proto(
    currency: str, *, subtotal: int, discount: int, shipping: int, tax: int, shipping_tax: int,
    total: int,
) -> orders_pb2.Totals:  # fmt: skip
    return orders_pb2.Totals(
        subtotal=money(Money(subtotal, currency)),
        discount=money(Money(discount, currency)),
        shipping=money(Money(shipping, currency)),
        tax=money(Money(tax, currency)),
        shipping_tax=money(Money(shipping_tax, currency)),
        total=money(Money(total, currency)),
    )


def order_proto(order: OrderRecord) -> orders_pb2.Order:
    request = orders_pb2.FulfillmentRequest(
        type=order.fulfillment_type.to_proto(), location_id=order.location_id
    )
    if order.address is not None:
        a = order.address
        request.address.CopyFrom(
            common_pb2.Address(
                line1=a.line1,
                city=a.city,
                postal_code=a.postal_code,
                country=a.country,
                point=common_pb2.GeoPoint(lat=a.lat, lon=a.lon),
                region=a.region,
            )
        )
    request.shipping_method = order.shipping_method
    currency = order.total.currency
    return orders_pb2.Order(
        order_id=order.order_id,
        customer_id=order.customer_id,
        channel=order.channel.to_proto(),
        status=order.shown_status.to_proto(),
        lines=[
            orders_pb2.OrderLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(Money(line.unit_price_minor, currency)),
                returnable_days=line.returnable_days,
                returned_quantity=line.returned_quantity,
                quantity_cancelled=line.quantity_cancelled,
                discount=money(Money(line.discount_minor, currency)),
                tax=money(Money(line.tax_minor, currency)),
                total=money(Money(line.total_minor, currency)),
            )
            for line in order.lines
        ],
        totals=totals_proto(
            currency,
            subtotal=order.subtotal_minor,
            discount=order.discount_minor,
            shipping=order.shipping_minor,
            tax=order.tax_minor,
            shipping_tax=order.shipping_tax_minor,
            total=order.total.amount_minor,
        ),
        promotions_applied=[
            orders_pb2.AppliedPromotion(
                promotion_id=p.promotion_id,
                name=p.name,
                code=p.code,
                discount=money(Money(p.discount_minor, currency)),
            )
            for p in order.promotions_applied
        ],
        tax_rule=order.tax_rule,
        shipping_method=order.shipping_method,
        coupon_codes=order.coupon_codes,
        fulfillment_request=request,
        fulfillments=[fulfillment_proto(f) for f in order.fulfillments],
        events=[_event_proto(e) for e in order.events],
        workflow_id=order.workflow_id,
        total=money(order.total),
        associate_id=order.associate_id,
        store_id=order.store_id,
        referral_associate_id=order.referral_associate_id,
        credited_associate_id=credited_associate(order.associate_id, order.referral_associate_id),
        created_at=to_timestamp(order.created_at),
        exchange_for=order.exchange_for,
    )


def return_proto(record: ReturnRecord, label: Label | None = None) -> orders_pb2.Return:
    """`label`: a mail return's label from the carrier (unset for in-store returns)."""
    message = orders_pb2.Return(
        return_id=record.return_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        status=record.status.to_proto(),
        method=record.method.to_proto(),
        location_id=record.location_id,
        lines=[
            orders_pb2.ReturnLine(
                sku=line.sku, quantity=line.quantity, condition=line.condition.to_proto()
            )
            for line in record.lines
        ],
        refund=money(record.refund),
        refunds=[
            orders_pb2.Refund(
                payment_id=r.payment_id,
                tender_type=r.tender_type.to_proto() if r.tender_type is not None else None,
                amount=money(r.amount),
                status=r.status.to_proto() if r.status is not None else None,
            )
            for r in record.refunds
        ],
        events=[_event_proto(e) for e in record.events],
        workflow_id=record.workflow_id,
        channel=record.channel.to_proto(),
        created_at=to_timestamp(record.created_at),
        refund_method=record.refund_method.to_proto(),
        replacement_order_id=record.replacement_order_id,
    )
    if label is not None:
        message.label.CopyFrom(
            orders_pb2.ReturnLabel(carrier=label.carrier, reference=label.reference)
        )
    return message


def store_task_proto(task: StoreTaskRecord) -> orders_pb2.StoreTask:
    proto = orders_pb2.StoreTask(
        type=task.type.to_proto(),
        order_id=task.order_id,
        lines=_fulfillment_lines(task.lines),
        since=to_timestamp(task.since),
        arrival_note=task.arrival_note,
        overdue=task.overdue,
    )
    if isinstance(task.status, ReturnStatus):
        proto.return_id = task.task_id
        proto.return_status = task.status.to_proto()
    else:
        proto.fulfillment_id = task.task_id
        proto.fulfillment_status = task.status.to_proto()
    if task.arrived_at is not None:
        proto.arrived_at.CopyFrom(to_timestamp(task.arrived_at))
    return proto


# ---------------------------------------------------------------- pricing (issue 13)


def address_from_proto(message: common_pb2.Address) -> Address:
    return _address(message)


def _address(message: common_pb2.Address) -> Address:
    return Address(
        message.line1,
        message.city,
        message.postal_code,
        message.country,
        message.point.lat,
        message.point.lon,
        message.region,
    )


def basket_request(request: orders_pb2.QuoteBasketRequest) -> BasketRequest:
    fulfillment = request.fulfillment
    return BasketRequest(
        channel=Channel.from_proto(request.channel),
        lines=[RequestedLine(line.sku, line.quantity) for line in request.lines],
        fulfillment_type=FulfillmentType.from_proto(fulfillment.type),
        location_id=fulfillment.location_id,
        address=_address(fulfillment.address) if fulfillment.HasField("address") else None,
        coupon_codes=list(request.coupon_codes),
        shipping_method=fulfillment.shipping_method,
        customer_id=request.customer_id,
    )


def quote_proto(basket: PricedBasket) -> orders_pb2.Quote:
    currency = basket.totals.currency
    t = basket.totals
    return orders_pb2.Quote(
        lines=[
            orders_pb2.QuotedLine(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=money(Money(line.unit_price_minor, currency)),
                discount=money(Money(line.discount_minor, currency)),
                tax=money(Money(line.tax_minor, currency)),
                total=money(Money(line.total_minor, currency)),
            )
            for line in basket.lines
        ],
        totals=totals_proto(
            currency,
            subtotal=t.subtotal_minor,
            discount=t.discount_minor,
            shipping=t.shipping_minor,
            tax=t.tax_minor,
            shipping_tax=t.shipping_tax_minor,
            total=t.total_minor,
        ),
        promotions_applied=[
            orders_pb2.AppliedPromotion(
                promotion_id=p.promotion_id,
                name=p.name,
                code=p.code,
                discount=money(Money(p.discount_minor, currency)),
            )
            for p in basket.promotions_applied
        ],
        tax_rule=basket.tax_rule,
        shipping_method=basket.shipping_method,
    )


def promotion_from_proto(message: orders_pb2.Promotion, promotion_id: str) -> Promotion:
    starts = from_timestamp(message.starts_at) if message.HasField("starts_at") else None
    ends = from_timestamp(message.ends_at) if message.HasField("ends_at") else None
    bad = Violations()
    if starts is None:
        bad.add("promotion.starts_at", "is required")
    if ends is None:
        bad.add("promotion.ends_at", "is required")
    channels = [Channel.from_proto(c) for c in message.channels]
    if any(c is None for c in channels):
        bad.add("promotion.channels", "must be channels: " + ", ".join(Channel))
    bad.raise_if_any()
    assert starts is not None and ends is not None
    kind = PromotionKind.from_proto(message.kind)
    return Promotion(
        promotion_id=promotion_id,
        name=message.name,
        kind=kind,  # type: ignore[arg-type]  # validate_promotion refuses None
        value=message.value,
        starts_at=starts,
        ends_at=ends,
        currency=message.currency,
        skus=frozenset(message.skus),
        channels=frozenset(c for c in channels if c is not None),
        code=message.code,
        min_subtotal_minor=message.min_subtotal.amount_minor,
        min_subtotal_currency=message.min_subtotal.currency,
    )


def promotion_proto(promotion: Promotion) -> orders_pb2.Promotion:
    message = orders_pb2.Promotion(
        promotion_id=promotion.promotion_id,
        name=promotion.name,
        kind=promotion.kind.to_proto(),
        value=promotion.value,
        currency=promotion.currency,
        skus=sorted(promotion.skus),
        channels=[c.to_proto() for c in sorted(promotion.channels)],
        code=promotion.code,
        starts_at=to_timestamp(promotion.starts_at),
        ends_at=to_timestamp(promotion.ends_at),
    )
    if promotion.min_subtotal_minor:
        message.min_subtotal.CopyFrom(
            money(Money(promotion.min_subtotal_minor, promotion.min_subtotal_currency))
        )
    if promotion.ended_at is not None:
        message.ended_at.CopyFrom(to_timestamp(promotion.ended_at))
    return message


def tax_region_from_proto(message: orders_pb2.TaxRegion) -> TaxRegionRecord:
    return TaxRegionRecord(message.region, message.name, message.rate_bps)


def tax_region_proto(region: TaxRegionRecord) -> orders_pb2.TaxRegion:
    return orders_pb2.TaxRegion(region=region.region, name=region.name, rate_bps=region.rate_bps)


def shipping_method_from_proto(message: orders_pb2.ShippingMethod) -> ShippingMethod:
    free_over = message.free_over.amount_minor if message.HasField("free_over") else None
    if message.HasField("free_over") and message.free_over.currency != message.price.currency:
        raise InvalidArgument.field(
            "shipping_method.free_over.currency", "must be the price's currency"
        )
    return ShippingMethod(
        method_id=message.method_id,
        name=message.name,
        price_minor=message.price.amount_minor,
        currency=message.price.currency,
        countries=frozenset(c.strip().upper() for c in message.countries),
        free_over_minor=free_over,
    )


def shipping_method_proto(method: ShippingMethod) -> orders_pb2.ShippingMethod:
    message = orders_pb2.ShippingMethod(
        method_id=method.method_id,
        name=method.name,
        price=money(Money(method.price_minor, method.currency)),
        countries=sorted(method.countries),
    )
    if method.free_over_minor is not None:
        message.free_over.CopyFrom(money(Money(method.free_over_minor, method.currency)))
    return message


# ---------------------------------------------------------------- associates (issue 14)


def associate_from_proto(message: orders_pb2.Associate) -> Associate:
    return Associate(message.associate_id, message.name, message.store_id)


def associate_proto(associate: Associate) -> orders_pb2.Associate:
    proto = orders_pb2.Associate(
        associate_id=associate.associate_id,
        name=associate.name,
        store_id=associate.store_id,
        active=associate.active,
    )
    if associate.created_at is not None:
        proto.created_at.CopyFrom(to_timestamp(associate.created_at))
    if associate.deactivated_at is not None:
        proto.deactivated_at.CopyFrom(to_timestamp(associate.deactivated_at))
    return proto


def _figures_proto(figures: Figures, currency: str) -> orders_pb2.SalesFigures:
    return orders_pb2.SalesFigures(
        orders_credited=figures.orders_credited,
        gross=money(Money(figures.gross_minor, currency)),
        returned=money(Money(figures.returned_minor, currency)),
        net=money(Money(figures.net_minor, currency)),
    )


def staff_sales_proto(sales: StaffSales, currency: str) -> orders_pb2.StaffSales:
    return orders_pb2.StaffSales(
        associate_id=sales.associate.associate_id,
        name=sales.associate.name,
        store_id=sales.associate.store_id,
        total=_figures_proto(sales.total, currency),
        channels=[
            orders_pb2.ChannelSales(
                channel=channel.to_proto(), figures=_figures_proto(figures, currency)
            )
            for channel, figures in sorted(sales.channels.items())
        ],
    )


def order_status_filter(request: orders_pb2.ListOrdersRequest) -> OrderStatus | None:
    return optional_word(OrderStatus, request.status, "status")
