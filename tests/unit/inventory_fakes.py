"""In-memory fakes of what inventory's use cases run against (use_cases.Store,
HotPath, Units, RunOnce, Changes), for tests/unit/test_inventory_use_cases.py.

The fake keeps the store's whole state in a few dicts; a unit of work that is
not committed puts the state back, as a rolled-back transaction would.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from omni.words import Channel, ReservationStatus
from services.common.errors import BusinessRuleViolation, Conflict
from services.common.idempotency import key_reused, request_fingerprint, validate_key
from services.common.money import Money
from services.inventory import domain
from services.inventory.domain import (
    Adjustment,
    AvailabilitySnapshot,
    HeldReservation,
    Location,
    Product,
    ReservationRequest,
    ReservedLine,
    ReserveOutcome,
    SafetyStock,
    Settlement,
    StockAtLocation,
    StockAudit,
    StockKey,
    StockLevel,
    StockMovement,
)
from services.inventory.use_cases import Inventory


@dataclass
class State:
    locations: dict[str, Location] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    stock: dict[StockKey, tuple[int, int]] = field(default_factory=dict)  # on hand, reserved
    safety: dict[tuple[str, str, Channel], int] = field(default_factory=dict)
    ledger: list[StockMovement] = field(default_factory=list)
    reservations: dict[str, HeldReservation] = field(default_factory=dict)
    ttls: dict[str, int] = field(default_factory=dict)
    run_out: set[str] = field(default_factory=set)  # soft holds past their TTL


class FakeStore:
    """The store functions over `State`; `session` is ignored."""

    def __init__(self) -> None:
        self.state = State()

    def available(self, key: StockKey, channel: Channel | None) -> int:
        on_hand, reserved = self.state.stock[key]
        safety = self.state.safety.get((*key, channel), 0) if channel else 0
        return domain.available(on_hand, reserved, safety)

    def change(self, key: StockKey, *, on_hand: int = 0, reserved: int = 0) -> None:
        now_on_hand, now_reserved = self.state.stock[key]
        self.state.stock[key] = (now_on_hand + on_hand, now_reserved + reserved)

    def _held(self, reservation_id: str) -> HeldReservation:
        held = self.state.reservations[reservation_id]
        return replace(held, expired=reservation_id in self.state.run_out)

    async def insert_location(self, session: Any, location: Location) -> Location | None:
        if location.location_id in self.state.locations:
            return None
        self.state.locations[location.location_id] = location
        return location

    async def get_location(self, session: Any, location_id: str) -> Location | None:
        return self.state.locations.get(location_id)

    async def lock_location(self, session: Any, location_id: str) -> Location | None:
        return self.state.locations.get(location_id)

    async def save_location(self, session: Any, location: Location) -> None:
        self.state.locations[location.location_id] = location

    async def known_location_ids(self, session: Any, location_ids: Sequence[str]) -> set[str]:
        return set(location_ids) & set(self.state.locations)

    async def list_locations(self, session: Any, *, pickup_enabled_only: bool) -> list[Location]:
        found = self.state.locations.values()
        return [loc for loc in found if loc.pickup_enabled or not pickup_enabled_only]

    async def insert_product(self, session: Any, product: Product) -> Product | None:
        if product.sku in self.state.products:
            return None
        self.state.products[product.sku] = product
        return product

    async def get_products(self, session: Any, skus: Sequence[str]) -> dict[str, Product]:
        return {sku: self.state.products[sku] for sku in skus if sku in self.state.products}

    async def known_skus(self, session: Any, skus: Sequence[str]) -> set[str]:
        return set(skus) & set(self.state.products)

    async def lock_product(self, session: Any, sku: str) -> Product | None:
        return self.state.products.get(sku)

    async def save_product(self, session: Any, product: Product) -> None:
        kept = self.state.products[product.sku].channel_prices
        self.state.products[product.sku] = replace(product, channel_prices=kept)

    async def set_channel_price(
        self, session: Any, sku: str, channel: Channel, price: Money
    ) -> None:
        product = self.state.products[sku]
        prices = {**product.channel_prices, channel: price}
        self.state.products[sku] = replace(product, channel_prices=prices)

    async def delete_channel_price(self, session: Any, sku: str, channel: Channel) -> None:
        product = self.state.products[sku]
        prices = {c: p for c, p in product.channel_prices.items() if c != channel}
        self.state.products[sku] = replace(product, channel_prices=prices)

    async def list_products(
        self, session: Any, query: str, after_sku: str | None, limit: int
    ) -> list[Product]:
        found = sorted(
            (
                p
                for p in self.state.products.values()
                if not query or p.sku.startswith(query) or query.lower() in p.name.lower()
            ),
            key=lambda p: p.sku,
        )
        return [p for p in found if after_sku is None or p.sku > after_sku][:limit]

    async def get_stock(self, session: Any, location_id: str, sku: str) -> StockLevel:
        safety = {
            channel: quantity
            for (loc, s, channel), quantity in self.state.safety.items()
            if (loc, s) == (location_id, sku)
        }
        if (location_id, sku) not in self.state.stock:
            return StockLevel(location_id, sku, 0, 0, 0, safety)
        on_hand, reserved = self.state.stock[(location_id, sku)]
        available = self.available((location_id, sku), None)
        return StockLevel(location_id, sku, on_hand, reserved, available, safety)

    async def apply_adjustment(self, session: Any, adjustment: Adjustment) -> bool:
        key = (adjustment.location_id, adjustment.sku)
        on_hand, reserved = self.state.stock.get(key, (0, 0))
        if on_hand + adjustment.delta < reserved:
            return False
        self.state.stock[key] = (on_hand + adjustment.delta, reserved)
        self.state.ledger.append(adjustment.movement())
        return True

    async def set_safety_stock(self, session: Any, safety: SafetyStock) -> None:
        assert safety.channel is not None
        self.state.safety[(safety.location_id, safety.sku, safety.channel)] = safety.quantity

    async def stock_with_locations(
        self,
        session: Any,
        skus: Sequence[str],
        channel: Channel | None,
        location_ids: Sequence[str] = (),
    ) -> list[StockAtLocation]:
        return [
            StockAtLocation(self.state.locations[loc], sku, self.available((loc, sku), channel))
            for loc, sku in sorted(self.state.stock)
            if sku in skus and (not location_ids or loc in location_ids)
        ]

    async def audit_stock(self, session: Any, skus: Sequence[str]) -> list[StockAudit]:
        audits = []
        for (loc, sku), (on_hand, reserved) in sorted(self.state.stock.items()):
            if skus and sku not in skus:
                continue
            ledger = sum(m.delta for m in self.state.ledger if (m.location_id, m.sku) == (loc, sku))
            holds = sum(
                line.quantity
                for held in self.state.reservations.values()
                if held.location_id == loc and held.status is ReservationStatus.ACTIVE
                for line in held.lines
                if line.sku == sku
            )
            audits.append(StockAudit(loc, sku, on_hand, reserved, ledger, holds))
        return audits

    async def load_reservation(
        self, session: Any, reservation_id: str, *, lock: bool
    ) -> HeldReservation | None:
        if reservation_id not in self.state.reservations:
            return None
        return self._held(reservation_id)

    async def release_lines(
        self, session: Any, held: HeldReservation, releasing: dict[str, int]
    ) -> bool:
        holding = {line.sku: line.quantity for line in held.lines}
        if any(quantity > holding.get(sku, 0) for sku, quantity in releasing.items()):
            return False
        for sku, quantity in releasing.items():
            self.change((held.location_id, sku), reserved=-quantity)
        lines = tuple(
            replace(line, quantity=line.quantity - releasing.get(line.sku, 0))
            for line in held.lines
            if line.quantity > releasing.get(line.sku, 0)
        )
        status = held.status if lines else ReservationStatus.RELEASED
        self.state.reservations[held.reservation_id] = replace(held, lines=lines, status=status)
        return True

    def save_settlement(self, held: HeldReservation, settlement: Settlement) -> None:
        for sku, sold in settlement.sold.items():
            unheld = sold + settlement.released[sku]
            self.change((held.location_id, sku), on_hand=-sold, reserved=-unheld)
        self.state.ledger.extend(settlement.movements(held))
        committed = settlement.status is ReservationStatus.COMMITTED
        lines = tuple(
            replace(line, committed_quantity=settlement.sold[line.sku] if committed else 0)
            for line in held.lines
        )
        self.state.reservations[held.reservation_id] = replace(
            held, status=settlement.status, lines=lines, expired=False
        )

    def confirm_hold(self, reservation_id: str) -> int:
        """The soft hold no longer expires (ConfirmReservation)."""
        held = self.state.reservations.get(reservation_id)
        if held is not None and held.status == ReservationStatus.ACTIVE:
            self.state.ttls[reservation_id] = 0
        return 0

    async def has_expired_holds(self, session: Any) -> bool:
        return any(
            self.state.reservations[rid].status is ReservationStatus.ACTIVE
            for rid in self.state.run_out
        )

    async def expire_due_holds(self, session: Any) -> int:
        due = [
            self._held(rid)
            for rid in sorted(self.state.run_out)
            if self.state.reservations[rid].status is ReservationStatus.ACTIVE
        ]
        for held in due:
            settlement = domain.settle_release(held)
            assert settlement is not None and settlement.status is ReservationStatus.EXPIRED
            self.save_settlement(held, settlement)
        return len(due)

    async def fulfillments_assigned_today(
        self, session: Any, location_ids: Sequence[str]
    ) -> dict[str, int]:
        assigned: dict[str, int] = {}
        for rid, held in self.state.reservations.items():
            counts = held.status in (ReservationStatus.ACTIVE, ReservationStatus.COMMITTED)
            if held.location_id in location_ids and self.state.ttls[rid] == 0 and counts:
                assigned[held.location_id] = assigned.get(held.location_id, 0) + 1
        return assigned


@dataclass(frozen=True)
class FakeLocked:
    """A reservation under its lock (store/settling.py), over the fake's state."""

    held: HeldReservation
    store: FakeStore

    async def settle(self, settlement: Settlement) -> None:
        self.store.save_settlement(self.held, settlement)

    async def confirm_hold(self) -> int:
        return self.store.confirm_hold(self.held.reservation_id)


