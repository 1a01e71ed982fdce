"""Placement taken by the orders service itself (issue 10): the short path that
answers POST /v1/orders in tens of milliseconds.

    pending row (the key's claim) -> hold at inventory (soft, PLACEMENT_HOLD_TTL)
    -> one authorization per paying tender at payments (keys from the order id)
    -> start `order-<id>` with what it got (OrderInput.placed) -> read model `placed`

The journey then confirms the hold (or compensates) and goes on as always; it
is still the one owner of the order from here to the end. A refusal (sold out,
declined) gives back what this attempt took and is kept on the row, so a retry
of the key is told the same; nothing reaches Temporal for it. An outcome that
is unknown (a dependency down, an ambiguous timeout) is a 503 and the row stays
pending: a retry of the key repeats every step with the same ids (inventory and
payments answer a repeated id with the first outcome) and finds the same order.

A pending row nobody moves for `Placing.recover_after` is taken over by
`recover_placements` (the orders service runs it every few seconds): it starts
the journey with `abandoned`, which releases the hold and voids every
authorization made for the order, so none outlives a crash of this process at
any step. When the journey had already started (the process died after the
start), recovery finds it and records `placed` instead.

Part of the application layer: use_cases.place_order calls `place_now` when
the service is wired with a `Placing`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from omni.words import Channel, FulfillmentStatus, FulfillmentType, OrderStatus, ReservationStatus
from services.common.errors import BusinessRuleViolation, DomainError, Unavailable
from services.common.telemetry import carrying_order_id
from services.orders.domain import placing
from services.orders.domain.placing import RequestedTender
from services.orders.domain.records import (
    Event,
    FulfillmentLineRecord,
    FulfillmentRecord,
    OrderRecord,
)
from workflows.contracts.activities import PaymentInfo
from workflows.contracts.journeys import (
    DEFAULT_MAX_SPLITS,
    PLACEMENT_HOLD_TTL_SECONDS,
    AuthorizedTender,
    LineInput,
    OrderInput,
    PlacedHold,
    PlacedInput,
    authorization_key,
    fulfillment_id_of,
    placement_hold_id,
    void_key,
)
from workflows.order.rules import tender_amounts

if TYPE_CHECKING:
    from services.orders.use_cases import Dependencies

logger = logging.getLogger(__name__)

INSUFFICIENT_STOCK = "INSUFFICIENT_STOCK"
STORE_AT_CAPACITY = "STORE_AT_CAPACITY"
NO_SOURCE = "NO_SOURCE"
PLACEMENT_INTERRUPTED = "PLACEMENT_INTERRUPTED"
# Recovery: how long a pending row may stand still, how often to look, how many at once.
DEFAULT_RECOVER_AFTER = timedelta(minutes=2)
DEFAULT_RECOVER_EVERY = timedelta(seconds=30)
RECOVERY_BATCH = 50


@dataclass(frozen=True)
class Hold:
    reservation_id: str
    # Where it is held: a retry of the same hold id gets the first hold back,
    # wherever sourcing would send it now.
    location_id: str
    status: ReservationStatus | None


class Stock(Protocol):
    """Inventory (adapters/stock.py)."""

    async def sources(
        self, lines: list[tuple[str, int]], lat: float, lon: float, channel: Channel
    ) -> list[str]: ...
    async def split(
        self,
        lines: list[tuple[str, int]],
        lat: float,
        lon: float,
        channel: Channel,
        max_locations: int,
    ) -> list[tuple[str, list[tuple[str, int]]]]: ...
    async def hold(
        self,
        reservation_id: str,
        order_id: str,
        location_id: str,
        lines: list[tuple[str, int]],
        channel: Channel,
        ttl_seconds: int,
    ) -> Hold: ...
    async def release(self, reservation_id: str) -> None: ...


class Payments(Protocol):
    """Payments (adapters/payments.py)."""

    async def authorize_answered(
        self,
        key: str,
        reference: str,
        tender: RequestedTender,
        amount_minor: int,
        currency: str,
        channel: Channel,
    ) -> tuple[PaymentInfo, bytes]:
        """The payment, and as payments answered it (serialized, for the answer)."""
        ...

    async def void(self, key: str, payment_id: str) -> None: ...


class Placements(Protocol):
    """Starting the order's journey (adapters/placement.py over Temporal)."""

    async def start_placed(
        self, order: OrderRecord, tenders: list[RequestedTender], placed: PlacedInput, store_id: str
    ) -> bool: ...
    async def start_abandoned(self, order: OrderRecord) -> bool: ...
    async def started_with(self, order_id: str) -> OrderInput | None: ...


