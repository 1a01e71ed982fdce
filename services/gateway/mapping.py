"""REST ⇄ gRPC: proto messages → the bodies of API.md (services/gateway/models:
snake_case, Money objects, ISO-8601 UTC timestamps, every enum number as its
REST word), and REST bodies → the gRPC messages (every word as its number).
One module on purpose, though past 400 lines: it is the one place where the
services' messages and the REST contract meet, so a word crosses here or
nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2
from omni.inventory.v1 import inventory_pb2
from omni.orders.v1 import orders_pb2
from omni.payments.v1 import payments_pb2
from omni.words import (
    ActivityKind,
    Channel,
    ContactChannel,
    FulfillmentStatus,
    FulfillmentType,
    GiftCardEntryKind,
    IdentityKind,
    ItemCondition,
    LocationKind,
    LoyaltyReason,
    NotificationKind,
    NotificationStatus,
    OrderStatus,
    PaymentStatus,
    ProviderOperationKind,
    ProviderOutcome,
    RefundMethod,
    RefundStatus,
    ReturnMethod,
    ReturnStatus,
    TaskType,
    TenderType,
    TimelineEventKind,
    Word,
)
from services.gateway import models
from services.gateway.problems import Problem


def money(value: common_pb2.Money) -> models.Money:
    return models.Money(amount_minor=value.amount_minor, currency=value.currency)


def timestamp(value: Timestamp) -> str | None:
    if value.seconds == 0 and value.nanos == 0:
        return None
    return value.ToDatetime().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def word(kind: type[Word], number: int) -> str:
    """The REST word of a proto enum value ("" when unset)."""
    found = kind.from_proto(number)
    return found.value if found is not None else ""


def _money_if(message: Message, name: str) -> models.Money | None:
    """The Money field `name` of `message`, None when unset."""
    if not message.HasField(name):
        return None
    value: common_pb2.Money = getattr(message, name)
    return money(value)


def location(value: inventory_pb2.Location, distance_km: float | None = None) -> models.LocationOut:
    out = models.LocationOut(
        location_id=value.location_id,
        name=value.name,
        kind=word(LocationKind, value.kind),
        lat=value.point.lat,
        lon=value.point.lon,
        pickup_enabled=value.pickup_enabled,
        ship_from_enabled=value.ship_from_enabled,
        daily_order_capacity=value.daily_order_capacity,
        pickup_window_hours=value.pickup_window_hours,
        pick_sla_minutes=value.pick_sla_minutes,
        tax_region=value.tax_region,
        curbside_sla_minutes=value.curbside_sla_minutes,
        timezone=value.timezone or "UTC",
    )
    if distance_km is not None:
        out.distance_km = round(distance_km, 3)
    return out


def product(value: inventory_pb2.Product) -> models.ProductOut:
    return models.ProductOut(
        sku=value.sku,
        name=value.name,
        price=money(value.price),
        returnable_days=value.returnable_days,
        active=not value.inactive,
    )


def stock(value: inventory_pb2.StockRecord) -> models.StockOut:
    return models.StockOut(
        location_id=value.location_id,
        sku=value.sku,
        on_hand=value.on_hand,
        reserved=value.reserved,
        available=value.available,
        safety_stock=dict(value.safety_stock),
    )


def availability(value: inventory_pb2.GetAvailabilityResponse) -> dict[str, Any]:
    """The body of `AvailabilityOut` as plain JSON (any JSON here): the
    hottest read goes out without building models (bench/README.md)."""
    return {
        "items": [
            {
                "sku": item.sku,
                "online_available": item.online_available,
                "locations": [
                    {
                        "location_id": entry.location_id,
                        "distance_km": round(entry.distance_km, 3),
                        "available": max(entry.available, 0),
                        "pickup_enabled": entry.pickup_enabled,
                    }
                    for entry in item.locations
                ],
            }
            for item in value.items
        ]
    }


def availability_change(change: inventory_pb2.WatchAvailabilityResponse) -> dict[str, Any]:
    """One Server-Sent `availability` event's data (a JSON object)."""
    return {
        "sku": change.sku,
        "location_id": change.location_id,
        "available": change.available,
        "at": change.at.ToDatetime().isoformat() + "Z",
        "current": change.current,
    }


