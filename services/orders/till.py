"""Till sales (issue 14): a carry_out order paid and taken in one call, by the
orders service itself, with no journey.

    pending row (the key's claim) -> soft hold at the store
    -> authorize the gift cards, then sell the card_present (authorized and
       captured in one payments call; keys from the order id)
    -> sell the hold as a pos_sale                       <- the point of no return
    -> record the cash due, capture the gift cards (final)
    -> the customer's history, timeline and points (with a customer)
    -> the read model: completed, its one fulfillment picked_up at the store

Why no workflow: a till sale has nothing left to wait for once it is paid,
and the placement bench on this machine puts a journey's start and first
activities through the dev server's SQLite far past the 150 ms p99 budget at
8 in flight, while this path is four gRPC calls (bench/till.py measures it
beside exactly those calls) plus the row writes. The card_present is
captured at once (AuthorizePaymentRequest.capture): one payments call
instead of an authorization and a capture after the stock is sold, the cut
measured in bench/README.md `till-sale`; the price is that a sale given back
after the card was read refunds the card instead of voiding it. Every step
is keyed by the order id (inventory and payments answer a repeated id with
the first outcome), so a retry of the same Idempotency-Key walks the same
steps and finds the same sale.

Nothing is lost or doubled on a crash between steps: a pending row nobody
moves for `recover_after` is taken over by `recover_sale` (the orders
service's placement recovery calls it for carry_out rows). It asks inventory
to release the hold, and inventory's answer decides under the row lock: a
hold already sold comes back committed, and the sale is finished forward
(cash, captures, history, completed: all keyed, so the steps done before the
crash are not done twice); any other hold is given back, every authorization
of the order voided (the card sold at once refunded), and the row rejected.
Cash is recorded only after the hold is sold, so a sale given back never has
cash to hand back.

A definite refusal (sold out, declined) gives back what this attempt took and
is kept on the row (a retry of the key is told the same). An unknown outcome
(a dependency down) is a 503 and the row stays pending for the retry or for
recovery: never a 422 for a sale that may have gone through.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from omni.payments.v1 import payments_pb2
from omni.words import (
    Channel,
    FulfillmentStatus,
    FulfillmentType,
    OrderStatus,
    PaymentStatus,
    ReservationStatus,
    TenderType,
)
from services.common.errors import BusinessRuleViolation, Unavailable
from services.common.telemetry import carrying_order_id
from services.common.together import side_by_side
from services.orders.domain import till as rules
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import (
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderRecord,
)
from services.orders.placement import Hold, Placed, interrupted
from workflows.contracts.activities import PaymentInfo
from workflows.contracts.journeys import (
    PLACEMENT_HOLD_TTL_SECONDS,
    authorization_key,
    fulfillment_id_of,
    order_workflow_id,
    placement_hold_id,
)

if TYPE_CHECKING:
    from services.orders.use_cases import Dependencies

logger = logging.getLogger(__name__)

DEFAULT_RECOVER_AFTER = timedelta(minutes=2)


class TillStock(Protocol):
    """Inventory (adapters/till.py)."""

    async def hold(
        self,
        reservation_id: str,
        order_id: str,
        location_id: str,
        lines: list[tuple[str, int]],
        channel: Channel,
        ttl_seconds: int,
    ) -> Hold: ...
    async def sell(self, reservation_id: str) -> ReservationStatus | None:
        """Commits the hold as a pos_sale; the reservation's status after."""
        ...

    async def give_back(self, reservation_id: str) -> ReservationStatus | None:
        """Releases the hold; the reservation's status after (committed: it
        was sold first, and stays sold)."""
        ...