def _no_checkpoint(_step: str) -> None:
    return None


@dataclass(frozen=True)
class Placing:
    stock: Stock
    payments: Payments
    placements: Placements
    # Called after each step ("row", "hold", "authorize/<i>", "start",
    # "started"): the fault tests' failpoint kills the process there.
    checkpoint: Callable[[str], None] = field(default=_no_checkpoint)
    hold_ttl_seconds: int = PLACEMENT_HOLD_TTL_SECONDS
    recover_after: timedelta = DEFAULT_RECOVER_AFTER
    # The most locations a shipment is split over when none ships it all.
    max_splits: int = DEFAULT_MAX_SPLITS


@dataclass(frozen=True)
class Placed:
    """What a placement answers: the order as `placed` wrote it and, when
    this attempt started its journey, the authorizations as payments answered
    them (serialized payments.v1.Payment, in tender order: what ListPayments
    shows for a just-placed order), so the answer needs no ListPayments."""

    order: OrderRecord
    payments: list[bytes] | None = None


def interrupted() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        PLACEMENT_INTERRUPTED, "the order could not be placed; try again with a new key"
    )


@dataclass
class _Attempt:
    """One attempt at placing `order`: what it took so far."""

    deps: Dependencies
    placing: Placing
    order: OrderRecord
    tenders: list[RequestedTender]
    # Stops before a step once recovery may have taken the row over.
    give_up_at: float
    hold: Hold | None = None
    # A split shipment (issue 11): one hold per location, nearest first
    # (`hold` is the first), each with its lines.
    split: list[tuple[Hold, list[tuple[str, int]]]] = field(default_factory=list)
    authorized: list[AuthorizedTender] = field(default_factory=list)
    # The same authorizations as payments answered them (see `Placed`).
    answered: list[bytes] = field(default_factory=list)
    # An exchange's replacement (issue 11): where its hold was taken when its
    # return was made (sourcing cannot see stock the order itself holds).
    held_at: str = ""

    @property
    def order_id(self) -> str:
        return self.order.order_id

    @property
    def channel(self) -> Channel:
        return self.order.channel

    def _lines(self) -> list[tuple[str, int]]:
        return [(line.sku, line.quantity) for line in self.order.lines]

    def step(self, name: str) -> None:
        self.placing.checkpoint(name)
        if time.monotonic() > self.give_up_at:
            raise Unavailable("the placement took too long; try again")

    async def take_hold(self) -> Hold:
        """At the pickup store, or at the best location that can ship it all."""
        stock = self.placing.stock
        hold_id = placement_hold_id(self.order_id)
        if self.held_at:
            candidates = [self.held_at]
        elif self.order.fulfillment_type == FulfillmentType.PICKUP:
            candidates = [self.order.location_id]
        else:
            address = self.order.address
            if address is None:
                raise BusinessRuleViolation(NO_SOURCE, "the order has no address to ship to")
            candidates = await stock.sources(self._lines(), address.lat, address.lon, self.channel)
            if not candidates and self.placing.max_splits > 1:
                return await self.take_split_holds(address.lat, address.lon)
            if not candidates:
                raise BusinessRuleViolation(
                    NO_SOURCE, "no location can ship every line of this order"
                )
        last: BusinessRuleViolation | None = None
        for location_id in candidates:
            try:
                return await stock.hold(
                    hold_id,
                    self.order_id,
                    location_id,
                    self._lines(),
                    self.channel,
                    self.placing.hold_ttl_seconds,
                )
            except BusinessRuleViolation as refusal:
                if refusal.reason not in (INSUFFICIENT_STOCK, STORE_AT_CAPACITY):
                    raise
                # Someone took the stock (or the store's last place today)
                # since sourcing ranked it: the next one.
                last = refusal
        assert last is not None
        raise last

    async def take_split_holds(self, lat: float, lon: float) -> Hold:
        """No one location ships it all: a hold at each of the fewest that
        together can (`<hold id>/<n>`); the first is returned. A refusal gives
        back what was held and is raised."""
        stock = self.placing.stock
        allocations = await stock.split(
            self._lines(), lat, lon, self.channel, self.placing.max_splits
        )
        if not allocations:
            raise BusinessRuleViolation(NO_SOURCE, "no locations can ship this order together")
        hold_id = placement_hold_id(self.order_id)
        try:
            for number, (location_id, lines) in enumerate(allocations, start=1):
                held = await stock.hold(
                    f"{hold_id}/{number}",
                    self.order_id,
                    location_id,
                    lines,
                    self.channel,
                    self.placing.hold_ttl_seconds,
                )
                self.split.append((held, lines))
        except BusinessRuleViolation:
            for held, _ in self.split:
                await stock.release(held.reservation_id)
            self.split = []
            raise
        return self.split[0][0]

    def placed_holds(self) -> list[PlacedHold]:
        return [
            PlacedHold(
                held.location_id,
                held.reservation_id,
                [LineInput(sku, quantity) for sku, quantity in lines],
            )
            for held, lines in self.split
        ]

    async def authorize(self) -> None:
        amounts = tender_amounts(self.tenders, self.order.total.amount_minor)
        for index, (tender, amount) in enumerate(zip(self.tenders, amounts, strict=True)):
            if amount <= 0:
                continue
            payment, answered = await self.placing.payments.authorize_answered(
                authorization_key(self.order_id, index),
                self.order_id,
                tender,
                amount,
                self.order.total.currency,
                self.channel,
            )
            self.authorized.append(AuthorizedTender(index, payment))
            self.answered.append(answered)
            self.step(f"authorize/{index}")

    async def give_back(self) -> None:
        """Undoes what this attempt took (each undo is keyed: safe twice)."""
        for tender in self.authorized:
            await self.placing.payments.void(
                void_key(self.order_id, tender.index), tender.payment.payment_id
            )
        if self.hold is not None:
            await self.placing.stock.release(self.hold.reservation_id)
        for held, _ in self.split[1:]:
            await self.placing.stock.release(held.reservation_id)