def customer(value: customers_pb2.Customer) -> models.CustomerRecordOut:
    """The profile with what only the customers service knows beyond API.md's fields."""
    return models.CustomerRecordOut(
        customer_id=value.customer_id,
        name=value.name,
        email=value.email,
        phone=value.phone,
        identities=[
            models.IdentityOut(kind=word(IdentityKind, i.kind), value=i.value)
            for i in value.identities
        ],
        loyalty_points=value.loyalty_points,
        created_at=timestamp(value.created_at),
        loyalty_card=value.loyalty_card or None,
        loyalty_debt=value.loyalty_debt,
        erased=value.erased,
        preferences=models.PreferencesOut(
            channels=[word(ContactChannel, c) for c in value.preferences.channels],
            marketing_consent=[
                word(ContactChannel, c) for c in value.preferences.marketing_consent
            ],
        ),
    )


def activity(value: customers_pb2.Activity) -> models.ActivityOut:
    is_return = ActivityKind.from_proto(value.kind) is ActivityKind.RETURN
    return models.ActivityOut(
        kind=word(ActivityKind, value.kind),
        reference_id=value.reference_id,
        order_id=value.order_id if is_return else value.reference_id,
        return_id=value.reference_id if is_return else None,
        channel=word(Channel, value.channel),
        status=value.status,
        occurred_at=timestamp(value.occurred_at),
    )


def fulfillment_lines(
    lines: Iterable[orders_pb2.FulfillmentLine],
) -> list[models.FulfillmentLineOut]:
    return [
        models.FulfillmentLineOut(
            sku=line.sku, quantity=line.quantity, quantity_picked=line.quantity_picked
        )
        for line in lines
    ]


def fulfillment(value: orders_pb2.Fulfillment, *, show_pickup_code: bool) -> models.FulfillmentOut:
    """`pickup_code` only for who may see it, `arrived_at`/`arrival_note` only
    once the customer arrived: left unset otherwise (the routes leave unset
    fields out)."""
    out = models.FulfillmentOut(
        fulfillment_id=value.fulfillment_id,
        order_id=value.order_id,
        type=word(FulfillmentType, value.type),
        location_id=value.location_id,
        status=word(FulfillmentStatus, value.status),
        lines=fulfillment_lines(value.lines),
        tracking=(
            models.TrackingOut(
                carrier=value.tracking.carrier, tracking_number=value.tracking.tracking_number
            )
            if value.HasField("tracking") and value.tracking.tracking_number
            else None
        ),
        updated_at=timestamp(value.updated_at),
        overdue=value.overdue,
    )
    if show_pickup_code and value.pickup_code:
        out.pickup_code = value.pickup_code
    if value.HasField("arrived_at"):
        out.arrived_at = timestamp(value.arrived_at)
        out.arrival_note = value.arrival_note
    return out


def event(value: orders_pb2.OrderEvent) -> models.EventOut:
    return models.EventOut(at=timestamp(value.at), type=value.type, detail=value.detail)


def payment(value: payments_pb2.Payment) -> models.PaymentOut:
    return models.PaymentOut(
        payment_id=value.payment_id,
        tender_type=word(TenderType, value.tender_type),
        status=word(PaymentStatus, value.status),
        authorized=_money_if(value, "authorized"),
        captured=_money_if(value, "captured"),
        refunded=_money_if(value, "refunded"),
        released=_money_if(value, "released"),
        card_brand=value.card_brand or None,
        card_last4=value.card_last4 or None,
    )


def order_totals(value: orders_pb2.Totals) -> models.OrderTotalsOut:
    return models.OrderTotalsOut(
        subtotal=money(value.subtotal),
        discount=money(value.discount),
        shipping=money(value.shipping),
        tax=money(value.tax),
        total=money(value.total),
    )


