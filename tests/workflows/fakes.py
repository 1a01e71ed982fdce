"""Fake services for the journeys: activities under the real names, in memory.

Each fake keeps what it was asked, so a test can check the journey called the
right thing with the right amounts, in the right order.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.contracts.activities import (
    AdjustStockInput,
    AuthorizeInput,
    CaptureInput,
    CheckoutCartInput,
    CommitReservationInput,
    ConfirmReservationInput,
    CustomerActivityInput,
    ExchangePlaced,
    FindSourcesInput,
    FindSourcesResult,
    GetLocationInput,
    ListPaymentsInput,
    LocationInfo,
    NotificationInput,
    OrderPlacedInput,
    OrderProgress,
    PaymentInfo,
    PaymentList,
    PlaceExchangeInput,
    ReauthorizeInput,
    RefundInput,
    ReleaseReservationInput,
    ReleaseReservationLinesInput,
    ReservationInfo,
    ReserveStockInput,
    ReturnProgress,
    SkuQty,
    SourceAllocationInfo,
    SourceOptionInfo,
    StockInfo,
    TimelineEventInput,
    VoidInput,
)
from workflows.contracts.delivery import ParcelReport, TrackParcelInput
from workflows.contracts.stores import StoreNotificationInput


def _now() -> datetime:
    """The (time-skipping) server's time of the activity's attempt."""
    return activity.info().current_attempt_scheduled_time


def refused(reason: str, message: str, **details: str) -> ApplicationError:
    """What the real activities raise for a FAILED_PRECONDITION with a reason."""
    return ApplicationError(message, details, type=reason, non_retryable=True)


def unavailable() -> ApplicationError:
    """What the real activities raise for UNAVAILABLE (retried)."""
    return ApplicationError("the service is unavailable", type="UNAVAILABLE")


def internal() -> ApplicationError:
    """What the real activities raise for INTERNAL: retryable as sent, but the
    journeys' retry policies do not retry it (the outcome is unknown)."""
    return ApplicationError("internal error", type="INTERNAL")


# A hook runs when its activity is called: before the effect ("before") or
# after it ("after", so the effect happened whatever the caller hears). It may
# raise (the attempt fails) or wait (a race, or a timeout).
Hook = Callable[[Any], Awaitable[None]]