class FakeHotPath:
    """reserve_stock(), the one-statement reads and the locked settlement,
    over the fake's state."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    async def reserve(self, request: ReservationRequest) -> ReserveOutcome:
        state = self.store.state
        if request.reservation_id in state.reservations:
            return ReserveOutcome(created=False)
        lines = domain.merge_lines(request.lines)
        known = request.location_id in state.locations and all(
            line.sku in state.products for line in lines
        )
        if not known:
            return ReserveOutcome(created=False, unknown_reference=True)
        short = tuple(
            line.sku
            for line in lines
            if (request.location_id, line.sku) not in state.stock
            or self.store.available((request.location_id, line.sku), request.channel)
            < line.quantity
        )
        if short:
            return ReserveOutcome(created=False, short_skus=short)
        for line in lines:
            self.store.change((request.location_id, line.sku), reserved=line.quantity)
        expires_at = None
        if request.ttl_seconds:
            expires_at = datetime.now(UTC) + timedelta(seconds=request.ttl_seconds)
        state.reservations[request.reservation_id] = HeldReservation(
            reservation_id=request.reservation_id,
            order_id=request.order_id,
            location_id=request.location_id,
            status=ReservationStatus.ACTIVE,
            fingerprint=request.fingerprint(),
            lines=tuple(ReservedLine(line.sku, line.quantity) for line in lines),
            expires_at=expires_at,
        )
        state.ttls[request.reservation_id] = request.ttl_seconds
        return ReserveOutcome(created=True, expires_at=expires_at)

    async def shortfall(
        self, location_id: str, skus: Sequence[str], channel: Channel | None
    ) -> tuple[dict[str, int], bool]:
        rows = await self.store.stock_with_locations(None, skus, channel, [location_id])
        available = {sku: 0 for sku in skus} | {row.sku: row.available for row in rows}
        return available, await self.store.has_expired_holds(None)

    async def read_products(self, skus: Sequence[str]) -> dict[str, Product]:
        return await self.store.get_products(None, skus)

    async def read_location(self, location_id: str) -> Location | None:
        return await self.store.get_location(None, location_id)

    @asynccontextmanager
    async def locked(self, reservation_id: str) -> AsyncIterator[FakeLocked | None]:
        """Puts the state back when the block ends with an error, as a rollback would."""
        before = copy.deepcopy(self.store.state)
        held = await self.store.load_reservation(None, reservation_id, lock=True)
        try:
            yield None if held is None else FakeLocked(held, self.store)
        except BaseException:
            self.store.state = before
            raise

    async def read_availability(
        self, skus: Sequence[str], channel: Channel | None
    ) -> AvailabilitySnapshot:
        rows = await self.store.stock_with_locations(None, skus, channel)
        due = await self.store.has_expired_holds(None)
        known = frozenset(skus) & set(self.store.state.products)
        return AvailabilitySnapshot(known, rows, due)


@dataclass
class FakeWork:
    session: Any = None
    committed: bool = False

    async def commit(self) -> None:
        self.committed = True


class FakeUnits:
    """Units of work that put the state back unless committed."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[FakeWork]:
        before = copy.deepcopy(self.store.state)
        work = FakeWork()
        try:
            yield work
        finally:
            if not work.committed:
                self.store.state = before