async def _reject(deps: Dependencies, order_id: str, refusal: BusinessRuleViolation) -> None:
    async with deps.storage.unit_of_work() as uow:
        await uow.records.mark_rejected(order_id, refusal)
        await uow.commit()


@dataclass(frozen=True)
class _PlacedRow:
    """What recording an order `placed` writes: one pending fulfillment per
    hold (the first at `location_id`) and the event."""

    fulfillments: list[FulfillmentRecord]
    event: Event


def _placed_row(
    deps: Dependencies, order: OrderRecord, location_id: str, holds: list[PlacedHold] | None
) -> _PlacedRow:
    now = deps.now()
    parts: list[tuple[str, list[tuple[str, int]]]]
    if holds and len(holds) > 1:
        parts = [(hold.location_id, [(ln.sku, ln.quantity) for ln in hold.lines]) for hold in holds]
    else:
        parts = [(location_id, [(line.sku, line.quantity) for line in order.lines])]
    pending = [
        FulfillmentRecord(
            fulfillment_id=fulfillment_id_of(order.order_id, number),
            order_id=order.order_id,
            type=order.fulfillment_type,
            location_id=where,
            status=FulfillmentStatus.PENDING,
            lines=[FulfillmentLineRecord(sku, quantity) for sku, quantity in lines],
            pickup_code="",
            carrier="",
            tracking_number="",
            updated_at=now,
        )
        for number, (where, lines) in enumerate(parts, start=1)
    ]
    # The event the journey's own placement records.
    places = ", ".join(where for where, _ in parts)
    return _PlacedRow(pending, Event(now, "placed", f"{order.fulfillment_type} from {places}"))