@dataclass
class FakeServices:
    # Locations where ReserveStock says INSUFFICIENT_STOCK.
    out_of_stock_at: set[str] = field(default_factory=set)
    # Card tokens the provider declines.
    declined_tokens: set[str] = field(default_factory=set)
    # How long a card authorization lives (None: it never lapses, as before
    # issue 11); capturing one past its expires_at is AUTHORIZATION_EXPIRED.
    card_lifetime: timedelta | None = None
    # Card tokens whose re-authorization the provider declines.
    declined_reauth_tokens: set[str] = field(default_factory=set)
    # payment id -> the card token it was authorized with.
    tokens: dict[str, str] = field(default_factory=dict)
    # What FindSources answers for "ship", best first (less the excluded ones).
    sources: list[str] = field(default_factory=list)
    # What FindSources answers for "pickup" (a rerouted pickup), best first.
    pickup_sources: list[str] = field(default_factory=list)
    # A split option FindSources answers for "ship" when `sources` is empty
    # (and more than one location is allowed): location -> its lines.
    split: dict[str, list[SkuQty]] = field(default_factory=dict)
    pickup_window_hours: float = 48.0
    # Where get_location says a location is (lat, lon); others at one point.
    locations: dict[str, tuple[float, float]] = field(default_factory=dict)
    # The store clocks get_location answers (0: the journey's defaults), by
    # location id ("" for every location not listed).
    pick_sla_minutes: dict[str, float] = field(default_factory=dict)
    curbside_sla_minutes: float = 0.0
    # Payments ListPayments returns (for returns).
    payments: dict[str, PaymentInfo] = field(default_factory=dict)

    # Placement holds (by reservation id) whose time ran out before confirmation.
    expired_holds: set[str] = field(default_factory=set)

    # Exchanges' replacement orders whose placement is refused (declined).
    refused_exchanges: set[str] = field(default_factory=set)

    # Customers the customers service does not know (NOT_FOUND).
    unknown_customers: set[str] = field(default_factory=set)
    # activity log name -> hooks, each used once, in turn.
    before: dict[str, list[Hook]] = field(default_factory=dict)
    after: dict[str, list[Hook]] = field(default_factory=dict)

    calls: list[tuple[str, Any]] = field(default_factory=list)
    # idempotency key -> what was done (payments and stock moves happen once).
    done: dict[str, Any] = field(default_factory=dict)
    adjustments: dict[str, AdjustStockInput] = field(default_factory=dict)
    active_reservations: dict[str, ReserveStockInput] = field(default_factory=dict)
    order_progress: list[OrderProgress] = field(default_factory=list)
    return_progress: list[ReturnProgress] = field(default_factory=list)
    customer_activities: list[CustomerActivityInput] = field(default_factory=list)
    # event_id -> event: a retried activity lands on the same key.
    timeline: dict[str, TimelineEventInput] = field(default_factory=dict)
    notifications: dict[str, NotificationInput] = field(default_factory=dict)
    # The store outbox: notification id -> the message (sent once per id).
    store_notifications: dict[str, StoreNotificationInput] = field(default_factory=dict)
    # The carrier: a parcel is delivered at its Nth tracking question (by
    # tracking number; None: never), and until then says to ask again after
    # parcel_check_seconds.
    parcel_delivered_at_call: int | None = None
    parcel_check_seconds: float = 3600.0
    parcel_calls: dict[str, int] = field(default_factory=dict)

    def called(self, name: str) -> list[Any]:
        return [argument for call, argument in self.calls if call == name]

    def _log(self, name: str, argument: Any) -> None:
        self.calls.append((name, argument))

    def on(self, name: str, hook: Hook, *, after: bool = False) -> None:
        """Runs `hook` at the next call of `name` (its log name)."""
        (self.after if after else self.before).setdefault(name, []).append(hook)

    async def _enter(self, name: str, argument: Any) -> None:
        self._log(name, argument)
        hooks = self.before.get(name)
        if hooks:
            await hooks.pop(0)(argument)

    async def _leave(self, name: str, argument: Any) -> None:
        hooks = self.after.get(name)
        if hooks:
            await hooks.pop(0)(argument)

    def _customer(self, customer_id: str) -> None:
        if customer_id in self.unknown_customers:
            raise ApplicationError(
                f"customer {customer_id} not found",
                {"missing_ids": customer_id},
                type="NOT_FOUND",
                non_retryable=True,
            )

    # ------------------------------------------------------------ inventory

    @activity.defn(name="inventory.reserve_stock")
    async def reserve_stock(self, request: ReserveStockInput) -> ReservationInfo:
        await self._enter("reserve", request)
        if request.location_id in self.out_of_stock_at:
            sku = request.lines[0].sku
            raise refused("INSUFFICIENT_STOCK", f"not enough {sku}", sku=sku, available="0")
        if request.reservation_id not in self.done:
            self.done[request.reservation_id] = request
            self.active_reservations[request.reservation_id] = request
        await self._leave("reserve", request)
        return ReservationInfo(request.reservation_id, request.location_id, "active")

    @activity.defn(name="inventory.release_reservation")
    async def release_reservation(self, request: ReleaseReservationInput) -> ReservationInfo:
        await self._enter("release", request)
        held = self.active_reservations.pop(request.reservation_id, None)
        location = held.location_id if held else ""
        await self._leave("release", request)
        return ReservationInfo(request.reservation_id, location, "released")

    @activity.defn(name="inventory.release_reservation_lines")
    async def release_reservation_lines(
        self, request: ReleaseReservationLinesInput
    ) -> ReservationInfo:
        await self._enter("release_lines", request)
        held = self.active_reservations.get(request.reservation_id)
        if request.idempotency_key not in self.done:
            if held is None:
                raise ApplicationError("nothing held", type="INVALID_STATE", non_retryable=True)
            holding = {line.sku: line.quantity for line in held.lines}
            for line in request.lines:
                if line.quantity > holding.get(line.sku, 0):
                    raise refused("RELEASE_EXCEEDS_HOLD", f"{line.sku}: more than held")
            left = [
                SkuQty(sku, quantity - next((x.quantity for x in request.lines if x.sku == sku), 0))
                for sku, quantity in holding.items()
            ]
            held.lines = [line for line in left if line.quantity > 0]
            self.done[request.idempotency_key] = request
            if not held.lines:
                del self.active_reservations[request.reservation_id]
        await self._leave("release_lines", request)
        return ReservationInfo(request.reservation_id, held.location_id if held else "", "active")

    @activity.defn(name="inventory.confirm_reservation")
    async def confirm_reservation(self, request: ConfirmReservationInput) -> ReservationInfo:
        await self._enter("confirm", request)
        held = self.active_reservations.get(request.reservation_id)
        if held is None:
            return ReservationInfo("", "", "")
        if request.reservation_id in self.expired_holds:
            del self.active_reservations[request.reservation_id]
            return ReservationInfo(request.reservation_id, held.location_id, "expired")
        return ReservationInfo(request.reservation_id, held.location_id, "active")

    @activity.defn(name="inventory.commit_reservation")
    async def commit_reservation(self, request: CommitReservationInput) -> ReservationInfo:
        await self._enter("commit", request)
        key = f"commit/{request.reservation_id}"
        if key not in self.done:
            self.done[key] = self.active_reservations.pop(request.reservation_id)
        await self._leave("commit", request)
        return ReservationInfo(request.reservation_id, self.done[key].location_id, "committed")

    @activity.defn(name="inventory.find_sources")
    async def find_sources(self, request: FindSourcesInput) -> FindSourcesResult:
        await self._enter("find_sources", request)
        ranked = self.pickup_sources if request.fulfillment_type == "pickup" else self.sources
        ids = [loc for loc in ranked if loc not in request.exclude_location_ids]
        options = [
            SourceOptionInfo([SourceAllocationInfo(loc, list(request.lines))]) for loc in ids
        ]
        if not ids and self.split and request.max_locations > 1:
            allocations = [SourceAllocationInfo(loc, lines) for loc, lines in self.split.items()]
            options = [SourceOptionInfo(allocations)]
            ids = [allocations[0].location_id]
        await self._leave("find_sources", request)
        return FindSourcesResult(location_ids=ids, options=options)

    @activity.defn(name="inventory.get_location")
    async def get_location(self, request: GetLocationInput) -> LocationInfo:
        await self._enter("get_location", request)
        return LocationInfo(
            request.location_id,
            "Store",
            self.pickup_window_hours,
            lat=self.locations.get(request.location_id, (41.5, -72.5))[0],
            lon=self.locations.get(request.location_id, (41.5, -72.5))[1],
            pick_sla_minutes=self.pick_sla_minutes.get(
                request.location_id, self.pick_sla_minutes.get("", 0.0)
            ),
            curbside_sla_minutes=self.curbside_sla_minutes,
        )

    @activity.defn(name="inventory.adjust_stock")
    async def adjust_stock(self, request: AdjustStockInput) -> StockInfo:
        await self._enter("adjust_stock", request)
        self.adjustments.setdefault(request.idempotency_key, request)
        await self._leave("adjust_stock", request)
        return StockInfo(request.location_id, request.sku, request.delta, request.delta)

    # ------------------------------------------------------------- payments

    @activity.defn(name="payments.authorize")
    async def authorize(self, request: AuthorizeInput) -> PaymentInfo:
        await self._enter("authorize", request)
        if request.token in self.declined_tokens:
            raise refused("PAYMENT_DECLINED", "the card was declined", reference=request.reference)
        payment_id = f"pay-{request.idempotency_key}"
        if payment_id not in self.payments:
            self.payments[payment_id] = PaymentInfo(
                payment_id=payment_id,
                tender_type=request.tender_type,
                status="authorized",
                currency=request.currency,
                authorized_minor=request.amount_minor,
                expires_at=self._expiry(request.tender_type),
            )
            self.tokens[payment_id] = request.token
        await self._leave("authorize", request)
        return self.payments[payment_id]

    def _expiry(self, tender_type: str) -> str:
        if self.card_lifetime is None or tender_type != "card":
            return ""
        return (_now() + self.card_lifetime).isoformat()

    @activity.defn(name="payments.reauthorize")
    async def reauthorize(self, request: ReauthorizeInput) -> PaymentInfo:
        await self._enter("reauthorize", request)
        payment = self.payments[request.payment_id]
        if request.idempotency_key not in self.done:
            if payment.status not in ("authorized", "captured"):
                raise refused("INVALID_PAYMENT_STATE", f"cannot reauthorize a {payment.status}")
            if self.tokens.get(payment.payment_id) in self.declined_reauth_tokens:
                raise refused("PAYMENT_DECLINED", "the card was declined")
            self.done[request.idempotency_key] = request
            payment.expires_at = self._expiry(payment.tender_type)
        await self._leave("reauthorize", request)
        return payment

    @activity.defn(name="payments.capture")
    async def capture(self, request: CaptureInput) -> PaymentInfo:
        await self._enter("capture", request)
        payment = self.payments[request.payment_id]
        if (
            request.idempotency_key not in self.done
            and payment.expires_at
            and _now() >= datetime.fromisoformat(payment.expires_at)
        ):
            raise refused("AUTHORIZATION_EXPIRED", "the authorization expired")
        if request.idempotency_key not in self.done:
            self.done[request.idempotency_key] = request
            payment.captured_minor += request.amount_minor
            payment.status = "captured"
        await self._leave("capture", request)
        return payment

    @activity.defn(name="payments.void")
    async def void(self, request: VoidInput) -> PaymentInfo:
        await self._enter("void", request)
        payment = self.payments[request.payment_id]
        if payment.status == "authorized":
            payment.status = "voided"
        await self._leave("void", request)
        return payment

    @activity.defn(name="payments.refund")
    async def refund(self, request: RefundInput) -> PaymentInfo:
        await self._enter("refund", request)
        payment = self.payments[request.payment_id]
        if request.idempotency_key not in self.done:
            self.done[request.idempotency_key] = request
            payment.refunded_minor += request.amount_minor
        await self._leave("refund", request)
        if request.to_store_credit:
            # One store credit per customer, as the payments service keeps it.
            return replace(payment, store_credit_code=f"sc-{request.customer_id}")
        return payment

    @activity.defn(name="payments.list_payments")
    async def list_payments(self, request: ListPaymentsInput) -> PaymentList:
        await self._enter("list_payments", request)
        listed = PaymentList(payments=list(self.payments.values()))
        await self._leave("list_payments", request)
        return listed

    # --------------------------------------------------- orders, customers

    @activity.defn(name="orders.record_order_progress")
    async def record_order_progress(self, progress: OrderProgress) -> str:
        await self._enter("record_order", progress)
        self.order_progress.append(progress)
        await self._leave("record_order", progress)
        return progress.status

    @activity.defn(name="orders.place_exchange")
    async def place_exchange(self, request: PlaceExchangeInput) -> ExchangePlaced:
        await self._enter("place_exchange", request)
        if request.order_id in self.refused_exchanges:
            raise refused("PAYMENT_DECLINED", "the difference was declined")
        self.done.setdefault(f"exchange/{request.order_id}", request)
        await self._leave("place_exchange", request)
        return ExchangePlaced(request.order_id, "placed")

    @activity.defn(name="orders.record_return_progress")
    async def record_return_progress(self, progress: ReturnProgress) -> str:
        await self._enter("record_return", progress)
        self.return_progress.append(progress)
        await self._leave("record_return", progress)
        return progress.status

    @activity.defn(name="customers.record_activity")
    async def record_activity(self, request: CustomerActivityInput) -> None:
        await self._enter("customer_activity", request)
        self._customer(request.customer_id)
        self.customer_activities.append(request)
        await self._leave("customer_activity", request)

    @activity.defn(name="customers.record_timeline_event")
    async def record_timeline_event(self, request: TimelineEventInput) -> bool:
        await self._enter("timeline", request)
        self._customer(request.customer_id)
        recorded = request.event_id not in self.timeline
        self.timeline.setdefault(request.event_id, request)
        await self._leave("timeline", request)
        return recorded

    @activity.defn(name="customers.send_notification")
    async def send_notification(self, request: NotificationInput) -> str:
        await self._enter("notify", request)
        self._customer(request.customer_id)
        self.notifications.setdefault(request.notification_id, request)
        return "sent"

    @activity.defn(name="customers.record_order_placed")
    async def record_order_placed(self, request: OrderPlacedInput) -> None:
        await self._enter("order_placed", request)
        await self.record_activity(request.activity)
        await self.record_timeline_event(request.timeline)
        await self.checkout_cart(request.cart)

    @activity.defn(name="customers.checkout_cart")
    async def checkout_cart(self, request: CheckoutCartInput) -> bool:
        await self._enter("checkout_cart", request)
        self._customer(request.customer_id)
        return True

    @activity.defn(name="customers.send_store_notification")
    async def send_store_notification(self, request: StoreNotificationInput) -> str:
        await self._enter("store_notify", request)
        self.store_notifications.setdefault(request.notification_id, request)
        await self._leave("store_notify", request)
        return request.notification_id

    @activity.defn(name="carrier.track_parcel")
    async def track_parcel(self, request: TrackParcelInput) -> ParcelReport:
        await self._enter("track_parcel", request)
        calls = self.parcel_calls.get(request.tracking_number, 0) + 1
        self.parcel_calls[request.tracking_number] = calls
        at = self.parcel_delivered_at_call
        await self._leave("track_parcel", request)
        if at is not None and calls >= at:
            return ParcelReport(delivered=True, delivered_at=request.shipped_at)
        return ParcelReport(delivered=False, check_again_seconds=self.parcel_check_seconds)

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.reserve_stock,
            self.release_reservation,
            self.release_reservation_lines,
            self.commit_reservation,
            self.confirm_reservation,
            self.find_sources,
            self.get_location,
            self.adjust_stock,
            self.authorize,
            self.capture,
            self.void,
            self.reauthorize,
            self.refund,
            self.list_payments,
            self.record_order_progress,
            self.record_return_progress,
            self.place_exchange,
            self.record_activity,
            self.record_timeline_event,
            self.send_notification,
            self.checkout_cart,
            self.record_order_placed,
            self.send_store_notification,
            self.track_parcel,
        ]