class FakeKeys:
    """run_once's contract: the first response or refusal answers every repeat."""

    def __init__(self, units: FakeUnits) -> None:
        self.units = units
        self.keys: dict[str, tuple[str, bytes | Exception]] = {}

    async def __call__(self, key: str, request: Any, response_type: Any, work: Any) -> Any:
        validate_key(key)
        fingerprint = request_fingerprint(request)
        if key in self.keys:
            first_fingerprint, outcome = self.keys[key]
            if first_fingerprint != fingerprint:
                raise key_reused()
            if isinstance(outcome, Exception):
                raise outcome
            return response_type.FromString(outcome)
        async with self.units.unit_of_work() as uow:
            try:
                response = await work(uow.session)
            except (BusinessRuleViolation, Conflict) as refusal:
                self.keys[key] = (fingerprint, refusal)
                raise
            await uow.commit()
        self.keys[key] = (fingerprint, response.SerializeToString())
        return response


class FakeSubscription:
    def __init__(self) -> None:
        self.pending: list[tuple[set[StockKey], bool]] = []

    async def next_changes(self) -> tuple[set[StockKey], bool] | None:
        return self.pending.pop(0) if self.pending else None  # None: the watch is over


class FakeChanges:
    def __init__(self) -> None:
        self.subscription = FakeSubscription()

    @asynccontextmanager
    async def subscribe(
        self, skus: Sequence[str], location_ids: Sequence[str]
    ) -> AsyncIterator[FakeSubscription]:
        yield self.subscription


def inventory_on(store: FakeStore) -> Inventory:
    units = FakeUnits(store)
    return Inventory(
        units=units,
        store=store,
        hot_path=FakeHotPath(store),
        run_once=FakeKeys(units),
    )
