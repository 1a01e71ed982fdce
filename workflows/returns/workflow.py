"""Cross-channel returns: receive, restock what can be sold again, refund.

in_store and mail -> awaiting_receipt until `receive` (an associate of the
store, goods in hand, receives an in-store return right after creating it)
(or "expired" when nothing arrives in time). Then sellable lines go back on
the receiving location's shelf, and the returned lines' value is refunded to
the order's payments, gift cards first and the card last — or, when the
return asks for store credit, all of it as store credit to the order's customer.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.order.policies import refusal, run_activity

with workflow.unsafe.imports_passed_through():
    from omni.words import (
        ActivityKind,
        ItemCondition,
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
        CustomerActivityInput,
        ListPaymentsInput,
        PaymentList,
        RefundInput,
        RefundRecord,
        ReturnProgress,
        TimelineEventInput,
    )
    from workflows.contracts.journeys import (
        ERROR_INVALID_RECEIPT,
        ERROR_INVALID_STATE,
        RECEIVE_UPDATE,
        RETURN_WORKFLOW,
        STATUS_QUERY,
        ReceiveInput,
        ReturnInput,
        ReturnLineInput,
        return_workflow_id,
    )
    from workflows.contracts.journeys import ReturnStatus as ReturnStatusView
    from workflows.order import rules

IN_STORE_WAITS_FOR_RECEIPT = "in-store-return-waits-for-receipt"
# How long a mail return may take to arrive before it expires.
MAIL_RECEIPT_WINDOW = timedelta(days=30)


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

    @property
    def workflow_id(self) -> str:
        return return_workflow_id(self.request.return_id)

    @workflow.run
    async def run(self, request: ReturnInput) -> ReturnStatusView:
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
            try:
                await workflow.wait_condition(
                    lambda: self.receipt is not None, timeout=MAIL_RECEIPT_WINDOW
                )
            except TimeoutError:
                self.status = ReturnStatus.EXPIRED
                days = MAIL_RECEIPT_WINDOW.days
                await self._record("expired", "expired", f"nothing received within {days} days")
                await self._record_customer()
                await self._milestone(TimelineEventKind.RETURN_EXPIRED, "nothing was received")
                self.settled = True
                return self.view()
            assert self.receipt is not None
            location_id = self.receipt.location_id or request.location_id
            lines = self._received_lines(self.receipt)

        self.status = ReturnStatus.RECEIVED
        await self._record("received", "received", f"received at {location_id}")
        await self._milestone(TimelineEventKind.RETURN_RECEIVED, f"received at {location_id}")
        await self._restock(location_id, lines)
        refund_minor = self._refund_due(lines)
        shortfall = await self._refund(refund_minor)
        self.status = ReturnStatus.REFUNDED
        detail = f"refunded {refund_minor - shortfall} {request.currency}"
        if shortfall:
            detail += f"; {shortfall} could not be refunded to the order's payments"
        await self._record("refunded", "refunded", detail)
        await self._record_customer()
        # The returned items' value: the points they earned are taken back.
        await self._milestone(TimelineEventKind.REFUND_ISSUED, detail, refund_minor)
        self.settled = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.view()

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

    # ----------------------------------------------------------- steps

    async def _restock(self, location_id: str, lines: list[ReturnLineInput]) -> None:
        sellable: dict[str, int] = {}
        for line in lines:
            if line.condition == ItemCondition.SELLABLE and line.quantity > 0:
                sellable[line.sku] = sellable.get(line.sku, 0) + line.quantity
        for sku, quantity in sellable.items():
            await run_activity(
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

    async def _refund(self, amount_minor: int) -> int:
        """Refunds `amount_minor` across the order's payments; returns what is left."""
        remaining = amount_minor
        if remaining <= 0:
            return 0
        payments: PaymentList = await run_activity(
            PaymentActivities.list_payments, ListPaymentsInput(reference=self.request.order_id)
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
                        idempotency_key=f"{self.workflow_id}/refund/{payment.payment_id}",
                        payment_id=payment.payment_id,
                        amount_minor=amount,
                        currency=self.request.currency,
                        to_store_credit=to_store_credit,
                        customer_id=self.request.customer_id if to_store_credit else "",
                    ),
                )
                remaining -= amount
            except ActivityError as error:
                workflow.logger.error("refund of %s failed: %s", payment.payment_id, refusal(error))
                status = RefundStatus.FAILED
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
        return remaining

    async def _record(self, step: str, event_type: str, detail: str) -> None:
        await run_activity(
            OrderActivities.record_return_progress,
            ReturnProgress(
                event_id=f"{self.workflow_id}/{step}",
                return_id=self.request.return_id,
                status=self.status,
                refunds=list(self.refunds),
                event_type=event_type,
                event_detail=detail,
            ),
        )

    async def _record_customer(self) -> None:
        await run_activity(
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

    async def _milestone(self, kind: str, summary: str, amount_minor: int = 0) -> None:
        await run_activity(
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
            ),
        )

    # ---------------------------------------------------------- updates

    @workflow.update(name=RECEIVE_UPDATE)
    async def receive(self, receipt: ReceiveInput) -> ReturnStatusView:
        self._check_receipt(receipt)
        self.receipt = receipt
        await workflow.wait_condition(lambda: self.settled)
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

    @workflow.query(name=STATUS_QUERY)
    def status_query(self) -> ReturnStatusView:
        return self.view()


def _invalid_receipt(message: str) -> ApplicationError:
    return ApplicationError(message, type=ERROR_INVALID_RECEIPT, non_retryable=True)