def order(
    value: orders_pb2.Order,
    payments: Iterable[payments_pb2.Payment],
    *,
    show_pickup_code: bool,
) -> models.OrderOut:
    return models.OrderOut(
        order_id=value.order_id,
        customer_id=value.customer_id,
        channel=word(Channel, value.channel),
        status=word(OrderStatus, value.status),
        lines=[
            models.OrderLineOut(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=_money_if(line, "unit_price"),
                returnable_days=line.returnable_days,
                returned_quantity=line.returned_quantity,
                quantity_cancelled=line.quantity_cancelled,
                discount=_money_if(line, "discount"),
                tax=_money_if(line, "tax"),
                total=_money_if(line, "total"),
            )
            for line in value.lines
        ],
        totals=order_totals(value.totals) if value.HasField("totals") else None,
        promotions_applied=[
            models.OrderPromotionOut(
                promotion_id=p.promotion_id,
                name=p.name,
                code=p.code or None,
                discount=money(p.discount),
            )
            for p in value.promotions_applied
        ],
        tax_rule=value.tax_rule or None,
        shipping_method=value.shipping_method or None,
        coupon_codes=list(value.coupon_codes),
        exchange_for=value.exchange_for or None,
        fulfillments=[
            fulfillment(f, show_pickup_code=show_pickup_code) for f in value.fulfillments
        ],
        payments=[payment(p) for p in payments],
        events=[event(e) for e in value.events],
        workflow_id=value.workflow_id or f"order-{value.order_id}",
        total=_money_if(value, "total"),
        associate_id=value.associate_id or None,
        store_id=value.store_id or None,
        referral_associate_id=value.referral_associate_id or None,
        credited_associate_id=value.credited_associate_id or None,
        created_at=timestamp(value.created_at),
    )


def task(value: orders_pb2.StoreTask) -> models.TaskOut:
    out = models.TaskOut(
        type=word(TaskType, value.type),
        fulfillment_id=value.fulfillment_id or None,
        return_id=value.return_id or None,
        order_id=value.order_id,
        status=word(FulfillmentStatus, value.fulfillment_status)
        or word(ReturnStatus, value.return_status),
        lines=fulfillment_lines(value.lines),
        since=timestamp(value.since),
        overdue=value.overdue,
    )
    if value.HasField("arrived_at"):
        out.arrived_at = timestamp(value.arrived_at)
        out.arrival_note = value.arrival_note
    return out


def return_(value: orders_pb2.Return) -> models.ReturnOut:
    return models.ReturnOut(
        return_id=value.return_id,
        order_id=value.order_id,
        customer_id=value.customer_id,
        status=word(ReturnStatus, value.status),
        method=word(ReturnMethod, value.method),
        location_id=value.location_id or None,
        lines=[
            models.ReturnLineOut(
                sku=line.sku,
                quantity=line.quantity,
                condition=word(ItemCondition, line.condition),
            )
            for line in value.lines
        ],
        refund=_money_if(value, "refund"),
        refunds=[
            models.RefundOut(
                payment_id=r.payment_id or None,
                tender_type=word(TenderType, r.tender_type),
                amount=_money_if(r, "amount"),
                status=word(RefundStatus, r.status),
            )
            for r in value.refunds
        ],
        events=[event(e) for e in value.events],
        workflow_id=value.workflow_id,
        channel=word(Channel, value.channel),
        created_at=timestamp(value.created_at),
        refund_method=word(RefundMethod, value.refund_method) or RefundMethod.ORIGINAL,
        replacement_order_id=value.replacement_order_id or None,
        label=(
            models.ReturnLabelOut(carrier=value.label.carrier, reference=value.label.reference)
            if value.HasField("label")
            else None
        ),
    )


