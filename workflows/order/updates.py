"""The updates and the query the order workflows answer, and the checks their
validators run.

The checks ask rules.py and raise the ApplicationError a refused update
carries back to the orders service (INVALID_STATE, INVALID_PICK); they do no
I/O, so a validator can run them before the update is accepted, and the
handler runs them again under the journey's lock before it acts.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

from workflows.order.authorizations import check_new_payment, check_not_waiting, take_new_payment
from workflows.order.line_cancels import cancel_lines, check_cancel_lines
from workflows.order.reroute import reject_fulfillment
from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from workflows.contracts.journeys import (
        CANCEL_LINES_UPDATE,
        CANCEL_UPDATE,
        ERROR_INVALID_PICK,
        ERROR_INVALID_STATE,
        NEW_PAYMENT_UPDATE,
        PLACE_UPDATE,
        REJECT_UPDATE,
        RETURNED_SIGNAL,
        STATUS_QUERY,
        ActionResult,
        CancelInput,
        CancelLinesInput,
        NewPaymentInput,
        OrderStatus,
        PickInput,
        PlacementResult,
        RejectInput,
        ReturnedInput,
    )
    from workflows.order import rules
    from workflows.order.rules import Refusal, StoreAction
    from workflows.order.state import Fulfillment


def invalid_state(refused: Refusal) -> ApplicationError:
    return ApplicationError(
        refused.message,
        {"status": refused.status},
        type=ERROR_INVALID_STATE,
        non_retryable=True,
    )


def invalid_pick(message: str) -> ApplicationError:
    return ApplicationError(message, type=ERROR_INVALID_PICK, non_retryable=True)


def check_store_action(
    journey: OrderJourney, action: StoreAction, fulfillment_id: str
) -> Fulfillment:
    """The order's fulfillment `fulfillment_id` if the store may do `action` to
    it now; raises INVALID_STATE otherwise."""
    refused = rules.order_refusal(action, journey.status)
    if refused is not None:
        raise invalid_state(refused)
    fulfillment = journey.find(fulfillment_id)
    if fulfillment is None:
        raise ApplicationError(
            f"fulfillment {fulfillment_id} does not belong to order {journey.order.order_id}",
            {"fulfillment_id": fulfillment_id},
            type=ERROR_INVALID_STATE,
            non_retryable=True,
        )
    refused = rules.store_action_refusal(
        action,
        order_status=journey.status,
        fulfillment_type=fulfillment.type,
        fulfillment_status=fulfillment.status or "",
        fulfillment_id=fulfillment.fulfillment_id,
    )
    if refused is not None:
        raise invalid_state(refused)
    if action in (StoreAction.HAND_OVER, StoreAction.SHIP):
        # Its capture would meet an authorization that is going (issue 11).
        check_not_waiting(journey)
    return fulfillment


def check_pick(journey: OrderJourney, request: PickInput) -> Fulfillment:
    """Rejects a pick the order cannot take: INVALID_STATE for the wrong status,
    INVALID_PICK for lines that do not fit the fulfillment."""
    refused = rules.order_refusal(StoreAction.PICK, journey.status)
    if refused is not None:
        raise invalid_state(refused)
    if journey.find(request.fulfillment_id) is None:
        raise invalid_pick(f"unknown fulfillment {request.fulfillment_id}")
    fulfillment = check_store_action(journey, StoreAction.PICK, request.fulfillment_id)
    problem = rules.pick_problem(
        {line.sku: line.quantity for line in fulfillment.lines}, request.lines
    )
    if problem is not None:
        raise invalid_pick(problem)
    return fulfillment


async def placement_answered(journey: OrderJourney) -> None:
    """A store action accepted while acceptance still runs (the order is
    `placed` before its records are written) waits for the answer, so it acts
    on a settled order and its records follow `placed`."""
    await workflow.wait_condition(lambda: journey.placement is not None)


def check_cancel(journey: OrderJourney) -> None:
    refused = rules.cancel_refusal(journey.fulfillment_type, journey.status)
    if refused is not None:
        raise invalid_state(refused)


class OrderUpdates:
    """The updates and the query that BOPIS and ship-from-store answer alike.

    A workflow class inherits them and sets `journey` in its @workflow.init.
    """

    journey: OrderJourney

    @workflow.update(name=PLACE_UPDATE)
    async def place(self) -> PlacementResult:
        await workflow.wait_condition(lambda: self.journey.placement is not None)
        assert self.journey.placement is not None
        return self.journey.placement

    @workflow.update(name=REJECT_UPDATE)
    async def reject(self, request: RejectInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            fulfillment = check_store_action(journey, StoreAction.REJECT, request.fulfillment_id)
            return await reject_fulfillment(journey, fulfillment, request)

    @reject.validator
    def validate_reject(self, request: RejectInput) -> None:
        check_store_action(self.journey, StoreAction.REJECT, request.fulfillment_id)

    @workflow.update(name=CANCEL_UPDATE)
    async def cancel(self, request: CancelInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            check_cancel(journey)
            await journey.cancel(request)
            return journey.action_result()

    @cancel.validator
    def validate_cancel(self, request: CancelInput) -> None:
        check_cancel(self.journey)

    @workflow.update(name=CANCEL_LINES_UPDATE)
    async def cancel_lines(self, request: CancelLinesInput) -> ActionResult:
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            check_cancel_lines(journey, request)
            return await cancel_lines(journey, request)

    @cancel_lines.validator
    def validate_cancel_lines(self, request: CancelLinesInput) -> None:
        check_cancel_lines(self.journey, request)

    @workflow.update(name=NEW_PAYMENT_UPDATE)
    async def new_payment(self, request: NewPaymentInput) -> ActionResult:
        """New tenders for an order whose re-authorization was declined
        (workflows/order/authorizations.py); INVALID_STATE when none is asked for."""
        journey = self.journey
        await placement_answered(journey)
        async with journey.lock:
            old = check_new_payment(journey, request)
            await take_new_payment(journey, old, request)
            return journey.action_result()

    @new_payment.validator
    def validate_new_payment(self, request: NewPaymentInput) -> None:
        check_new_payment(self.journey, request)

    @workflow.signal(name=RETURNED_SIGNAL)
    def returned(self, request: ReturnedInput) -> None:
        """A return of delivered units before the order ended (once per return)."""
        self.journey.returned.setdefault(request.return_id, request.amount_minor)

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> OrderStatus:
        return self.journey.status_view()
