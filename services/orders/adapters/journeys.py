"""The orders service's side of Temporal: start journeys and send them updates.

Only the names and dataclasses of workflows/contracts/journeys.py cross this
line; no workflow code is imported. Temporal failures become domain errors
here: a validator's refusal (INVALID_STATE) is the same 409 the caller saw
when the orders service checked it itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from omni.words import FulfillmentType
from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    DomainError,
    InvalidArgument,
    Unavailable,
)
from services.common.telemetry import (
    ORDER_ID,
    current_traceparent,
    linked_once_known,
    span_linked_to,
    tag_span,
)
from services.orders.domain.line_cancels import CancelledLine
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import (
    Address,
    FulfillmentRecord,
    OrderRecord,
    ReturnRecord,
)
from services.orders.domain.returns import ReturnRequestLine
from services.orders.domain.store_work import PickedLine, TakenLine
from workflows.contracts.journeys import (
    ARRIVED_SIGNAL,
    BOPIS_WORKFLOW,
    CANCEL_LINES_UPDATE,
    CANCEL_UPDATE,
    ERROR_INVALID_PICK,
    ERROR_INVALID_RECEIPT,
    ERROR_INVALID_STATE,
    ERROR_PICKUP_LOCKED,
    ERROR_WRONG_PICKUP_CODE,
    HANDOVER_UPDATE,
    NEW_PAYMENT_UPDATE,
    PICK_UPDATE,
    PICKUP_CODE_UPDATE,
    PLACE_UPDATE,
    RECEIVE_UPDATE,
    REJECT_UPDATE,
    RETURN_WORKFLOW,
    SHIP_FROM_STORE_WORKFLOW,
    SHIP_UPDATE,
    SHIPPING_ADDRESS_UPDATE,
    TASK_QUEUE,
    ActionResult,
    AddressInput,
    ArrivedInput,
    CancelInput,
    CancelLineInput,
    CancelLinesInput,
    ExchangeInput,
    HandoverInput,
    LineInput,
    NewPaymentInput,
    OrderInput,
    PickInput,
    PickupCodeInput,
    PlacementResult,
    ReceiveInput,
    RejectInput,
    ReturnInput,
    ReturnLineInput,
    ReturnStatus,
    ShipInput,
    ShippingAddressInput,
    TenderInput,
    order_summary,
    order_workflow_id,
    return_workflow_id,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Temporal's own failure type when the workflow ended before the update finished.
_UPDATE_ON_ENDED_WORKFLOW = "AcceptedUpdateCompletedWorkflow"

_ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
_CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
_STORE_ID = SearchAttributeKey.for_keyword("StoreId")
_CHANNEL = SearchAttributeKey.for_keyword("Channel")


def search_attributes(
    order_id: str, customer_id: str, store_id: str, channel: str
) -> TypedSearchAttributes:
    pairs = [
        SearchAttributePair(_ORDER_ID, order_id),
        SearchAttributePair(_CUSTOMER_ID, customer_id),
        SearchAttributePair(_CHANNEL, channel),
    ]
    if store_id:
        pairs.append(SearchAttributePair(_STORE_ID, store_id))
    return TypedSearchAttributes(pairs)


def order_input(
    order: OrderRecord, tenders: list[RequestedTender], *, payment_deadline_hours: float = 0.0
) -> OrderInput:
    """The journey's start input. `payment_deadline_hours`: how long a declined
    re-authorization waits for a new tender (the orders service's
    PAYMENT_DEADLINE_HOURS; 0 leaves the journey's default, 48 h)."""
    address = None
    if order.address is not None:
        a = order.address
        # The journey only needs the point to choose a location; the street
        # address stays in the orders database (which erase can blank) and out
        # of Temporal's history.
        address = AddressInput("", "", "", a.country, a.lat, a.lon)
    return OrderInput(
        order_id=order.order_id,
        customer_id=order.customer_id,
        channel=order.channel,
        currency=order.total.currency,
        lines=[LineInput(line.sku, line.quantity, line.unit_price_minor) for line in order.lines],
        tenders=[TenderInput(t.type, t.token, t.code, t.amount_minor) for t in tenders],
        fulfillment_type=order.fulfillment_type,
        pickup_location_id=order.location_id,
        address=address,
        total_minor=order.total.amount_minor,
        # A split shipment's first shipment captures the shipping (issue 11).
        shipping_minor=order.shipping_minor + order.shipping_tax_minor,
        payment_deadline_hours=payment_deadline_hours,
    )


def return_input(record: ReturnRecord, exchange: ExchangeInput | None = None) -> ReturnInput:
    return ReturnInput(
        return_id=record.return_id,
        order_id=record.order_id,
        customer_id=record.customer_id,
        channel=record.channel,
        method=record.method,
        location_id=record.location_id,
        currency=record.refund.currency,
        lines=[
            ReturnLineInput(line.sku, line.quantity, line.condition, line.unit_price_minor)
            for line in record.lines
        ],
        refund_method=record.refund_method,
        refund_minor=record.refund.amount_minor,
        exchange=exchange,
    )


def return_summary(record: ReturnRecord) -> str:
    """What the Temporal UI lists a return as, e.g. "return · 2 items · mail · order ord_1"."""
    items = sum(line.quantity for line in record.lines)
    count = f"{items} item{'' if items == 1 else 's'}"
    return f"return · {count} · {record.method} · order {record.order_id}"


def update_failure(error: WorkflowUpdateFailedError) -> DomainError:
    """What a refused update means to the caller."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        message = cause.message or "the journey refused the action"
        if cause.type in (ERROR_INVALID_STATE, _UPDATE_ON_ENDED_WORKFLOW):
            return Conflict("INVALID_STATE", message)
        if cause.type == ERROR_PICKUP_LOCKED:
            return Conflict("PICKUP_LOCKED", message)
        if cause.type == ERROR_WRONG_PICKUP_CODE:
            return BusinessRuleViolation("WRONG_PICKUP_CODE", message)
        if cause.type in (ERROR_INVALID_PICK, ERROR_INVALID_RECEIPT):
            return InvalidArgument.field("lines", message)
        return BusinessRuleViolation(
            cause.type or "ACTION_REFUSED", message, _refusal_particulars(cause)
        )
    return Unavailable(f"the journey failed to answer: {cause}")


def _refusal_particulars(cause: ApplicationError) -> dict[str, str]:
    """A refusal's particulars for the caller: the payment's own reason
    (e.g. CAPTURE_FAILED because PAYMENT_DECLINED), when the journey gave one."""
    details = cause.details[0] if cause.details else None
    if isinstance(details, dict) and isinstance(details.get("reason"), str):
        return {"payment_reason": details["reason"]}
    return {}


def rpc_failure(error: RPCError) -> DomainError:
    if error.status == RPCStatusCode.NOT_FOUND:
        # The workflow has finished: nothing is left to act on.
        return Conflict("INVALID_STATE", "the order's journey has already ended")
    return Unavailable(f"temporal: {error.message}")


TRACEPARENT_MEMO = "traceparent"


def action_update_id(update: str, subject_id: str, key: str) -> str | None:
    """The update id of an action sent with the caller's idempotency key: the
    same (action, fulfillment or order, key) is the same update, so Temporal
    answers a retry with the first outcome, even after the journey ended.
    None without a key: Temporal picks a fresh id, and a repeat is a new action."""
    if not key:
        return None
    digest = hashlib.sha256(f"{subject_id}\x00{key}".encode()).hexdigest()[:40]
    return f"{update}/{digest}"


async def _placement_traceparent(handle: WorkflowHandle[Any, Any]) -> str:
    """The trace that placed the order (from its workflow memo); "" if unknown.
    Tracing never fails an action."""
    try:
        description = await handle.describe()
        value = await description.memo_value(TRACEPARENT_MEMO, "")
    except Exception as error:
        logger.debug("no placement trace for %s: %s", handle.id, error)
        return ""
    return value if isinstance(value, str) else ""


class TemporalJourneys:
    """A lazily connected Temporal client with the calls the use cases need."""

    def __init__(
        self,
        connect: Callable[[], Awaitable[Client]],
        *,
        place_timeout: timedelta = timedelta(seconds=60),
        action_timeout: timedelta = timedelta(seconds=30),
        payment_deadline_hours: float = 0.0,
    ) -> None:
        self._connect = connect
        self._payment_deadline_hours = payment_deadline_hours
        self._client: Client | None = None
        self._lock = asyncio.Lock()
        self._place_timeout = place_timeout
        self._action_timeout = action_timeout

    def order_input(self, order: OrderRecord, tenders: list[RequestedTender]) -> OrderInput:
        """Every journey this service starts carries its settings (this one
        place builds the start input: the place update, placement, recovery)."""
        return order_input(order, tenders, payment_deadline_hours=self._payment_deadline_hours)

    async def client(self) -> Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await self._connect()
                    except Exception as error:
                        logger.warning("cannot reach temporal: %s", error)
                        raise Unavailable("the journey engine is unreachable") from error
        return self._client

    async def _call(self, call: Callable[[Client], Awaitable[T]]) -> T:
        client = await self.client()
        try:
            return await call(client)
        except WorkflowUpdateFailedError as error:
            raise update_failure(error) from error
        except WorkflowUpdateRPCTimeoutOrCancelledError as error:
            raise Unavailable("the journey did not answer in time") from error
        except RPCError as error:
            raise rpc_failure(error) from error

    async def place(
        self, order: OrderRecord, tenders: list[RequestedTender], store_id: str
    ) -> PlacementResult:
        """Starts (or finds) `order-<id>` and returns the answer of its `place` update."""
        tag_span(order_id=order.order_id, store_id=store_id, channel=order.channel)
        workflow = (
            BOPIS_WORKFLOW
            if order.fulfillment_type == FulfillmentType.PICKUP
            else SHIP_FROM_STORE_WORKFLOW
        )
        journey_input = self.order_input(order, tenders)
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            workflow,
            journey_input,
            id=order_workflow_id(order.order_id),
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            # An order id never gets a second run, even after the first ended.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            task_queue=TASK_QUEUE,
            search_attributes=search_attributes(
                order.order_id, order.customer_id, store_id, order.channel
            ),
            # Later actions on the order link their traces to this one.
            memo={TRACEPARENT_MEMO: current_traceparent()},
            # What the Temporal UI lists it as: "BOPIS · 3 items · store S1 · web".
            static_summary=order_summary(journey_input, store_id),
        )

        async def call(client: Client) -> PlacementResult:
            try:
                result: PlacementResult = await client.execute_update_with_start_workflow(
                    PLACE_UPDATE,
                    start_workflow_operation=start,
                    id=PLACE_UPDATE,
                    result_type=PlacementResult,
                    rpc_timeout=self._place_timeout,
                )
            except WorkflowAlreadyStartedError as error:
                raise Conflict("INVALID_STATE", "this order's journey has already ended") from error
            return result

        return await self._call(call)

    async def cancel(self, order_id: str, reason: str, actor: str, *, key: str = "") -> None:
        await self._act(
            order_id,
            CANCEL_UPDATE,
            CancelInput(reason=reason, actor=actor),
            action_update_id(CANCEL_UPDATE, order_id, key),
        )

    async def cancel_lines(
        self, order_id: str, lines: list[CancelledLine], reason: str, actor: str, *, key: str = ""
    ) -> None:
        await self._act(
            order_id,
            CANCEL_LINES_UPDATE,
            CancelLinesInput(
                lines=[
                    CancelLineInput(line.sku, line.quantity, list(line.paid_upto)) for line in lines
                ],
                reason=reason,
                actor=actor,
            ),
            action_update_id(CANCEL_LINES_UPDATE, order_id, key),
        )

    async def pick(
        self, fulfillment: FulfillmentRecord, lines: list[PickedLine], actor: str, *, key: str = ""
    ) -> None:
        await self._act(
            fulfillment.order_id,
            PICK_UPDATE,
            PickInput(
                fulfillment_id=fulfillment.fulfillment_id,
                lines=[LineInput(line.sku, line.quantity_picked) for line in lines],
                actor=actor,
            ),
            action_update_id(PICK_UPDATE, fulfillment.fulfillment_id, key),
        )

    async def hand_over(
        self,
        fulfillment: FulfillmentRecord,
        pickup_code: str,
        actor: str,
        *,
        key: str = "",
        taken: list[TakenLine] | None = None,
    ) -> None:
        await self._act(
            fulfillment.order_id,
            HANDOVER_UPDATE,
            HandoverInput(
                fulfillment_id=fulfillment.fulfillment_id,
                pickup_code=pickup_code,
                actor=actor,
                lines=[LineInput(line.sku, line.quantity) for line in taken or []],
            ),
            action_update_id(HANDOVER_UPDATE, fulfillment.fulfillment_id, key),
        )

    async def customer_arrived(self, fulfillment: FulfillmentRecord, note: str) -> None:
        """Curbside: tells `order-<id>` the customer is outside (a signal; the
        journey keeps the first arrival and starts the hand-off clock)."""

        async def call(client: Client) -> None:
            handle = client.get_workflow_handle(order_workflow_id(fulfillment.order_id))
            await handle.signal(
                ARRIVED_SIGNAL, ArrivedInput(fulfillment_id=fulfillment.fulfillment_id, note=note)
            )

        await self._call(call)

    async def ship(
        self,
        fulfillment: FulfillmentRecord,
        carrier: str,
        tracking_number: str,
        actor: str,
        *,
        key: str = "",
    ) -> None:
        await self._act(
            fulfillment.order_id,
            SHIP_UPDATE,
            ShipInput(
                fulfillment_id=fulfillment.fulfillment_id,
                carrier=carrier,
                tracking_number=tracking_number,
                actor=actor,
            ),
            action_update_id(SHIP_UPDATE, fulfillment.fulfillment_id, key),
        )

    async def reject(
        self, fulfillment: FulfillmentRecord, reason: str, actor: str, *, key: str = ""
    ) -> None:
        await self._act(
            fulfillment.order_id,
            REJECT_UPDATE,
            RejectInput(fulfillment_id=fulfillment.fulfillment_id, reason=reason, actor=actor),
            action_update_id(REJECT_UPDATE, fulfillment.fulfillment_id, key),
        )

    async def issue_pickup_code(self, fulfillment: FulfillmentRecord, actor: str) -> None:
        await self._act(
            fulfillment.order_id,
            PICKUP_CODE_UPDATE,
            PickupCodeInput(fulfillment_id=fulfillment.fulfillment_id, actor=actor),
        )

    async def change_shipping_address(
        self, order_id: str, address: Address, actor: str, *, key: str = ""
    ) -> None:
        """Sends the new point (never the street) to the order's journey."""
        await self._act(
            order_id,
            SHIPPING_ADDRESS_UPDATE,
            ShippingAddressInput(
                AddressInput("", "", "", address.country, address.lat, address.lon), actor=actor
            ),
            action_update_id(SHIPPING_ADDRESS_UPDATE, order_id, key),
        )

    async def submit_payment(
        self, order_id: str, tenders: list[RequestedTender], actor: str, *, key: str = ""
    ) -> None:
        """New tenders for a declined re-authorization (issue 11): the journey
        decides whether it asked for one, and authorizes them."""
        await self._act(
            order_id,
            NEW_PAYMENT_UPDATE,
            NewPaymentInput(
                [TenderInput(t.type, t.token, t.code, t.amount_minor) for t in tenders],
                actor=actor,
            ),
            action_update_id(NEW_PAYMENT_UPDATE, order_id, key),
        )

    async def _act(
        self, order_id: str, update: str, argument: Any, update_id: str | None = None
    ) -> ActionResult:
        """Sends a store action or a cancel to `order-<id>` and waits for its
        answer; with an update id, a retry is the same update (its first answer)."""

        async def call(client: Client) -> ActionResult:
            handle = client.get_workflow_handle(order_workflow_id(order_id))
            with span_linked_to(f"order.{update}", "", {ORDER_ID: order_id}) as span:
                tag_span(order_id=order_id)
                # The placing trace is read while the update runs (one
                # round trip to Temporal less on the action's way).
                result: ActionResult = await linked_once_known(
                    span,
                    _placement_traceparent(handle),
                    handle.execute_update(
                        update,
                        argument,
                        id=update_id,
                        result_type=ActionResult,
                        rpc_timeout=self._action_timeout,
                    ),
                )
            return result

        return await self._call(call)

    async def start_return(
        self, record: ReturnRecord, exchange: ExchangeInput | None = None
    ) -> None:
        """Starts `return-<id>`; a retry finds the same run and changes nothing."""

        async def call(client: Client) -> None:
            try:
                await client.start_workflow(
                    RETURN_WORKFLOW,
                    return_input(record, exchange),
                    id=return_workflow_id(record.return_id),
                    id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    task_queue=TASK_QUEUE,
                    search_attributes=search_attributes(
                        record.order_id, record.customer_id, record.location_id, record.channel
                    ),
                    static_summary=return_summary(record),
                )
            except WorkflowAlreadyStartedError:
                # It ran and ended already: the return's journey is not repeated.
                return

        await self._call(call)

    async def receive_return(
        self,
        record: ReturnRecord,
        location_id: str,
        lines: list[ReturnRequestLine],
        actor: str,
        *,
        key: str = "",
    ) -> None:
        """Sends `receive` to `return-<id>`; answers once the return is settled.
        Each line carries the price the order paid for it."""
        prices = {line.sku: line.unit_price_minor for line in record.lines}
        receipt = ReceiveInput(
            location_id=location_id,
            lines=[
                ReturnLineInput(line.sku, line.quantity, line.condition or "", prices[line.sku])
                for line in lines
            ],
            actor=actor,
        )

        async def call(client: Client) -> ReturnStatus:
            handle = client.get_workflow_handle(return_workflow_id(record.return_id))
            result: ReturnStatus = await handle.execute_update(
                RECEIVE_UPDATE,
                receipt,
                id=action_update_id(RECEIVE_UPDATE, record.return_id, key),
                result_type=ReturnStatus,
                rpc_timeout=self._action_timeout,
            )
            return result

        await self._call(call)