def provider_operation(value: payments_pb2.ProviderOperation) -> models.ProviderOperationOut:
    return models.ProviderOperationOut(
        operation=word(ProviderOperationKind, value.operation),
        amount=_money_if(value, "amount"),
        outcome=word(ProviderOutcome, value.outcome),
        at=timestamp(value.at),
    )


def invariants(value: inventory_pb2.CheckInvariantsResponse) -> models.InvariantsOut:
    return models.InvariantsOut(
        healthy=not value.violations,
        rows_checked=value.rows_checked,
        violations=[
            models.InvariantViolationOut(
                location_id=v.location_id,
                sku=v.sku,
                rule=v.rule,
                actual=v.actual,
                expected=v.expected,
            )
            for v in value.violations
        ],
    )


def gift_card(card: payments_pb2.GiftCard, *, with_history: bool) -> models.GiftCardOut:
    out = models.GiftCardOut(code=card.code, balance=money(card.balance))
    if with_history:
        out.history = [
            models.GiftCardEntryOut(
                kind=word(GiftCardEntryKind, entry.kind),
                amount=money(entry.amount),
                reference=entry.reference,
                at=timestamp(entry.at),
            )
            for entry in card.history
        ]
    return out


def store_credit(card: payments_pb2.GiftCard) -> models.StoreCreditOut:
    return models.StoreCreditOut(code=card.code, balance=money(card.balance))


# ---- customers.v1: cart, timeline, messages, points, export


def cart(value: customers_pb2.Cart) -> models.CartOut:
    return models.CartOut(
        customer_id=value.customer_id,
        lines=[models.CartLineOut(sku=line.sku, quantity=line.quantity) for line in value.lines],
        channel=word(Channel, value.channel),
        version=value.version,
        updated_at=timestamp(value.updated_at),
    )


def etag(version: int) -> str:
    return f'"{version}"'


def timeline_event(value: customers_pb2.TimelineEvent) -> models.TimelineEventOut:
    return models.TimelineEventOut(
        event_id=value.event_id,
        kind=word(TimelineEventKind, value.kind),
        reference_id=value.reference_id,
        order_id=value.order_id or None,
        channel=word(Channel, value.channel),
        summary=value.summary,
        amount=(
            models.Money(amount_minor=value.amount_minor, currency=value.currency)
            if value.currency
            else None
        ),
        at=timestamp(value.at),
    )


def notification(value: customers_pb2.Notification) -> models.NotificationOut:
    return models.NotificationOut(
        notification_id=value.notification_id,
        kind=word(NotificationKind, value.kind),
        channel=word(ContactChannel, value.channel) or None,
        subject=value.subject,
        body=value.body,
        status=word(NotificationStatus, value.status),
        marketing=value.marketing,
        reference_id=value.reference_id or None,
        created_at=timestamp(value.created_at),
    )


def loyalty_entry(value: customers_pb2.LoyaltyEntry) -> models.LoyaltyEntryOut:
    return models.LoyaltyEntryOut(
        entry_id=value.entry_id,
        reason=word(LoyaltyReason, value.reason),
        reference_id=value.reference_id,
        points=value.points,
        balance_after=value.balance_after,
        debt_after=value.debt_after,
        at=timestamp(value.at),
    )


def export(value: customers_pb2.ExportCustomerResponse) -> models.ExportOut:
    return models.ExportOut(
        customer=customer(value.customer),
        aliases=list(value.aliases),
        orders=[activity(a) for a in value.activities],
        timeline=[timeline_event(e) for e in value.timeline],
        cart=cart(value.cart),
        loyalty_history=[loyalty_entry(e) for e in value.loyalty_history],
        notifications=[notification(n) for n in value.notifications],
        merges=[
            models.MergeRecordOut(
                merge_id=m.merge_id,
                survivor_customer_id=m.survivor_customer_id,
                duplicate_customer_id=m.duplicate_customer_id,
                actor=m.actor,
                at=timestamp(m.at),
            )
            for m in value.merges
        ],
    )


