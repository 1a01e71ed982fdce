"""The orders service's application layer: one short function per RPC.

Each validates, loads, asks the domain (or the journey, for what the order's
workflow decides), and saves, inside one unit of work or `run_once` for keyed
writes. Storage, the journeys and the catalog come in through the small
protocols below, so the unit tests run these on in-memory fakes.

Longer than 400 lines because it is the whole application layer of sixteen
RPCs plus the protocols they are written against; split, a reader would
need two files to follow one RPC.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from google.protobuf.message import Message
from google.protobuf.wrappers_pb2 import StringValue

from omni.words import FulfillmentType, OrderStatus, ReturnStatus, TaskType, TenderType
from services.common.errors import (
    BusinessRuleViolation,
    Conflict,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.idempotency import validate_key
from services.common.paging import Page, cut_page, decode_cursor, page_size
from services.common.validation import Violations
from services.orders import access, quoting
from services.orders.domain import placing, progress, returns, store_work
from services.orders.domain import till as till_rules
from services.orders.domain.line_cancels import CancelledLine, lines_to_cancel
from services.orders.domain.placing import Catalog, OrderRequest, PricedOrder, RequestedTender
from services.orders.domain.progress import OrderProgress, ReturnProgress
from services.orders.domain.records import (
    Address,
    Event,
    FulfillmentRecord,
    OrderRecord,
    RefundRecord,
    ReturnRecord,
    StoreTaskRecord,
    TaskCursor,
)
from services.orders.domain.returns import ReturnRequest, ReturnRequestLine
from services.orders.domain.store_work import PickedLine
from services.orders.placement import Placed, Placing, hold_replacement, place_now, refused
from services.orders.quoting import Pricing
from services.orders.staff import Staff, check_active
from services.orders.till import Till, sell_now
from workflows.contracts.journeys import (
    ExchangeInput,
    PlacementResult,
    order_workflow_id,
    placement_hold_id,
    return_workflow_id,
)
from workflows.order.rules import StoreAction

# Progress event ids share the key table with request keys, apart.
PROGRESS_KEY_PREFIX = "progress:"
# So do the line cancels' counts (once per cancel: _record_cancelled).
LINE_CANCEL_KEY_PREFIX = "line-cancel:"
# A customer and the ids merged into it; orders.customer_id is String(128).
MAX_ERASE_IDS = 100
MAX_CUSTOMER_ID_LENGTH = 128


# ---------------------------------------------------------------- what the use cases need


class Records(Protocol):
    """The store, bound to one unit of work (store/ over PostgreSQL; a fake in unit tests)."""

    async def load_order(
        self, order_id: str, *, for_update: bool = False
    ) -> OrderRecord | None: ...
    async def insert_pending_order(
        self, order_id: str, workflow_id: str, request: OrderRequest, priced: PricedOrder
    ) -> OrderRecord:
        """The pending order as written (no read back)."""
        ...

    async def mark_rejected(self, order_id: str, refusal: BusinessRuleViolation) -> None: ...
    # Placement taken by this service (placement.py, store/placements.py).
    async def renew_placement(self, order_id: str) -> bool: ...
    async def claim_stale_placements(self, older_than: timedelta, limit: int) -> list[str]: ...
    async def mark_placed(
        self, order_id: str, fulfillment: FulfillmentRecord, event: Event
    ) -> bool: ...
    async def record_placed(
        self,
        order_id: str,
        placed: list[FulfillmentRecord],
        event: Event,
        *,
        completed: Event | None = None,
    ) -> list[FulfillmentRecord] | None:
        """A placement's `mark_placed`: every fulfillment at once, as written;
        None when the order was no longer pending. `completed` (a till sale):
        the order is completed at once, that event written after `event`."""
        ...

    async def set_order_status(self, order_id: str, status: OrderStatus) -> None: ...
    async def upsert_fulfillment(self, fulfillment: FulfillmentRecord) -> None: ...
    async def append_order_event(self, order_id: str, event: Event) -> None: ...
    async def erase_addresses(self, customer_ids: list[str]) -> int: ...
    async def change_address(self, order_id: str, address: Address) -> None: ...
    async def load_fulfillment(self, fulfillment_id: str) -> FulfillmentRecord | None: ...
    async def mark_customer_arrived(self, fulfillment_id: str, note: str, at: datetime) -> bool: ...
    async def list_store_tasks(
        self, store_id: str, types: frozenset[TaskType], after: TaskCursor | None, limit: int
    ) -> list[StoreTaskRecord]: ...
    async def insert_return(self, record: ReturnRecord) -> None: ...
    async def load_return(self, return_id: str) -> ReturnRecord | None: ...
    async def reserve_returned_quantity(self, order_id: str, sku: str, quantity: int) -> bool: ...
    async def release_returned_quantities(self, return_id: str) -> None: ...
    # Units a line cancel gave up, shown per line (issue 11).
    async def add_cancelled_quantities(
        self, order_id: str, lines: list[tuple[str, int]]
    ) -> None: ...
    async def claim_receiving_location(self, return_id: str, location_id: str) -> bool: ...
    async def set_return_status(self, return_id: str, status: ReturnStatus) -> None: ...
    async def replace_refunds(self, return_id: str, refunds: list[RefundRecord]) -> None: ...
    async def append_return_event(self, return_id: str, event: Event) -> None: ...


class UnitOfWork(Protocol):
    """Rolls back unless `commit()` is called."""

    @property
    def records(self) -> Records: ...
    async def commit(self) -> None: ...


@dataclass(frozen=True)
class Keyed:
    """An idempotency key and the request it fingerprints."""

    key: str
    request: Message


class Storage(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]: ...

    async def run_once(self, keyed: Keyed, work: Callable[[Records], Awaitable[str]]) -> str:
        """services.common.idempotency.run_once: `work` returns the id of what
        it created or changed; a repeat of the key returns that id (or raises
        the first refusal again)."""
        ...

    async def claim_once(
        self, keyed: Keyed, answer: str, work: Callable[[Records], Awaitable[None]]
    ) -> str:
        """`run_once` for work that cannot be refused and whose answer is known
        before it runs (a new order's id): the key and the work in one
        transaction, in fewer statements. Returns `answer`, or what a repeat
        of the key was first answered."""
        ...


class Journeys(Protocol):
    """The order and return workflows (adapters/journeys.py over Temporal)."""

    async def place(
        self, order: OrderRecord, tenders: list[RequestedTender], store_id: str
    ) -> PlacementResult: ...
    # `key`: the caller's idempotency key ("" without one). The same key is
    # the same update to the journey, so a retry gets the first answer.
    async def cancel(self, order_id: str, reason: str, actor: str, *, key: str = "") -> None: ...
    async def cancel_lines(
        self, order_id: str, lines: list[CancelledLine], reason: str, actor: str, *, key: str = ""
    ) -> None: ...
    async def pick(
        self, fulfillment: FulfillmentRecord, lines: list[PickedLine], actor: str, *, key: str = ""
    ) -> None: ...
    async def hand_over(
        self,
        fulfillment: FulfillmentRecord,
        pickup_code: str,
        actor: str,
        *,
        key: str = "",
        taken: list[store_work.TakenLine] | None = None,
    ) -> None: ...
    async def customer_arrived(self, fulfillment: FulfillmentRecord, note: str) -> None: ...
    async def ship(
        self,
        fulfillment: FulfillmentRecord,
        carrier: str,
        tracking_number: str,
        actor: str,
        *,
        key: str = "",
    ) -> None: ...
    async def reject(
        self, fulfillment: FulfillmentRecord, reason: str, actor: str, *, key: str = ""
    ) -> None: ...
    async def issue_pickup_code(self, fulfillment: FulfillmentRecord, actor: str) -> None: ...
    async def change_shipping_address(
        self, order_id: str, address: Address, actor: str, *, key: str = ""
    ) -> None: ...
    async def submit_payment(
        self, order_id: str, tenders: list[RequestedTender], actor: str, *, key: str = ""
    ) -> None: ...
    # `exchange`: the replacement of an exchange (issue 11), its hold taken.
    async def start_return(
        self, record: ReturnRecord, exchange: ExchangeInput | None = None
    ) -> None: ...
    async def receive_return(
        self,
        record: ReturnRecord,
        location_id: str,
        lines: list[ReturnRequestLine],
        actor: str,
        *,
        key: str = "",
    ) -> None: ...


class Products(Protocol):
    """The product catalog (adapters/products.py over inventory's GetProducts)."""

    async def prices(self, skus: list[str]) -> Catalog: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Dependencies:
    storage: Storage
    journeys: Journeys
    products: Products
    now: Callable[[], datetime] = field(default=_utc_now)
    # The pricing function's inputs (services/orders/quoting.py); None prices
    # orders at their catalog prices alone (unit tests that predate pricing).
    pricing: Pricing | None = None
    # The associates registry (services/orders/staff.py); None accepts any
    # associate id (unit tests that predate the registry).
    staff: Staff | None = None
    # Placement taken by this service (placement.py: hold, authorize, start
    # the journey with them); None leaves all of it to the journey's `place`
    # update (unit tests that predate it).
    placing: Placing | None = None
    # Till sales (till.py, issue 14): carry_out orders paid and taken at once;
    # None refuses them (unit tests that predate them).
    till: Till | None = None


# ---------------------------------------------------------------- reading


def _required(**values: str) -> None:
    bad = Violations()
    for name, value in values.items():
        bad.require(name, value)
    bad.raise_if_any()


async def _order(records: Records, order_id: str, *, visible_only: bool = True) -> OrderRecord:
    order = await records.load_order(order_id)
    if order is not None and visible_only and order.held_for_exchange:
        # Shown (get_order), but nothing can be done to it before it is placed.
        raise Conflict(
            "INVALID_STATE",
            "an exchange's replacement order is placed when its return's goods are received",
            {"order_id": order_id, "return_id": order.exchange_for},
        )
    if order is None or (visible_only and not order.visible):
        raise NotFound(f"order {order_id} not found", resource_type="order", ids=[order_id])
    return order


async def _fulfillment(records: Records, fulfillment_id: str) -> FulfillmentRecord:
    fulfillment = await records.load_fulfillment(fulfillment_id)
    if fulfillment is None:
        raise NotFound(
            f"fulfillment {fulfillment_id} not found",
            resource_type="fulfillment",
            ids=[fulfillment_id],
        )
    return fulfillment


async def _return(records: Records, return_id: str) -> ReturnRecord:
    record = await records.load_return(return_id)
    if record is None:
        raise NotFound(f"return {return_id} not found", resource_type="return", ids=[return_id])
    return record


async def _read_order(
    deps: Dependencies, order_id: str, *, visible_only: bool = True
) -> OrderRecord:
    async with deps.storage.unit_of_work() as uow:
        return await _order(uow.records, order_id, visible_only=visible_only)


async def _read_fulfillment(deps: Dependencies, fulfillment_id: str) -> FulfillmentRecord:
    _required(fulfillment_id=fulfillment_id)
    async with deps.storage.unit_of_work() as uow:
        return await _fulfillment(uow.records, fulfillment_id)


async def _read_return(deps: Dependencies, return_id: str) -> ReturnRecord:
    async with deps.storage.unit_of_work() as uow:
        return await _return(uow.records, return_id)


async def get_order(deps: Dependencies, order_id: str) -> OrderRecord:
    """A visible order, or an exchange's replacement not (yet) placed."""
    _required(order_id=order_id)
    order = await _read_order(deps, order_id, visible_only=False)
    if not order.shown:
        raise NotFound(f"order {order_id} not found", resource_type="order", ids=[order_id])
    return order


async def get_fulfillment(deps: Dependencies, fulfillment_id: str) -> FulfillmentRecord:
    return await _read_fulfillment(deps, fulfillment_id)


async def get_return(deps: Dependencies, return_id: str) -> ReturnRecord:
    _required(return_id=return_id)
    return await _read_return(deps, return_id)


def _task_key(task: StoreTaskRecord) -> tuple[int, str, str]:
    return (task.rank, task.since.isoformat(), task.task_id)


def _task_cursor(token: str) -> TaskCursor | None:
    key = decode_cursor(token, arity=3, field="page_token")
    if key is None:
        return None
    rank, since, task_id = key
    try:
        return TaskCursor(int(str(rank)), datetime.fromisoformat(str(since)), str(task_id))
    except ValueError:
        raise InvalidArgument.field("page_token", "is not a cursor this service issued") from None


async def list_store_tasks(
    deps: Dependencies, store_id: str, task_type: TaskType | None, limit: int, page_token: str
) -> Page[StoreTaskRecord]:
    """Open work at a store, every type when `task_type` is None."""
    _required(store_id=store_id)
    size = page_size(limit, field="limit")
    after = _task_cursor(page_token)
    types = frozenset({task_type}) if task_type is not None else frozenset(TaskType)
    async with deps.storage.unit_of_work() as uow:
        tasks = await uow.records.list_store_tasks(store_id, types, after, size + 1)
    return cut_page(tasks, size, _task_key)


# ---------------------------------------------------------------- placing


async def place_order(deps: Dependencies, wanted: OrderRequest, keyed: Keyed) -> OrderRecord:
    """`place_order_answered`, the order alone."""
    return (await place_order_answered(deps, wanted, keyed)).order


async def place_order_answered(deps: Dependencies, wanted: OrderRequest, keyed: Keyed) -> Placed:
    """Answers once stock is held and payment authorized (or refused), with
    the authorizations when this call made them (`Placed.payments`).

    The key claims a pending order first and commits, so a retry or a
    concurrent duplicate finds the same order id. With `deps.placing` this
    service holds, authorizes and starts the journey itself (placement.py);
    else the journey (started with the same id and update id) places it and
    gives every retry the same answer."""
    validate_key(keyed.key)
    wanted = placing.validate_order_request(wanted)
    if deps.staff is not None:
        # Staff credit goes only to active associates of the registry (issue 14).
        await check_active(deps.staff, "associate_id", wanted.associate_id)
        await check_active(deps.staff, "referral_associate_id", wanted.referral_associate_id)
    if deps.pricing is not None:
        # The one pricing function: the total authorized is the quote's total.
        priced = await quoting.price_placement(deps.pricing, wanted)
    else:
        catalog = await deps.products.prices([line.sku for line in wanted.lines])
        priced = placing.price_order(wanted.lines, catalog)
    if wanted.fulfillment_type == FulfillmentType.CARRY_OUT:
        till_rules.check_tenders_pay(wanted.tenders, priced.total.amount_minor)
    else:
        placing.check_tenders_pay(wanted.tenders, priced.total)

    claimed: list[OrderRecord] = []
    new_id = placing.new_order_id()

    async def claim(records: Records) -> None:
        # As written (RETURNING): no read back, no second unit of work.
        claimed.append(
            await records.insert_pending_order(new_id, order_workflow_id(new_id), wanted, priced)
        )

    order_id = await deps.storage.claim_once(keyed, new_id, claim)
    order = claimed[0] if claimed else await _read_order(deps, order_id, visible_only=False)
    if order.status == OrderStatus.REJECTED:
        raise refused(order)
    if order.status == OrderStatus.PENDING and order.fulfillment_type == FulfillmentType.CARRY_OUT:
        if deps.till is None:
            raise Unavailable("till sales are not taken here")
        sold = await sell_now(deps, deps.till, order, wanted.tenders, fresh=bool(claimed))
        if sold is not None:
            # The sale as it wrote it, with its payments as payments answered them.
            return sold
        order = await _read_order(deps, order_id, visible_only=False)
        if order.status == OrderStatus.REJECTED:
            raise refused(order)
    elif order.status == OrderStatus.PENDING and deps.placing is not None:
        placed = await place_now(
            deps, deps.placing, order, wanted.tenders, order.location_id, fresh=bool(claimed)
        )
        if placed is not None:
            # The order as `placed` wrote it, with the authorizations.
            return placed
        order = await _read_order(deps, order_id, visible_only=False)
        if order.status == OrderStatus.REJECTED:
            raise refused(order)
    elif order.status == OrderStatus.PENDING:
        result = await deps.journeys.place(
            order, wanted.tenders, order.location_id or wanted.store_id
        )
        if not result.accepted:
            refusal = placing.placement_refused(result.reason, result.message, result.details)
            async with deps.storage.unit_of_work() as uow:
                await uow.records.mark_rejected(order_id, refusal)
                await uow.commit()
            raise refusal
        order = await _read_order(deps, order_id, visible_only=False)
    return Placed(order)


# ---------------------------------------------------------------- actions forwarded to the journey
# Each takes the caller's idempotency key ("" without one) and forwards it:
# the journey's update id derives from it, so a retry whose first answer was
# lost gets that answer (Temporal keeps it), not a 409.


def _action_key(key: str) -> str:
    """An action's key is optional; one that is sent is checked like any key."""
    if key:
        validate_key(key)
    return key


async def cancel_order(
    deps: Dependencies, order_id: str, reason: str, actor: str, *, key: str = ""
) -> OrderRecord:
    """The journey decides whether it may still be cancelled (409 when not)."""
    _required(order_id=order_id)
    _action_key(key)
    await _read_order(deps, order_id)
    await deps.journeys.cancel(order_id, reason or "cancelled", actor, key=key)
    return await _read_order(deps, order_id)


async def cancel_order_lines(
    deps: Dependencies,
    order_id: str,
    lines: list[tuple[str, int]],
    reason: str,
    actor: str,
    *,
    key: str = "",
) -> OrderRecord:
    """Units of lines not yet handed over or shipped (issue 11), priced by the
    pricing function; the journey decides whether they may go (409/422)."""
    _required(order_id=order_id)
    _action_key(key)
    order = await _read_order(deps, order_id)
    cancelling = lines_to_cancel(order, lines)
    await deps.journeys.cancel_lines(
        order_id, cancelling, reason or "lines cancelled", actor, key=key
    )
    await _record_cancelled(deps, order_id, cancelling, key)
    return await _read_order(deps, order_id)


async def _record_cancelled(
    deps: Dependencies, order_id: str, cancelled: list[CancelledLine], key: str
) -> None:
    """The read model's per-line count of what the journey accepted, once per
    action: with the caller's key a retry (the journey answering it as the
    first time) adds nothing, and a retry after a failure here adds it then.
    Without a key every call is a new cancel, and so is its count."""
    asked = [(line.sku, line.quantity) for line in cancelled]
    once = _digest(order_id, key) if key else uuid.uuid4().hex

    async def add(records: Records) -> str:
        await records.add_cancelled_quantities(order_id, asked)
        return order_id

    fingerprint = StringValue(value=json.dumps(asked))
    await deps.storage.run_once(Keyed(LINE_CANCEL_KEY_PREFIX + once, fingerprint), add)


def _digest(subject_id: str, key: str) -> str:
    return hashlib.sha256(f"{subject_id}\x00{key}".encode()).hexdigest()[:40]


async def change_shipping_address(
    deps: Dependencies, order_id: str, address: Address, actor: str, *, key: str = ""
) -> OrderRecord:
    """A shipment's new address (issue 11): the journey decides (409 once
    every open shipment is picked or one has shipped) and re-sources each
    pending shipment only when another location is now nearer for it; then
    the street is kept here, never in Temporal."""
    _required(order_id=order_id)
    if key:
        validate_key(key)
    bad = Violations()
    for name in ("line1", "city", "country"):
        bad.require(f"address.{name}", getattr(address, name))
    if not -90.0 <= address.lat <= 90.0:
        bad.add("address.point.lat", "must be within -90..90")
    if not -180.0 <= address.lon <= 180.0:
        bad.add("address.point.lon", "must be within -180..180")
    bad.raise_if_any()
    order = await _read_order(deps, order_id)
    if order.fulfillment_type != FulfillmentType.SHIP:
        raise Conflict(
            "INVALID_STATE", "only a shipment has a shipping address", {"order_id": order_id}
        )
    await deps.journeys.change_shipping_address(order_id, address, actor, key=key)
    async with deps.storage.unit_of_work() as uow:
        await uow.records.change_address(order_id, address)
        await uow.commit()
    return await _read_order(deps, order_id)


async def submit_order_payment(
    deps: Dependencies,
    order_id: str,
    tenders: list[RequestedTender],
    actor: str,
    *,
    key: str = "",
) -> OrderRecord:
    """New tenders for an order whose re-authorization was declined (issue 11):
    checked here as at placement (400); the journey decides whether it asked
    for one (409 when not) and authorizes them (422 when declined)."""
    _required(order_id=order_id)
    _action_key(key)
    placing.check_tenders(tenders)
    await _read_order(deps, order_id)
    await deps.journeys.submit_payment(order_id, tenders, actor, key=key)
    return await _read_order(deps, order_id)


async def pick_fulfillment(
    deps: Dependencies, fulfillment_id: str, picked: list[PickedLine], actor: str, *, key: str = ""
) -> FulfillmentRecord:
    _action_key(key)
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    access.check_store_work(fulfillment_id, fulfillment.location_id)
    store_work.validate_pick({line.sku: line.quantity for line in fulfillment.lines}, picked)
    await deps.journeys.pick(fulfillment, picked, actor, key=key)
    return await _read_fulfillment(deps, fulfillment_id)


async def hand_over_fulfillment(
    deps: Dependencies,
    fulfillment_id: str,
    pickup_code: str,
    actor: str,
    *,
    key: str = "",
    taken: list[store_work.TakenLine] | None = None,
) -> FulfillmentRecord:
    """`taken`: a partial handover (the journey checks it against the pick,
    releases and does not charge the rest)."""
    _required(pickup_code=pickup_code)
    _action_key(key)
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    access.check_store_work(fulfillment_id, fulfillment.location_id)
    store_work.check_kind(StoreAction.HAND_OVER, fulfillment.type)
    if taken:
        await deps.journeys.hand_over(fulfillment, pickup_code, actor, key=key, taken=taken)
    else:
        await deps.journeys.hand_over(fulfillment, pickup_code, actor, key=key)
    return await _read_fulfillment(deps, fulfillment_id)


async def ship_fulfillment(
    deps: Dependencies,
    fulfillment_id: str,
    carrier: str,
    tracking_number: str,
    actor: str,
    *,
    key: str = "",
) -> FulfillmentRecord:
    _required(carrier=carrier, tracking_number=tracking_number)
    _action_key(key)
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    access.check_store_work(fulfillment_id, fulfillment.location_id)
    store_work.check_kind(StoreAction.SHIP, fulfillment.type)
    await deps.journeys.ship(fulfillment, carrier, tracking_number, actor, key=key)
    return await _read_fulfillment(deps, fulfillment_id)


async def reject_fulfillment(
    deps: Dependencies, fulfillment_id: str, reason: str, actor: str, *, key: str = ""
) -> FulfillmentRecord:
    """The store cannot do it: the journey reroutes or cancels its lines."""
    store_work.validate_reject_reason(reason)
    _action_key(key)
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    access.check_store_work(fulfillment_id, fulfillment.location_id)
    await deps.journeys.reject(fulfillment, reason, actor, key=key)
    return await _read_fulfillment(deps, fulfillment_id)


async def issue_pickup_code(
    deps: Dependencies, fulfillment_id: str, actor: str
) -> FulfillmentRecord:
    """A new pickup code (the journey draws it, records it here and sends it
    to the customer); a pickup locked by wrong codes opens again."""
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    store_work.check_kind(StoreAction.NEW_PICKUP_CODE, fulfillment.type)
    await deps.journeys.issue_pickup_code(fulfillment, actor)
    return await _read_fulfillment(deps, fulfillment_id)


async def mark_customer_arrived(
    deps: Dependencies, fulfillment_id: str, note: str
) -> FulfillmentRecord:
    """Curbside: recorded once (a repeat answers the same); the journey is
    told each time (it keeps the first arrival), so a lost signal is sent again
    by the customer's retry and the hand-off clock still starts."""
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    store_work.check_arrival(fulfillment.type, fulfillment.status, note)
    now = deps.now()
    async with deps.storage.unit_of_work() as uow:
        if await uow.records.mark_customer_arrived(fulfillment_id, note, now):
            detail = f"at {fulfillment.location_id}" + (f": {note}" if note else "")
            await uow.records.append_order_event(
                fulfillment.order_id, Event(now, "customer_arrived", detail)
            )
            await uow.commit()
    fulfillment = await _read_fulfillment(deps, fulfillment_id)
    if fulfillment.arrived_at is None:
        # It left ready_for_pickup between the check and the write.
        store_work.check_arrival(fulfillment.type, fulfillment.status, note)
    await deps.journeys.customer_arrived(fulfillment, fulfillment.arrival_note)
    return fulfillment


# ---------------------------------------------------------------- returns


async def create_return(deps: Dependencies, wanted: ReturnRequest, keyed: Keyed) -> ReturnRecord:
    """Holds the returned quantities on the order and starts the return's journey.
    An exchange (issue 11) first holds its replacement, its own pending order
    priced in the original order's channel: in the same unit of work, so a
    replacement that cannot be held (422) leaves nothing behind, and a crash
    before the commit leaves only a soft hold that lapses by itself."""
    validate_key(keyed.key)
    returns.validate_return_request(wanted)
    replacement: OrderRequest | None = None
    priced: PricedOrder | None = None
    if wanted.exchange is not None:
        original = await _read_order(deps, wanted.order_id)
        replacement = returns.replacement_request(
            wanted.exchange, customer_id=original.customer_id, channel=original.channel
        )
        priced = await _price(deps, replacement)

    async def create(records: Records) -> str:
        order = await _order(records, wanted.order_id)
        plan = returns.plan_return_of(order, wanted.lines, deps.now())
        return_id = returns.new_return_id()
        # Conditional updates: two concurrent returns cannot over-return.
        for line in plan.lines:
            if not await records.reserve_returned_quantity(order.order_id, line.sku, line.quantity):
                raise returns.return_quantity_exceeded(line.sku, line.quantity, None)
        replacement_id = held_at = ""
        if replacement is not None and priced is not None:
            replacement_id, held_at = await _hold_replacement(
                deps, records, order, replace(replacement, exchange_for=return_id), priced, plan
            )
        record = returns.new_return(
            wanted,
            order,
            plan,
            return_id=return_id,
            workflow_id=return_workflow_id(return_id),
            now=deps.now(),
        )
        record.replacement_order_id = replacement_id
        record.replacement_location_id = held_at
        await records.insert_return(record)
        return return_id

    record = await _read_return(deps, await deps.storage.run_once(keyed, create))
    if record.status == ReturnStatus.REQUESTED and record.replacement_order_id:
        exchanged = await _read_order(deps, record.replacement_order_id, visible_only=False)
        await deps.journeys.start_return(
            record,
            ExchangeInput(
                exchanged.order_id,
                exchanged.total.amount_minor,
                [placement_hold_id(exchanged.order_id)],
            ),
        )
    elif record.status == ReturnStatus.REQUESTED:
        await deps.journeys.start_return(record)
    return record


async def _price(deps: Dependencies, wanted: OrderRequest) -> PricedOrder:
    """The one pricing function (the catalog alone without its inputs)."""
    if deps.pricing is not None:
        return await quoting.price_placement(deps.pricing, wanted)
    catalog = await deps.products.prices([line.sku for line in wanted.lines])
    return placing.price_order(wanted.lines, catalog)


async def _hold_replacement(
    deps: Dependencies,
    records: Records,
    original: OrderRecord,
    replacement: OrderRequest,
    priced: PricedOrder,
    plan: returns.ReturnPlan,
) -> tuple[str, str]:
    """The replacement's pending order and its soft hold; (order id, where held).
    A dearer replacement's difference is charged to the original card, so an
    order paid without one can only exchange for as much as it refunds."""
    if deps.placing is None:
        raise BusinessRuleViolation("EXCHANGE_UNAVAILABLE", "exchanges need placement by orders")
    if priced.total.amount_minor > plan.refund_minor:
        if await _original_card(deps.placing, original.order_id) is None:
            raise BusinessRuleViolation(
                "EXCHANGE_DIFFERENCE_UNPAID",
                "the replacement costs more than the refund and the order was paid without a card",
                {
                    "refund_minor": str(plan.refund_minor),
                    "total_minor": str(priced.total.amount_minor),
                },
            )
    order_id = placing.new_order_id()
    await records.insert_pending_order(order_id, order_workflow_id(order_id), replacement, priced)
    pending = await records.load_order(order_id)
    assert pending is not None  # inserted just now, in this transaction
    held = await hold_replacement(deps, deps.placing, pending)
    # What GET of the replacement shows until its return's goods come back.
    await records.append_order_event(
        order_id,
        Event(
            deps.now(),
            "exchange_held",
            f"held at {held.location_id} for return {replacement.exchange_for}"
            " until its goods are received",
        ),
    )
    return order_id, held.location_id


async def _original_card(placing_: Placing, order_id: str) -> RequestedTender | None:
    """The card the original order was paid with (its journey's start input)."""
    started = await placing_.placements.started_with(order_id)
    for tender in started.tenders if started is not None else []:
        if tender.type == TenderType.CARD and tender.token:
            return RequestedTender(TenderType.CARD, token=tender.token)
    return None


async def place_exchange(
    deps: Dependencies, return_id: str, order_id: str, credits: list[RequestedTender]
) -> OrderRecord:
    """The return journey, once the goods are back: the replacement is placed
    as any order is (placement.py: the hold adopted where it was taken,
    authorizations keyed by its order id, its journey started), paid by the
    store credit the refund went to and, for the rest, the original card. A
    repeat finds it placed (or refused again)."""
    _required(return_id=return_id, order_id=order_id)
    record = await _read_return(deps, return_id)
    if not record.replacement_order_id or record.replacement_order_id != order_id:
        raise NotFound(f"order {order_id} not found", resource_type="order", ids=[order_id])
    order = await _read_order(deps, order_id, visible_only=False)
    if order.status == OrderStatus.REJECTED:
        raise refused(order)
    if order.status != OrderStatus.PENDING:
        return order
    if deps.placing is None:
        raise BusinessRuleViolation("EXCHANGE_UNAVAILABLE", "exchanges need placement by orders")
    by_code: dict[str, int] = {}
    for credit in credits:
        by_code[credit.code] = by_code.get(credit.code, 0) + credit.amount_minor
    tenders = [
        RequestedTender(TenderType.GIFT_CARD, code=code, amount_minor=amount)
        for code, amount in by_code.items()
        if code and amount > 0
    ]
    if order.total.amount_minor > sum(by_code.values()):
        card = await _original_card(deps.placing, record.order_id)
        if card is None:
            # Less arrived than was returned and no card pays the rest: the
            # replacement is refused like a placement, its hold given back.
            refusal = BusinessRuleViolation(
                "EXCHANGE_DIFFERENCE_UNPAID", "nothing can pay the replacement's difference"
            )
            await deps.placing.stock.release(placement_hold_id(order_id))
            async with deps.storage.unit_of_work() as uow:
                await uow.records.mark_rejected(order_id, refusal)
                await uow.commit()
            raise refusal
        tenders.append(card)
    await place_now(
        deps,
        deps.placing,
        order,
        tenders,
        order.store_id,
        fresh=False,
        held_at=record.replacement_location_id,
    )
    order = await _read_order(deps, order_id, visible_only=False)
    if order.status == OrderStatus.REJECTED:
        raise refused(order)
    return order


async def receive_return(
    deps: Dependencies,
    return_id: str,
    location_id: str,
    lines: list[ReturnRequestLine],
    actor: str,
    *,
    key: str = "",
) -> ReturnRecord:
    """A mail return's parcel arrived: the journey restocks and refunds it.
    A retry with the caller's key of a receipt that went through (its answer
    lost) is asked of the journey, which answers it as the first time."""
    _required(return_id=return_id)
    _action_key(key)
    past_receipt: Conflict | None = None
    async with deps.storage.unit_of_work() as uow:
        record = await _return(uow.records, return_id)
        returns.validate_receipt(
            location_id, {line.sku: line.quantity for line in record.lines}, lines
        )
        try:
            returns.check_receivable(record.method, record.status)
        except Conflict as refusal:
            if not key:
                raise
            past_receipt = refusal
        if past_receipt is None:
            if not await uow.records.claim_receiving_location(return_id, location_id):
                raise Conflict(
                    "INVALID_STATE", "this return is already being received at another location"
                )
            await uow.commit()
    if past_receipt is not None:
        await _retried_receipt(deps, record, location_id, lines, actor, key, past_receipt)
    else:
        await deps.journeys.receive_return(record, location_id, lines, actor, key=key)
    return await _read_return(deps, return_id)


async def _retried_receipt(
    deps: Dependencies,
    record: ReturnRecord,
    location_id: str,
    lines: list[ReturnRequestLine],
    actor: str,
    key: str,
    refusal: Conflict,
) -> None:
    """The return is past receipt: only the journey knows whether this key's
    receipt was the one. If it was, it answers; if not, the refusal stands."""
    try:
        await deps.journeys.receive_return(record, location_id, lines, actor, key=key)
    except Conflict:
        raise refusal from None


# ---------------------------------------------------------------- progress from the journeys


def _progress_key(event_id: str, request: Message) -> Keyed:
    return Keyed(PROGRESS_KEY_PREFIX + event_id, request)


async def record_order_progress(
    deps: Dependencies, change: OrderProgress, request: Message
) -> OrderRecord:
    """Applies a journey's change once per event id; a repeat changes nothing."""
    progress.validate_order_progress(change)
    now = deps.now()

    async def apply(records: Records) -> str:
        order = await records.load_order(change.order_id, for_update=True)
        if order is None:
            raise NotFound(
                f"order {change.order_id} not found", resource_type="order", ids=[change.order_id]
            )
        if change.status is not None:
            await records.set_order_status(order.order_id, change.status)
        for reported in change.fulfillments:
            await records.upsert_fulfillment(progress.fulfillment_of(order, reported, now))
        if change.event is not None:
            await records.append_order_event(order.order_id, change.event)
        return order.order_id

    order_id = await deps.storage.run_once(_progress_key(change.event_id, request), apply)
    return await _read_order(deps, order_id, visible_only=False)


async def record_return_progress(
    deps: Dependencies, change: ReturnProgress, request: Message
) -> ReturnRecord:
    progress.validate_return_progress(change)

    async def apply(records: Records) -> str:
        record = await _return(records, change.return_id)
        if change.status is not None:
            await records.set_return_status(record.return_id, change.status)
            if progress.releases_quantities(change.status):
                await records.release_returned_quantities(record.return_id)
        if change.refunds:
            await records.replace_refunds(
                record.return_id, progress.in_currency(change.refunds, record.refund.currency)
            )
        if change.event is not None:
            await records.append_return_event(record.return_id, change.event)
        return record.return_id

    return_id = await deps.storage.run_once(_progress_key(change.event_id, request), apply)
    return await _read_return(deps, return_id)


# ---------------------------------------------------------------- privacy


async def erase_personal_data(deps: Dependencies, customer_ids: list[str]) -> int:
    unique = list(dict.fromkeys(customer_ids))
    bad = Violations()
    if not unique:
        bad.add("customer_ids", "at least one is required")
    if len(unique) > MAX_ERASE_IDS:
        bad.add("customer_ids", f"at most {MAX_ERASE_IDS} ids")
    for index, customer_id in enumerate(unique):
        if not customer_id or len(customer_id) > MAX_CUSTOMER_ID_LENGTH:
            bad.add(f"customer_ids[{index}]", f"must be 1 to {MAX_CUSTOMER_ID_LENGTH} characters")
    bad.raise_if_any()
    async with deps.storage.unit_of_work() as uow:
        erased = await uow.records.erase_addresses(unique)
        await uow.commit()
    return erased
