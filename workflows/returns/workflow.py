"""Cross-channel returns: receive, restock what can be sold again, refund.

in_store and mail -> awaiting_receipt until `receive` (an associate of the
store, goods in hand, receives an in-store return right after creating it)
(or "expired" when nothing arrives in time, or "rejected" when the receipt
takes none of the lines: nothing returnable arrived). Then sellable lines go back on
the receiving location's shelf, and the returned lines' value is refunded to
the order's payments, gift cards first and the card last — or, when the
return asks for store credit, all of it as store credit to the order's customer.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.order.policies import refusal, refused_for_good, run_activity
from workflows.order.saga import until_done

with workflow.unsafe.imports_passed_through():
    from omni.words import (
        ActivityKind,
        ItemCondition,
        OrderStatus,
        RefundMethod,
        RefundStatus,
        ReturnMethod,
        ReturnStatus,
        StockMovementReason,
        TenderType,
        TimelineEventKind,
    )
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.inventory import InventoryActivities
    from workflows.activities.orders import OrderActivities
    from workflows.activities.payments import PaymentActivities
    from workflows.contracts.activities import (
        AdjustStockInput,
        ConfirmReservationInput,
        CreditTender,
        CustomerActivityInput,
        ExchangePlaced,
        ListPaymentsInput,
        OrderProgress,
        PaymentInfo,
        PaymentList,
        PlaceExchangeInput,
        RefundInput,
        RefundRecord,
        ReleaseReservationInput,
        ReturnProgress,
        TimelineEventInput,
    )
    from workflows.contracts.journeys import (
        ERROR_INVALID_RECEIPT,
        ERROR_INVALID_STATE,
        RECEIVE_UPDATE,
        RETRY_REFUND_UPDATE,
        RETURN_WORKFLOW,
        RETURNED_SIGNAL,
        STATUS_QUERY,
        ReceiveInput,
        ReturnedInput,
        ReturnInput,
        ReturnLineInput,
        order_workflow_id,
        return_workflow_id,
    )
    from workflows.contracts.journeys import ReturnStatus as ReturnStatusView
    from workflows.contracts.messages import lines_text
    from workflows.order import rules

IN_STORE_WAITS_FOR_RECEIPT = "in-store-return-waits-for-receipt"
# How long a mail return may take to arrive before it expires.
MAIL_RECEIPT_WINDOW = timedelta(days=30)
# A refused refund: the return is refund_failed (never refunded) and the
# refund is tried again every REFUND_RETRY_AFTER, REFUND_RETRIES times, or at
# once when an operator sends `retry_refund`; after that it waits up to
# REFUND_OPERATOR_WINDOW for an operator, then ends refund_failed with
# NeedsAttention set.
REFUND_RETRY_AFTER = timedelta(hours=6)
REFUND_RETRIES = 8
REFUND_OPERATOR_WINDOW = timedelta(days=30)
# Runs started before refund_failed existed replay as they ran.
REFUND_FAILED_PATCH = "refund-failed"
# An operator's retry_refund that arrives before the retry loop waits is
# kept (runs before this replay as they ran: the request was dropped).
EARLY_RETRY_PATCH = "early-refund-retry-kept"
# Runs started before a return told its live order replay without the signal.
RETURN_BEFORE_CAPTURE_PATCH = "return-before-capture"
# Runs started before the expiry waited for handlers replay without the check.
EXPIRY_RECEIPT_RACE_PATCH = "expiry-receipt-race"
# Issue 11: damaged units are a damage movement at the receiving location
# (runs started before ignored them and replay as they ran).
DAMAGE_MOVEMENT_PATCH = "returned-damage-movement"
# Issue 11: an exchange's replacement order (ReturnInput.exchange); only runs
# started with one take these steps.
EXCHANGE_PATCH = "exchange-replacement"
# A step that failed for good (INTERNAL: the outcome is unknown) no longer
# fails the whole return: the restock, the payments lookup, the customer's
# activity and the timeline milestone are tried again by until_done (visibly,
# NeedsAttention), as the progress records already were. Found by
# tests/workflows/test_failure_injection.py; runs started before ended
# `failed` there and replay as they ran.
STEPS_UNTIL_DONE_PATCH = "return-steps-until-done"
# Issue 11: a receipt of nothing returnable (every line 0) rejects the return.
# Such a receipt could not reach a run before (the orders service refused a
# 0 line), so only runs that meet one take the marker.
REJECTED_PATCH = "return-rejected-when-nothing-received"


@workflow.defn(name=RETURN_WORKFLOW)
class ReturnWorkflow:
    @workflow.init
    def __init__(self, request: ReturnInput) -> None:
        self.request = request
        # A mail return can be received as soon as it exists, even before run starts.
        self.status = (
            ReturnStatus.REQUESTED
            if request.method == ReturnMethod.IN_STORE
            else ReturnStatus.AWAITING_RECEIPT
        )
        self.receipt: ReceiveInput | None = None
        self.refunds: list[RefundRecord] = []
        # Set once the final state is recorded everywhere.
        self.settled = False
        # Refunds the provider refused: the next try of that payment uses a new key.
        self.refused_attempts: dict[str, int] = {}
        self.retry_requested = False
        # Retries of a refused refund done so far (an operator's waits for the next).
        self.refund_retries = 0
        # refund_failed is recorded everywhere: a waiting receipt is answered.
        self.refund_failed_told = False
        # An exchange whose replacement is still held (issue 11).
        self.exchanging = False

    @property
    def workflow_id(self) -> str:
        return return_workflow_id(self.request.return_id)

    @workflow.run
    async def run(self, request: ReturnInput) -> ReturnStatusView:
        if request.exchange is not None and workflow.patched(EXCHANGE_PATCH):
            await self._keep_replacement()
        # Issue 12: an in-store return waits at its store too, until an
        # associate there receives the goods (runs started before kept the
        # old "received at once").
        if request.method == ReturnMethod.IN_STORE and not workflow.patched(
            IN_STORE_WAITS_FOR_RECEIPT
        ):
            location_id, lines = request.location_id, request.lines
        else:
            if request.method == ReturnMethod.IN_STORE:
                self.status = ReturnStatus.AWAITING_RECEIPT
                waiting_for = "waiting for the goods at " + request.location_id
            else:
                waiting_for = "waiting for the parcel"
            await self._record("awaiting_receipt", "awaiting_receipt", waiting_for)
            timed_out = False
            try:
                await workflow.wait_condition(
                    lambda: self.receipt is not None, timeout=MAIL_RECEIPT_WINDOW
                )
            except TimeoutError:
                timed_out = True
            # A receipt accepted in the same activation as the window's end wins.
            raced = self.receipt is not None and timed_out
            if timed_out and not (raced and workflow.patched(EXPIRY_RECEIPT_RACE_PATCH)):
                self.status = ReturnStatus.EXPIRED
                days = MAIL_RECEIPT_WINDOW.days
                await self._give_replacement_back("the return expired")
                await self._record("expired", "expired", f"nothing received within {days} days")
                await self._record_customer()
                await self._milestone(TimelineEventKind.RETURN_EXPIRED, "nothing was received")
                self.settled = True
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self.view()
            assert self.receipt is not None
            location_id = self.receipt.location_id or request.location_id
            lines = self._received_lines(self.receipt)
            if self._nothing_received(self.receipt) and workflow.patched(REJECTED_PATCH):
                await self._reject(location_id)
                return self.view()

        self.status = ReturnStatus.RECEIVED
        await self._record("received", "received", f"received at {location_id}")
        await self._milestone(TimelineEventKind.RETURN_RECEIVED, f"received at {location_id}")
        await self._restock(location_id, lines)
        refund_minor = self._refund_due(lines)
        # An exchange: the refund pays for the replacement first.
        credited = await self._pay_replacement(refund_minor) if self.exchanging else 0
        shortfall = await self._refund(refund_minor - credited)
        if self._refund_refused() and workflow.patched(REFUND_FAILED_PATCH):
            shortfall = await self._until_refunded(refund_minor)
            if self._refund_refused():
                await self._end_refund_failed(refund_minor - shortfall)
                return self.view()
        self.status = ReturnStatus.REFUNDED
        detail = f"refunded {refund_minor - shortfall} {request.currency}"
        if credited:
            detail += f" ({credited} of it paid the replacement order)"
        if shortfall:
            detail += f"; {shortfall} could not be refunded to the order's payments"
        await self._record("refunded", "refunded", detail)
        await self._record_customer()
        # The returned items' value: the points they earned are taken back.
        await self._milestone(
            TimelineEventKind.REFUND_ISSUED,
            detail,
            refund_minor,
            lines=lines_text((line.sku, line.quantity) for line in lines),
        )
        self.settled = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

    def _refund_refused(self) -> bool:
        """Some refund of the latest attempt failed (and none since went through)."""
        latest: dict[str, str] = {}
        for record in self.refunds:
            latest[record.payment_id] = record.status
        return any(status == RefundStatus.FAILED for status in latest.values())

    def _refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds if r.status == RefundStatus.SUCCEEDED)

    async def _until_refunded(self, due_minor: int) -> int:
        """refund_failed: nothing of the refused part is reported refunded, no
        points are taken back; the refund is tried again by the timer or an
        operator. Returns what is still not refunded."""
        self.status = ReturnStatus.REFUND_FAILED
        await self._record(
            "refund_failed",
            "refund_failed",
            f"the refund was refused; {self._refunded_minor()} of {due_minor}"
            f" {self.request.currency} refunded, retried every"
            f" {REFUND_RETRY_AFTER.total_seconds() / 3600:g} hours",
        )
        await self._record_customer()
        self.refund_failed_told = True
        shortfall = due_minor - self._refunded_minor()
        for attempt in range(1, REFUND_RETRIES + 2):
            window = REFUND_RETRY_AFTER if attempt <= REFUND_RETRIES else REFUND_OPERATOR_WINDOW
            if not workflow.patched(EARLY_RETRY_PATCH):
                # Before the patch: an operator's retry sent while the
                # refusal was being recorded was forgotten here (it then
                # waited for the next timer).
                self.retry_requested = False
            try:
                await workflow.wait_condition(lambda: self.retry_requested, timeout=window)
            except TimeoutError:
                if attempt > REFUND_RETRIES:
                    return shortfall
            self.retry_requested = False
            shortfall = await self._refund(due_minor - self._refunded_minor(), attempt=attempt)
            self.refund_retries += 1
            if not self._refund_refused():
                return shortfall
            await self._record(
                f"refund_failed/{attempt}", "refund_failed", f"retry {attempt} refused"
            )
        return shortfall

    async def _end_refund_failed(self, refunded_minor: int) -> None:
        """Every retry was refused: the return stays refund_failed, visibly."""
        from workflows.order import visibility

        visibility.flag_needs_attention("refund refused after every retry")
        workflow.metric_meter().create_counter(
            "omni_journey_step_failures", "journey steps that failed and are retried"
        ).add(1, {"step": "refund", "reason": "REFUND_FAILED"})
        await self._record(
            "refund_failed/final",
            "refund_failed",
            f"the refund is still refused ({refunded_minor} {self.request.currency} refunded);"
            " an operator must settle it",
        )
        self.settled = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    def view(self) -> ReturnStatusView:
        refunded = sum(r.amount_minor for r in self.refunds if r.status == RefundStatus.SUCCEEDED)
        return ReturnStatusView(
            return_id=self.request.return_id, status=self.status, refunded_minor=refunded
        )

    def _refund_due(self, lines: list[ReturnLineInput]) -> int:
        """What the received lines give back: the return's priced refund
        (request.refund_minor) for all of it, its share (half to even, by unit
        prices) for part; the unit prices alone for returns started before pricing."""
        listed = sum(line.unit_price_minor * line.quantity for line in lines)
        asked = sum(line.unit_price_minor * line.quantity for line in self.request.lines)
        if not self.request.refund_minor or asked <= 0:
            return listed
        if listed >= asked:
            return self.request.refund_minor
        quotient, remainder = divmod(self.request.refund_minor * listed, asked)
        if 2 * remainder > asked or (2 * remainder == asked and quotient % 2 == 1):
            quotient += 1
        return quotient

    @staticmethod
    def _nothing_received(receipt: ReceiveInput) -> bool:
        """The associate listed the lines and took none of them (nothing
        arrived, or nothing that is returnable); no lines means all of it."""
        return bool(receipt.lines) and all(line.quantity <= 0 for line in receipt.lines)

    async def _reject(self, location_id: str) -> None:
        """Nothing was taken back: nothing refunded or restocked, the order's
        quantities given back (RecordReturnProgress), an exchange's replacement
        released, and the customer told."""
        self.status = ReturnStatus.REJECTED
        await self._give_replacement_back("nothing returnable was received")
        await self._record(
            "rejected",
            "rejected",
            f"nothing returnable received at {location_id}; nothing refunded",
        )
        await self._record_customer()
        await self._milestone(
            TimelineEventKind.RETURN_REJECTED,
            f"nothing returnable was received at {location_id}; nothing was refunded",
        )
        self.settled = True
        await workflow.wait_condition(workflow.all_handlers_finished)

    def _received_lines(self, receipt: ReceiveInput) -> list[ReturnLineInput]:
        """What arrived, priced as the return was; nothing listed means all of it."""
        if not receipt.lines:
            return self.request.lines
        prices = {line.sku: line.unit_price_minor for line in self.request.lines}
        return [
            ReturnLineInput(line.sku, line.quantity, line.condition, prices[line.sku])
            for line in receipt.lines
            if line.quantity > 0
        ]

    # ------------------------------------------------------- the exchange

    async def _keep_replacement(self) -> None:
        """The orders service held the replacement for a short while (a crash
        before the return existed gives it back by itself); the journey makes
        the holds last until the goods come back or the return expires. A hold
        that lapsed before this (the return started late) loses the
        replacement: the return goes on as a plain one."""
        exchange = self.request.exchange
        assert exchange is not None
        lapsed = False
        for reservation_id in exchange.reservation_ids:
            held = await run_activity(
                InventoryActivities.confirm_reservation, ConfirmReservationInput(reservation_id)
            )
            lapsed = lapsed or held.status != "active"
        self.exchanging = True
        if lapsed:
            await self._give_replacement_back("its stock hold lapsed before the return started")

    async def _give_replacement_back(self, why: str) -> None:
        """The replacement will not be placed: its holds go back, its order is
        cancelled, nothing was charged for it."""
        exchange = self.request.exchange
        if not self.exchanging or exchange is None:
            return
        self.exchanging = False
        for reservation_id in exchange.reservation_ids:
            await run_activity(
                InventoryActivities.release_reservation, ReleaseReservationInput(reservation_id)
            )
        progress = OrderProgress(
            event_id=f"{self.workflow_id}/exchange/cancelled",
            order_id=exchange.order_id,
            status=OrderStatus.CANCELLED,
            event_type="exchange_cancelled",
            event_detail=f"replacement for return {self.request.return_id}: {why}",
        )
        await until_done(
            "record the replacement cancelled",
            lambda: run_activity(OrderActivities.record_order_progress, progress),
        )

    async def _pay_replacement(self, refund_minor: int) -> int:
        """The refund pays for the replacement: up to its total goes to store
        credit (keyed per payment: never twice), which the replacement order
        spends; the orders service charges a dearer one's difference to the
        original card and places it. Returns what the refund paid."""
        exchange = self.request.exchange
        assert exchange is not None
        wanted = min(refund_minor, exchange.total_minor)
        credits: list[CreditTender] = []
        payments: PaymentList = await run_activity(
            PaymentActivities.list_payments, ListPaymentsInput(reference=self.request.order_id)
        )
        kinds = [payment.tender_type for payment in payments.payments]
        for position in rules.gift_cards_first(kinds):
            payment = payments.payments[position]
            amount = min(wanted, payment.captured_minor - payment.refunded_minor)
            if amount <= 0:
                continue
            try:
                credit: PaymentInfo = await run_activity(
                    PaymentActivities.refund,
                    RefundInput(
                        idempotency_key=f"{self.workflow_id}/exchange/{payment.payment_id}",
                        payment_id=payment.payment_id,
                        amount_minor=amount,
                        currency=self.request.currency,
                        to_store_credit=True,
                        customer_id=self.request.customer_id,
                    ),
                )
            except ActivityError as error:
                workflow.logger.error("exchange credit refused: %s", refusal(error))
                continue
            credits.append(CreditTender(credit.store_credit_code, amount))
            self.refunds.append(
                RefundRecord(
                    payment_id=payment.payment_id,
                    tender_type=TenderType.STORE_CREDIT,
                    amount_minor=amount,
                    currency=self.request.currency,
                    status=RefundStatus.SUCCEEDED,
                )
            )
            wanted -= amount
            if wanted == 0:
                break
        credited = sum(credit.amount_minor for credit in credits)
        self.exchanging = False
        try:
            placed: ExchangePlaced = await run_activity(
                OrderActivities.place_exchange,
                PlaceExchangeInput(self.request.return_id, exchange.order_id, credits),
            )
        except ActivityError as error:
            # Refused (a dearer one's difference declined): the placement gave
            # its hold and authorizations back; what the refund credited stays
            # the customer's store credit.
            reason, message, _ = refusal(error)
            await self._record(
                "exchange/refused",
                "exchange_refused",
                f"replacement not placed: {reason} {message}",
            )
            return credited
        await self._record(
            "exchange/placed",
            "exchange_placed",
            f"replacement order {placed.order_id} {placed.status}; {credited}"
            f" {self.request.currency} of the refund paid for it",
        )
        return credited

    # ----------------------------------------------------------- steps

    async def _restock(self, location_id: str, lines: list[ReturnLineInput]) -> None:
        sellable: dict[str, int] = {}
        damaged: dict[str, int] = {}
        for line in lines:
            if line.condition == ItemCondition.SELLABLE and line.quantity > 0:
                sellable[line.sku] = sellable.get(line.sku, 0) + line.quantity
            elif line.condition == ItemCondition.DAMAGED and line.quantity > 0:
                damaged[line.sku] = damaged.get(line.sku, 0) + line.quantity
        for sku, quantity in sellable.items():
            await self._must(
                f"restock {sku}",
                InventoryActivities.adjust_stock,
                AdjustStockInput(
                    idempotency_key=f"{self.workflow_id}/restock/{sku}",
                    location_id=location_id,
                    sku=sku,
                    delta=quantity,
                    reason=StockMovementReason.RETURN_RESTOCK,
                    actor=self.workflow_id,
                    reference=self.request.return_id,
                ),
            )
        if not damaged or not workflow.patched(DAMAGE_MOVEMENT_PATCH):
            return
        # A positive damage delta is "received damaged": the inventory service
        # records the arrival and its write-off together, on hand unchanged.
        for sku, quantity in damaged.items():
            await self._must(
                f"record {sku} damaged",
                InventoryActivities.adjust_stock,
                AdjustStockInput(
                    idempotency_key=f"{self.workflow_id}/damage/{sku}",
                    location_id=location_id,
                    sku=sku,
                    delta=quantity,
                    reason=StockMovementReason.DAMAGE,
                    actor=self.workflow_id,
                    reference=self.request.return_id,
                ),
            )

    async def _refund(self, amount_minor: int, *, attempt: int = 0) -> int:
        """Refunds `amount_minor` across the order's payments; returns what is left.
        A payment whose refund was refused gets a new key on the next attempt
        (the provider repeats a key's first answer); one whose outcome is
        unknown keeps its key, so it is never refunded twice."""
        remaining = amount_minor
        # Refused or unanswered refunds: never handed to the order instead.
        failed = 0
        if remaining <= 0:
            return 0
        payments: PaymentList = await self._must(
            "list the order's payments",
            PaymentActivities.list_payments,
            ListPaymentsInput(reference=self.request.order_id),
        )
        to_store_credit = self.request.refund_method == RefundMethod.STORE_CREDIT
        kinds = [payment.tender_type for payment in payments.payments]
        for position in rules.gift_cards_first(kinds):
            payment = payments.payments[position]
            refundable = payment.captured_minor - payment.refunded_minor
            amount = min(remaining, refundable)
            if amount <= 0:
                continue
            status = RefundStatus.SUCCEEDED
            try:
                await run_activity(
                    PaymentActivities.refund,
                    RefundInput(
                        idempotency_key=self._refund_key(payment.payment_id),
                        payment_id=payment.payment_id,
                        amount_minor=amount,
                        currency=self.request.currency,
                        to_store_credit=to_store_credit,
                        customer_id=self.request.customer_id if to_store_credit else "",
                    ),
                )
                remaining -= amount
            except ActivityError as error:
                failed += amount
                workflow.logger.error("refund of %s failed: %s", payment.payment_id, refusal(error))
                status = RefundStatus.FAILED
                if refused_for_good(error):
                    self.refused_attempts[payment.payment_id] = (
                        self.refused_attempts.get(payment.payment_id, 0) + 1
                    )
            self.refunds.append(
                RefundRecord(
                    payment_id=payment.payment_id,
                    tender_type=TenderType.STORE_CREDIT if to_store_credit else payment.tender_type,
                    amount_minor=amount,
                    currency=self.request.currency,
                    status=status,
                )
            )
            if remaining == 0:
                break
        if remaining > failed and workflow.patched(RETURN_BEFORE_CAPTURE_PATCH):
            remaining -= await self._not_charged(remaining - failed)
        return remaining

    async def _not_charged(self, amount_minor: int) -> int:
        """What the order's payments do not hold yet (the order is live, its
        delivered part not captured): its journey leaves it out of the final
        capture (or refunds it, when the capture came first). Returns what the
        order took over; 0 when there is no live order journey."""
        order = workflow.get_external_workflow_handle(order_workflow_id(self.request.order_id))
        try:
            await order.signal(RETURNED_SIGNAL, ReturnedInput(self.request.return_id, amount_minor))
        except Exception as error:
            workflow.logger.warning("the order could not take the return over: %s", error)
            return 0
        self.refunds.append(
            RefundRecord(
                payment_id="",
                tender_type="",
                amount_minor=amount_minor,
                currency=self.request.currency,
                status=RefundStatus.SUCCEEDED,
            )
        )
        return amount_minor

    def _refund_key(self, payment_id: str) -> str:
        refused = self.refused_attempts.get(payment_id, 0)
        key = f"{self.workflow_id}/refund/{payment_id}"
        return key if refused == 0 else f"{key}/retry-{refused}"

    async def _record(self, step: str, event_type: str, detail: str) -> None:
        progress = ReturnProgress(
            event_id=f"{self.workflow_id}/{step}",
            return_id=self.request.return_id,
            status=self.status,
            refunds=list(self.refunds),
            event_type=event_type,
            event_detail=detail,
        )
        # The same saga helper as the order journeys: tried until it succeeds.
        await until_done(
            f"record {step}",
            lambda: run_activity(OrderActivities.record_return_progress, progress),
        )

    async def _must(self, what: str, activity: Any, argument: Any) -> Any:
        """Runs `activity` until it succeeds (STEPS_UNTIL_DONE_PATCH)."""
        if workflow.patched(STEPS_UNTIL_DONE_PATCH):
            return await until_done(what, lambda: run_activity(activity, argument))
        return await run_activity(activity, argument)

    async def _record_customer(self) -> None:
        await self._must(
            "record the return's customer activity",
            CustomerActivities.record_activity,
            CustomerActivityInput(
                customer_id=self.request.customer_id,
                kind=ActivityKind.RETURN,
                reference_id=self.request.return_id,
                channel=self.request.channel,
                status=self.status,
                order_id=self.request.order_id,
            ),
        )

    async def _milestone(
        self, kind: str, summary: str, amount_minor: int = 0, **details: str
    ) -> None:
        await self._must(
            f"record the {kind} milestone",
            CustomerActivities.record_timeline_event,
            TimelineEventInput(
                event_id=f"{self.workflow_id}/timeline/{kind}",
                customer_id=self.request.customer_id,
                kind=kind,
                reference_id=self.request.return_id,
                order_id=self.request.order_id,
                channel=self.request.channel,
                summary=summary,
                amount_minor=amount_minor,
                currency=self.request.currency,
                details=details,
            ),
        )

    # ---------------------------------------------------------- updates

    @workflow.update(name=RECEIVE_UPDATE)
    async def receive(self, receipt: ReceiveInput) -> ReturnStatusView:
        self._check_receipt(receipt)
        self.receipt = receipt
        # Answers once settled, or once the refund was refused (refund_failed:
        # the retries go on in the main loop, not in this handler).
        await workflow.wait_condition(lambda: self.settled or self.refund_failed_told)
        return self.view()

    @receive.validator
    def validate_receive(self, receipt: ReceiveInput) -> None:
        self._check_receipt(receipt)

    def _check_receipt(self, receipt: ReceiveInput) -> None:
        waiting = self.status == ReturnStatus.AWAITING_RECEIPT or (
            # An in-store return is receivable from its start.
            self.status == ReturnStatus.REQUESTED and self.request.method == ReturnMethod.IN_STORE
        )
        if not waiting or self.receipt is not None:
            raise ApplicationError(
                f"cannot receive a return that is {self.status}",
                {"status": self.status},
                type=ERROR_INVALID_STATE,
                non_retryable=True,
            )
        expected = {line.sku: line.quantity for line in self.request.lines}
        received: dict[str, int] = {}
        for line in receipt.lines:
            if line.sku not in expected:
                raise _invalid_receipt(f"{line.sku} is not part of this return")
            if ItemCondition.parse(line.condition) is None:
                raise _invalid_receipt(f"{line.sku}: condition must be sellable or damaged")
            if line.quantity < 0:
                raise _invalid_receipt(f"{line.sku}: quantity must not be negative")
            received[line.sku] = received.get(line.sku, 0) + line.quantity
            if received[line.sku] > expected[line.sku]:
                raise _invalid_receipt(
                    f"{line.sku}: received {received[line.sku]}, returned {expected[line.sku]}"
                )

    @workflow.update(name=RETRY_REFUND_UPDATE)
    async def retry_refund(self) -> ReturnStatusView:
        """An operator: try the refused refund again now."""
        target = self.refund_retries + 1
        self.retry_requested = True
        await workflow.wait_condition(lambda: self.refund_retries >= target or self.settled)
        return self.view()

    @retry_refund.validator
    def validate_retry_refund(self) -> None:
        if self.status != ReturnStatus.REFUND_FAILED or self.settled:
            raise ApplicationError(
                f"only a refund_failed return is retried; this one is {self.status}",
                {"status": self.status},
                type=ERROR_INVALID_STATE,
                non_retryable=True,
            )

    @workflow.query(name=STATUS_QUERY)
    def status_query(self) -> ReturnStatusView:
        return self.view()


def _invalid_receipt(message: str) -> ApplicationError:
    return ApplicationError(message, type=ERROR_INVALID_RECEIPT, non_retryable=True)