def merged_customer(value: customers_pb2.MergeCustomersResponse) -> models.MergedCustomerOut:
    record = customer(value.customer).model_dump(exclude_unset=True)
    return models.MergedCustomerOut(**record, merge_id=value.merge_id)


# ---- REST bodies → gRPC messages: every REST word becomes its enum number here


def channel(value: Channel | None) -> common_pb2.Channel:
    """A channel's wire number; unspecified for none."""
    return value.to_proto() if value is not None else common_pb2.CHANNEL_UNSPECIFIED


def contact_channels(words: Iterable[str]) -> list[customers_pb2.ContactChannel]:
    """Unspecified for a word that is no channel: the customers service names the field."""
    found = [ContactChannel.parse(w) for w in words]
    return [c.to_proto() if c else customers_pb2.CONTACT_CHANNEL_UNSPECIFIED for c in found]


def money_message(value: models.Money) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=value.amount_minor, currency=value.currency)


def location_message(body: models.LocationIn) -> inventory_pb2.Location:
    return inventory_pb2.Location(
        location_id=body.location_id,
        name=body.name,
        kind=body.kind.to_proto(),
        point=common_pb2.GeoPoint(lat=body.lat, lon=body.lon),
        pickup_enabled=body.pickup_enabled,
        ship_from_enabled=body.ship_from_enabled,
        daily_order_capacity=body.daily_order_capacity,
        pickup_window_hours=body.pickup_window_hours,
        pick_sla_minutes=body.pick_sla_minutes,
        tax_region=body.tax_region,
        curbside_sla_minutes=body.curbside_sla_minutes,
        timezone=body.timezone,
    )


def product_message(body: models.ProductIn) -> inventory_pb2.Product:
    return inventory_pb2.Product(
        sku=body.sku,
        name=body.name,
        price=money_message(body.price),
        returnable_days=body.returnable_days,
    )


def _required(field: str, detail: str, message: str) -> Problem:
    return Problem(400, detail, slug="validation-error", errors=[(field, message)])


def fulfillment_request(wanted: models.FulfillmentIn) -> orders_pb2.FulfillmentRequest:
    """400 naming the field a pickup or a till sale (a location) or a shipment
    (an address) lacks."""
    if wanted.type in (FulfillmentType.PICKUP, FulfillmentType.CARRY_OUT):
        if not wanted.location_id:
            raise _required(
                "fulfillment.location_id",
                f"a {wanted.type} needs fulfillment.location_id",
                f"is required for {wanted.type}",
            )
        return orders_pb2.FulfillmentRequest(
            type=wanted.type.to_proto(),
            location_id=wanted.location_id,
            shipping_method=wanted.shipping_method or "",
        )
    if wanted.address is None:
        raise _required(
            "fulfillment.address", "a shipment needs fulfillment.address", "is required for ship"
        )
    address = wanted.address
    return orders_pb2.FulfillmentRequest(
        type=wanted.type.to_proto(),
        address=common_pb2.Address(
            line1=address.line1,
            city=address.city,
            postal_code=address.postal_code,
            country=address.country,
            point=common_pb2.GeoPoint(lat=address.lat, lon=address.lon),
            region=address.region,
        ),
        shipping_method=wanted.shipping_method or "",
    )


def tender(
    value: models.TenderIn, index: int, where: str = "payment.tenders"
) -> payments_pb2.Tender:
    """400 when a card comes without its token or a gift card without its code."""
    field = f"{where}[{index}]"
    if value.type in (TenderType.CARD, TenderType.CARD_PRESENT) and not value.token:
        raise _required(f"{field}.token", "a card tender needs a token", "is required for a card")
    if value.type is TenderType.GIFT_CARD and not value.code:
        raise _required(
            f"{field}.code", "a gift card tender needs a code", "is required for a gift card"
        )
    return payments_pb2.Tender(
        type=value.type.to_proto(),
        token=value.token or "",
        code=value.code or "",
        amount_minor=value.amount_minor or 0,
    )