def _as_placed(
    order: OrderRecord, row: _PlacedRow, written: list[FulfillmentRecord]
) -> OrderRecord:
    """The order as recording it placed left it: `order` with what the
    statements returned (nothing is read back)."""
    ours = {f.fulfillment_id for f in written}
    return replace(
        order,
        status=OrderStatus.PLACED,
        rejection_reason="",
        rejection_message="",
        rejection_details={},
        fulfillments=[f for f in order.fulfillments if f.fulfillment_id not in ours] + written,
        events=[*order.events, row.event],
    )


async def mark_placed(
    deps: Dependencies,
    order: OrderRecord,
    location_id: str,
    holds: list[PlacedHold] | None = None,
) -> OrderRecord | None:
    """The read model: placed, with its first fulfillment pending at
    `location_id`; a split's (`holds`) one pending fulfillment per hold.
    Returns the order as this wrote it, or None when it was no longer
    pending (someone else recorded it)."""
    row = _placed_row(deps, order, location_id, holds)
    async with deps.storage.unit_of_work() as uow:
        written = await uow.records.record_placed(order.order_id, row.fulfillments, row.event)
        await uow.commit()
    return None if written is None else _as_placed(order, row, written)


async def _start_and_mark_placed(
    attempt: _Attempt, placed: PlacedInput, store_id: str
) -> tuple[bool, OrderRecord | None]:
    """Starts the journey and records `placed` side by side: the row's
    statements run while Temporal starts the journey, in a transaction
    committed only once it has started, so a crash (or a start that finds a
    journey there) before the commit leaves the row pending, exactly as when
    the row was written after the start. (Whether this attempt started it;
    the order as written, None when it did not start or the row had moved.)"""
    deps, order = attempt.deps, attempt.order
    row = _placed_row(deps, order, placed.location_id, placed.holds)
    async with deps.storage.unit_of_work() as uow:
        writing = asyncio.ensure_future(
            uow.records.record_placed(order.order_id, row.fulfillments, row.event)
        )
        try:
            started = await attempt.placing.placements.start_placed(
                order, attempt.tenders, placed, store_id
            )
        except BaseException:
            # The statement ends before the transaction rolls back (never
            # left running on the session); the start's error is the answer.
            await asyncio.gather(writing, return_exceptions=True)
            raise
        written = await writing
        if not started:
            return False, None
        attempt.step("started")
        await uow.commit()
    return True, None if written is None else _as_placed(order, row, written)


async def place_now(
    deps: Dependencies,
    placing_: Placing,
    order: OrderRecord,
    tenders: list[RequestedTender],
    store_id: str,
    *,
    fresh: bool,
    held_at: str = "",
) -> Placed | None:
    """Places a pending order (see the module); returns once it is `placed`
    (the order as it wrote it; None when another attempt recorded it),
    raises its refusal (kept on the row) or Unavailable (row left pending).
    `held_at`: an exchange's replacement, held there already."""
    # Inventory's and payments' spans of this placement carry its order id,
    # as they do when the journey's activities call them.
    with carrying_order_id(order.order_id):
        return await _place(deps, placing_, order, tenders, store_id, fresh=fresh, held_at=held_at)


async def hold_replacement(deps: Dependencies, placing_: Placing, order: OrderRecord) -> Hold:
    """An exchange's replacement (issue 11) held when its return is made: the
    same soft hold as a placement (placement_hold_id, hold_ttl_seconds), at
    one location (the pickup store, or the best that ships it all), so a
    crash before the return exists gives it back by itself. The return's
    journey confirms it; `place_now(held_at=...)` later adopts it."""
    with carrying_order_id(order.order_id):
        attempt = _Attempt(
            deps, replace(placing_, max_splits=1), order, [], give_up_at=float("inf")
        )
        return await attempt.take_hold()