class TillPayments(Protocol):
    """Payments (adapters/till.py)."""

    async def authorize_answered(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        """`authorize`, with the payment as payments answered it (serialized)."""
        ...

    async def sell_card(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        """A card_present authorized and captured in full in one call; the
        payment also as payments answered it (serialized payments.v1.Payment)."""
        ...

    async def capture(self, key: str, payment_id: str, amount_minor: int, currency: str) -> bytes:
        """The payment after, as payments answered it (serialized)."""
        ...

    async def void(self, key: str, payment_id: str) -> None: ...
    async def refund(self, key: str, payment_id: str, amount_minor: int, currency: str) -> None:
        """Gives a card sold at once its money back (to the card)."""
        ...

    async def payments_of(self, reference: str) -> list[PaymentInfo]: ...
    async def listed(self, reference: str) -> list[payments_pb2.Payment]:
        """The order's payments as the API shows them; [] when they cannot be read."""
        ...


class TillHistory(Protocol):
    """The customer's records (adapters/till.py, the customers service)."""

    async def record_sale(self, order: OrderRecord) -> None: ...


def _no_checkpoint(_step: str) -> None:
    return None


@dataclass(frozen=True)
class Till:
    stock: TillStock
    payments: TillPayments
    history: TillHistory
    # Called after each step ("till/row", "till/hold", "till/authorize/<i>",
    # "till/sold", "till/paid", "till/history"): the fault tests' failpoint.
    checkpoint: Callable[[str], None] = field(default=_no_checkpoint)
    hold_ttl_seconds: int = PLACEMENT_HOLD_TTL_SECONDS
    recover_after: timedelta = DEFAULT_RECOVER_AFTER


def cash_key(order_id: str) -> str:
    return f"{order_workflow_id(order_id)}/till/cash"


def capture_key(order_id: str, payment_id: str) -> str:
    return f"{order_workflow_id(order_id)}/till/capture/{payment_id}"


def void_key(order_id: str, payment_id: str) -> str:
    return f"{order_workflow_id(order_id)}/till/void/{payment_id}"


def refund_key(order_id: str, payment_id: str) -> str:
    return f"{order_workflow_id(order_id)}/till/refund/{payment_id}"


def _card_last(tenders: list[RequestedTender], amounts: list[int]) -> list[int]:
    """The indexes of the tenders to take before the sale, the card_present
    last: a gift card refused before the card is read costs no refund."""
    taken = [i for i, t in enumerate(tenders) if amounts[i] > 0 and t.type != TenderType.CASH]
    return sorted(taken, key=lambda i: tenders[i].type == TenderType.CARD_PRESENT)


def _lines(order: OrderRecord) -> list[tuple[str, int]]:
    return [(line.sku, line.quantity) for line in order.lines]


async def _reject(deps: Dependencies, order_id: str, refusal: BusinessRuleViolation) -> None:
    async with deps.storage.unit_of_work() as uow:
        await uow.records.mark_rejected(order_id, refusal)
        await uow.commit()


@dataclass
class _Sale:
    deps: Dependencies
    till: Till
    order: OrderRecord
    give_up_at: float
    authorized: list[PaymentInfo] = field(default_factory=list)
    # payment id -> the payment as payments last answered it (serialized): the
    # sale's answer carries them, so nobody lists them again.
    answered: dict[str, bytes] = field(default_factory=dict)

    @property
    def order_id(self) -> str:
        return self.order.order_id

    def step(self, name: str) -> None:
        self.till.checkpoint(name)
        if time.monotonic() > self.give_up_at:
            # Recovery may take the row over from here: the retry finds out.
            raise Unavailable("the till sale took too long; try again with the same key")

    async def undo_payments(self, payments: list[PaymentInfo]) -> None:
        """Gives back what was taken before the sale: authorizations voided,
        the card_present sold at once refunded (only a sale never made
        reaches here, so nothing captured is kept)."""
        for payment in payments:
            if payment.status == PaymentStatus.AUTHORIZED:
                await self.till.payments.void(
                    void_key(self.order_id, payment.payment_id), payment.payment_id
                )
            elif (
                payment.status == PaymentStatus.CAPTURED
                and payment.tender_type == TenderType.CARD_PRESENT
                and payment.captured_minor > payment.refunded_minor
            ):
                await self.till.payments.refund(
                    refund_key(self.order_id, payment.payment_id),
                    payment.payment_id,
                    payment.captured_minor - payment.refunded_minor,
                    payment.currency,
                )

    async def give_back(self, refusal: BusinessRuleViolation) -> None:
        """Before the hold is sold: gives back what this attempt took,
        releases the hold and keeps the refusal on the row."""
        await self.undo_payments(self.authorized)
        await self.till.stock.give_back(placement_hold_id(self.order_id))
        await _reject(self.deps, self.order_id, refusal)

    async def finish(self, authorized: list[PaymentInfo] | None) -> Placed | None:
        """After the hold is sold: cash due recorded, authorizations captured
        (side by side: each keyed, none waits on another), the customer's
        records, completed. `authorized` None: read them from payments (a
        retry or recovery, not the attempt that made them). The sale as this
        call left it, with its payments as payments answered them; None when
        the payments were read (a retry) or another call completed it."""
        order = self.order
        payments = authorized
        if payments is None:
            payments = await self.till.payments.payments_of(self.order_id)
        taken = [p for p in payments if p.tender_type != TenderType.CASH]
        cash_due = order.total.amount_minor - sum(p.authorized_minor for p in taken)
        paying: list[Awaitable[None]] = [
            self._capture(payment)
            for payment in taken
            if payment.status == PaymentStatus.AUTHORIZED
        ]
        if cash_due > 0:
            paying.append(self._record_cash(cash_due))
        await side_by_side(*paying)
        self.till.checkpoint("till/paid")
        if order.customer_id:
            await self.till.history.record_sale(order)
        self.till.checkpoint("till/history")
        completed = await mark_completed(self.deps, order, cash_due)
        if authorized is None or completed is None:
            return None
        # In the order payments made them (ListPayments' order): the tenders
        # as taken, then the cash recorded after the sale.
        ids = [p.payment_id for p in taken] + ([cash_key(self.order_id)] if cash_due > 0 else [])
        return Placed(completed, [self.answered[payment_id] for payment_id in ids])

    async def _capture(self, payment: PaymentInfo) -> None:
        self.answered[payment.payment_id] = await self.till.payments.capture(
            capture_key(self.order_id, payment.payment_id),
            payment.payment_id,
            payment.authorized_minor,
            self.order.total.currency,
        )

    async def _record_cash(self, due_minor: int) -> None:
        _, self.answered[cash_key(self.order_id)] = await self.till.payments.authorize_answered(
            cash_key(self.order_id),
            self.order_id,
            RequestedTender(type=TenderType.CASH, amount_minor=due_minor),
            due_minor,
            self.order.total.currency,
            self.order.channel,
        )


async def mark_completed(
    deps: Dependencies, order: OrderRecord, cash_minor: int
) -> OrderRecord | None:
    """The read model: completed, with its one fulfillment picked up at the
    store (only from pending: a repeat changes nothing). The order as written
    (nothing read back); None when it was no longer pending."""
    now = deps.now()
    fulfillment = FulfillmentRecord(
        fulfillment_id=fulfillment_id_of(order.order_id, 1),
        order_id=order.order_id,
        type=FulfillmentType.CARRY_OUT,
        location_id=order.location_id,
        status=FulfillmentStatus.PICKED_UP,
        lines=[FulfillmentLineRecord(ln.sku, ln.quantity, ln.quantity) for ln in order.lines],
        pickup_code="",
        carrier="",
        tracking_number="",
        updated_at=now,
    )
    paid = f"{order.total.amount_minor} {order.total.currency}"
    detail = f"sold at the till of {order.location_id}: {paid}"
    if cash_minor > 0:
        detail += f", {cash_minor} in cash"
    placed = Event(now, "placed", f"carry_out at {order.location_id}")
    completed = Event(now, "completed", detail)
    async with deps.storage.unit_of_work() as uow:
        written = await uow.records.record_placed(
            order.order_id, [fulfillment], placed, completed=completed
        )
        await uow.commit()
    if written is None:
        return None
    return replace(
        order,
        status=OrderStatus.COMPLETED,
        # The row's is the database's clock, a moment apart (the answer shows neither).
        completed_at=order.completed_at or now,
        rejection_reason="",
        rejection_message="",
        rejection_details={},
        fulfillments=written,
        events=[*order.events, placed, completed],
    )


async def sell_now(
    deps: Dependencies,
    till: Till,
    order: OrderRecord,
    tenders: list[RequestedTender],
    *,
    fresh: bool,
) -> Placed | None:
    """Sells a pending carry_out order (see the module); returns once it is
    completed (the sale as written with its payments as answered, or None
    when they were not this call's: the caller reads them), raises its
    refusal (kept on the row) or Unavailable (pending)."""
    with carrying_order_id(order.order_id):
        return await _sell(deps, till, order, tenders, fresh=fresh)


async def _sell(
    deps: Dependencies,
    till: Till,
    order: OrderRecord,
    tenders: list[RequestedTender],
    *,
    fresh: bool,
) -> Placed | None:
    sale = _Sale(
        deps, till, order, give_up_at=time.monotonic() + till.recover_after.total_seconds() / 2
    )
    if not fresh:
        async with deps.storage.unit_of_work() as uow:
            renewed = await uow.records.renew_placement(order.order_id)
            await uow.commit()
        if not renewed:
            # Recovery has it (it finishes or gives back): the key's next retry
            # reads the outcome. Never a refusal for a sale that may stand.
            raise Unavailable("the till sale is being recovered; retry with the same key")
    sale.step("till/row")
    hold_id = placement_hold_id(order.order_id)
    try:
        hold: Hold = await till.stock.hold(
            hold_id,
            order.order_id,
            order.location_id,
            _lines(order),
            Channel.POS,
            till.hold_ttl_seconds,
        )
    except BusinessRuleViolation as refusal:
        await _reject(deps, order.order_id, refusal)
        raise
    if hold.status == ReservationStatus.COMMITTED:
        # A retry after the hold was sold: finish the same sale.
        return await sale.finish(None)
    if hold.status != ReservationStatus.ACTIVE:
        # The hold ran out or was given back (recovery): nothing was sold.
        await sale.undo_payments(await till.payments.payments_of(order.order_id))
        await _reject(deps, order.order_id, interrupted())
        raise interrupted()
    sale.step("till/hold")
    amounts = rules.split(tenders, order.total.amount_minor).amounts
    try:
        for index in _card_last(tenders, amounts):
            take = (
                till.payments.sell_card
                if tenders[index].type == TenderType.CARD_PRESENT
                else till.payments.authorize_answered
            )
            payment, answered = await take(
                authorization_key(order.order_id, index),
                order.order_id,
                tenders[index],
                amounts[index],
                order.total.currency,
                order.channel,
            )
            sale.authorized.append(payment)
            sale.answered[payment.payment_id] = answered
            sale.step(f"till/authorize/{index}")
    except BusinessRuleViolation as refusal:
        await sale.give_back(refusal)
        raise
    status = await till.stock.sell(hold_id)
    if status != ReservationStatus.COMMITTED:
        # The hold ran out (or recovery gave it back) before it was sold.
        await sale.give_back(interrupted())
        raise interrupted()
    sale.step("till/sold")
    return await sale.finish(sale.authorized)


async def recover_sale(deps: Dependencies, till: Till, order: OrderRecord) -> None:
    """A till sale's pending row nobody moved (see the module): finished when
    its hold was sold, else given back and rejected."""
    sale = _Sale(deps, till, order, give_up_at=float("inf"))
    status = await till.stock.give_back(placement_hold_id(order.order_id))
    if status == ReservationStatus.COMMITTED:
        await sale.finish(None)
        logger.warning("till sale %s stopped after the sale: finished", order.order_id)
        return
    await sale.undo_payments(await till.payments.payments_of(order.order_id))
    await _reject(deps, order.order_id, interrupted())
    logger.warning("till sale %s stopped before the sale: given back", order.order_id)