def order_lines(lines: Iterable[models.OrderLineIn]) -> list[common_pb2.SkuQuantity]:
    return [common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity) for line in lines]


def picked_lines(lines: Iterable[models.PickLineIn]) -> list[common_pb2.SkuQuantity]:
    return [common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity_picked) for line in lines]


def return_lines(
    lines: Iterable[models.ReturnLineIn | models.ReceivedLineIn],
) -> list[orders_pb2.ReturnLine]:
    return [
        orders_pb2.ReturnLine(
            sku=line.sku, quantity=line.quantity, condition=line.condition.to_proto()
        )
        for line in lines
    ]


def cart_lines(lines: Iterable[models.CartLineIn]) -> list[customers_pb2.CartLine]:
    return [customers_pb2.CartLine(sku=line.sku, quantity=line.quantity) for line in lines]


def create_return_request(
    body: models.ReturnIn,
    *,
    idempotency_key: str,
    location_id: str,
    channel: Channel,
    actor: str,
) -> orders_pb2.CreateReturnRequest:
    return orders_pb2.CreateReturnRequest(
        idempotency_key=idempotency_key,
        order_id=body.order_id,
        lines=return_lines(body.lines),
        method=body.method.to_proto(),
        location_id=location_id,
        refund_method=body.refund_method.to_proto(),
        channel=channel.to_proto(),
        actor=actor,
        exchange=exchange_request(body.exchange) if body.exchange is not None else None,
    )


def exchange_request(body: models.ExchangeIn) -> orders_pb2.ExchangeRequest:
    return orders_pb2.ExchangeRequest(
        lines=[common_pb2.SkuQuantity(sku=line.sku, quantity=line.quantity) for line in body.lines],
        fulfillment=_exchange_fulfillment(body.fulfillment),
    )


def _exchange_fulfillment(wanted: models.FulfillmentIn) -> orders_pb2.FulfillmentRequest:
    """fulfillment_request's checks, its field names under exchange."""
    try:
        return fulfillment_request(wanted)
    except Problem as problem:
        problem.errors = [("exchange." + name, why) for name, why in problem.errors]
        raise


def adjust_stock_request(
    body: models.AdjustmentIn, *, idempotency_key: str, actor: str
) -> inventory_pb2.AdjustStockRequest:
    return inventory_pb2.AdjustStockRequest(
        idempotency_key=idempotency_key,
        location_id=body.location_id,
        sku=body.sku,
        delta=body.delta,
        reason=body.reason.to_proto(),
        actor=actor,
        reference=body.reference or "",
    )


def safety_stock_request(body: models.SafetyStockIn) -> inventory_pb2.SetSafetyStockRequest:
    return inventory_pb2.SetSafetyStockRequest(
        location_id=body.location_id,
        sku=body.sku,
        channel=body.channel.to_proto(),
        quantity=body.quantity,
    )


def store_tasks_request(
    store_id: str, task_type: TaskType | None, *, limit: int, cursor: str
) -> orders_pb2.ListStoreTasksRequest:
    return orders_pb2.ListStoreTasksRequest(
        store_id=store_id,
        type=task_type.to_proto() if task_type else None,
        limit=limit,
        page_token=cursor,
    )


def price_cart(out: models.CartOut, quote: orders_pb2.Quote) -> None:
    """Puts a quote's prices on the cart's lines (the quote lists them merged, by sku)."""
    priced = {line.sku: line for line in quote.lines}
    for line in out.lines:
        found = priced.get(line.sku)
        if found is None:
            continue
        line.unit_price = money(found.unit_price)
        line.discount = money(found.discount)
        line.total = money(found.total)
    out.totals = models.CartTotalsOut(
        subtotal=money(quote.totals.subtotal),
        discount=money(quote.totals.discount),
        total=money(quote.totals.total),
    )
    out.promotions_applied = [
        {"promotion_id": p.promotion_id, "name": p.name, "discount": money(p.discount).model_dump()}
        for p in quote.promotions_applied
    ]