async def _place(
    deps: Dependencies,
    placing_: Placing,
    order: OrderRecord,
    tenders: list[RequestedTender],
    store_id: str,
    *,
    fresh: bool,
    held_at: str = "",
) -> Placed | None:
    attempt = _Attempt(
        deps,
        placing_,
        order,
        tenders,
        give_up_at=time.monotonic() + placing_.recover_after.total_seconds() / 2,
        held_at=held_at,
    )
    if not fresh:
        # A retry of the key: take the lease again, unless recovery has it.
        async with deps.storage.unit_of_work() as uow:
            renewed = await uow.records.renew_placement(order.order_id)
            await uow.commit()
        if not renewed:
            raise interrupted()
    attempt.step("row")
    try:
        attempt.hold = await attempt.take_hold()
    except BusinessRuleViolation as refusal:
        # Nothing was held: a cheap 422, no journey.
        await _reject(deps, order.order_id, refusal)
        raise
    if attempt.hold.status != ReservationStatus.ACTIVE or any(
        held.status != ReservationStatus.ACTIVE for held, _ in attempt.split
    ):
        # A retry long after: the hold ran out or was given back. The journey
        # gives back whatever else was taken for the order (all its payments).
        await placing_.placements.start_abandoned(order)
        raise interrupted()
    attempt.step("hold")
    try:
        await attempt.authorize()
    except BusinessRuleViolation as refusal:
        await attempt.give_back()
        await _reject(deps, order.order_id, refusal)
        raise
    attempt.step("start")
    location_id = attempt.hold.location_id
    placed = PlacedInput(
        location_id, attempt.hold.reservation_id, list(attempt.authorized), attempt.placed_holds()
    )
    started, written = await _start_and_mark_placed(attempt, placed, store_id or location_id)
    if started:
        # The answer's payments: what this attempt's authorizations answered.
        return None if written is None else Placed(written, attempt.answered)
    # A journey is there already: an earlier attempt's, or recovery's.
    found = await placing_.placements.started_with(order.order_id)
    if found is None or found.placed is None:
        # Recovery is giving the placement back: so is this attempt.
        await attempt.give_back()
        raise interrupted()
    attempt.step("started")
    written = await mark_placed(deps, order, found.placed.location_id, found.placed.holds)
    # What it holds was authorized by an earlier attempt: the caller lists it.
    return None if written is None else Placed(written)


async def recover_placements(deps: Dependencies, placing_: Placing) -> int:
    """Takes over the placements that stopped moving (see the module); how many."""
    async with deps.storage.unit_of_work() as uow:
        order_ids = await uow.records.claim_stale_placements(placing_.recover_after, RECOVERY_BATCH)
        await uow.commit()
    for order_id in order_ids:
        try:
            async with deps.storage.unit_of_work() as uow:
                order = await uow.records.load_order(order_id)
            if order is None or order.status != OrderStatus.PENDING:
                continue
            if order.fulfillment_type == FulfillmentType.CARRY_OUT:
                # A till sale has no journey: till.py finishes or gives it back.
                from services.orders.till import recover_sale  # till builds on this module

                if deps.till is not None:
                    await recover_sale(deps, deps.till, order)
                continue
            if await placing_.placements.start_abandoned(order):
                logger.warning("placement of %s stopped half way: given back", order_id)
                continue
            started = await placing_.placements.started_with(order_id)
            if started is not None and started.placed is not None:
                # It had started: the process stopped before recording it.
                await mark_placed(deps, order, started.placed.location_id, started.placed.holds)
                logger.warning("placement of %s had started: recorded placed", order_id)
        except DomainError as error:
            # Its lease was taken again: the next round tries it again.
            logger.warning("recovering placement of %s failed: %s", order_id, error.message)
    return len(order_ids)


def refused(order: OrderRecord) -> BusinessRuleViolation:
    return placing.placement_refused(
        order.rejection_reason, order.rejection_message, order.rejection_details
    )
