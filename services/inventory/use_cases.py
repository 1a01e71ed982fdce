"""Inventory's use cases: one short function per RPC.

Each validates its input, then loads, decides (services.inventory.domain) and
saves in one unit of work — or under run_once, for the keyed AdjustStock. They
reach the database only through `Inventory` (the store functions, the
one-statement hot path, the key table), so unit tests hand them fakes.

Longer than 400 lines for a reason: fifteen RPCs, and the protocols of what
they run against sit here, beside their only user.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Generic, Protocol

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from omni.words import Channel, ReservationStatus, StockMovementReason
from services.common.errors import AlreadyExists, InvalidArgument, NotFound
from services.common.idempotency import ResponseT
from services.common.money import Money
from services.common.paging import Page, cut_page, decode_cursor, page_size
from services.common.validation import Violations
from services.inventory import domain
from services.inventory.domain import (
    Adjustment,
    AvailabilityChange,
    AvailabilityQuery,
    AvailabilitySnapshot,
    GeoPoint,
    HeldReservation,
    InvariantViolation,
    Line,
    Location,
    LocationChanges,
    LocationWithDistance,
    Product,
    ProductChanges,
    Reservation,
    ReservationRequest,
    ReserveOutcome,
    SafetyStock,
    Settlement,
    SkuAvailability,
    SourcingOption,
    SourcingRequest,
    StockAtLocation,
    StockAudit,
    StockKey,
    StockLevel,
)
from services.inventory.domain.locations import MAX_TEXT

logger = logging.getLogger(__name__)


# --- what the use cases run against ------------------------------------------------


class Store(Protocol):
    """The store functions (the services.inventory.store package, or a fake)."""

    async def insert_location(
        self, session: AsyncSession, location: Location
    ) -> Location | None: ...
    async def lock_location(self, session: AsyncSession, location_id: str) -> Location | None: ...
    async def save_location(self, session: AsyncSession, location: Location) -> None: ...
    async def known_location_ids(
        self, session: AsyncSession, location_ids: Sequence[str]
    ) -> set[str]: ...
    async def list_locations(
        self, session: AsyncSession, *, pickup_enabled_only: bool
    ) -> list[Location]: ...
    async def insert_product(self, session: AsyncSession, product: Product) -> Product | None: ...
    async def known_skus(self, session: AsyncSession, skus: Sequence[str]) -> set[str]: ...
    async def lock_product(self, session: AsyncSession, sku: str) -> Product | None: ...
    async def save_product(self, session: AsyncSession, product: Product) -> None: ...
    async def set_channel_price(
        self, session: AsyncSession, sku: str, channel: Channel, price: Money
    ) -> None: ...
    async def delete_channel_price(
        self, session: AsyncSession, sku: str, channel: Channel
    ) -> None: ...
    async def list_products(
        self, session: AsyncSession, query: str, after_sku: str | None, limit: int
    ) -> list[Product]: ...
    async def get_stock(self, session: AsyncSession, location_id: str, sku: str) -> StockLevel: ...
    async def apply_adjustment(self, session: AsyncSession, adjustment: Adjustment) -> bool: ...
    async def set_safety_stock(self, session: AsyncSession, safety: SafetyStock) -> None: ...
    async def stock_with_locations(
        self,
        session: AsyncSession,
        skus: Sequence[str],
        channel: Channel | None,
        location_ids: Sequence[str] = ...,
    ) -> list[StockAtLocation]: ...
    async def audit_stock(self, session: AsyncSession, skus: Sequence[str]) -> list[StockAudit]: ...
    async def load_reservation(
        self, session: AsyncSession, reservation_id: str, *, lock: bool
    ) -> HeldReservation | None: ...
    async def release_lines(
        self, session: AsyncSession, held: HeldReservation, releasing: dict[str, int]
    ) -> bool: ...
    async def has_expired_holds(self, session: AsyncSession) -> bool: ...
    async def expire_due_holds(self, session: AsyncSession) -> int: ...
    async def fulfillments_assigned_today(
        self, session: AsyncSession, location_ids: Sequence[str]
    ) -> dict[str, int]: ...


class Locked(Protocol):
    """A reservation under its row lock (store/settling.py LockedReservation)."""

    @property
    def held(self) -> HeldReservation: ...
    async def settle(self, settlement: Settlement) -> None: ...
    async def confirm_hold(self) -> int:
        """0, or the location's daily capacity when it is used up (end the
        block with an error: nothing is kept)."""
        ...


class HotPath(Protocol):
    """ReserveStock, GetAvailability and the pricing reads (GetProducts,
    GetLocation) in one autocommitted statement each; a reservation settled
    or confirmed in one short transaction (`locked`)."""

    async def reserve(self, request: ReservationRequest) -> ReserveOutcome: ...
    async def shortfall(
        self, location_id: str, skus: Sequence[str], channel: Channel | None
    ) -> tuple[dict[str, int], bool]: ...
    async def read_availability(
        self, skus: Sequence[str], channel: Channel | None
    ) -> AvailabilitySnapshot: ...
    async def read_products(self, skus: Sequence[str]) -> dict[str, Product]: ...
    async def read_location(self, location_id: str) -> Location | None: ...
    def locked(self, reservation_id: str) -> AbstractAsyncContextManager[Locked | None]:
        """Commits when the block ends, rolls back on an error; None: no such id."""
        ...


class Work(Protocol):
    """A unit of work (services.common.db.UnitOfWork): rolled back unless committed."""

    session: AsyncSession

    async def commit(self) -> None: ...


class Units(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[Work]: ...


class RunOnce(Protocol):
    """services.common.idempotency.run_once on inventory's key table."""

    async def __call__(
        self,
        key: str,
        request: Message,
        response_type: type[ResponseT],
        work: Callable[[AsyncSession], Awaitable[ResponseT]],
    ) -> ResponseT: ...


class Subscription(Protocol):
    async def next_changes(self) -> tuple[set[StockKey], bool] | None: ...


class Changes(Protocol):
    """Stock change notifications (adapters.stock_changes.StockChanges)."""

    def subscribe(
        self, skus: Sequence[str], location_ids: Sequence[str]
    ) -> AbstractAsyncContextManager[Subscription]: ...


@dataclass(frozen=True)
class Inventory:
    units: Units
    store: Store
    hot_path: HotPath
    run_once: RunOnce
    changes: Changes | None = None


@dataclass(frozen=True)
class KeyedReply(Generic[ResponseT]):
    """How a keyed write answers: the request run_once fingerprints, and the
    response it stores under the key and sends again to every repeat."""

    request: Message
    response_type: type[ResponseT]
    build: Callable[[StockLevel], ResponseT]


@dataclass(frozen=True)
class ReservationReply(Generic[ResponseT]):
    """KeyedReply for a keyed change of a reservation."""

    request: Message
    response_type: type[ResponseT]
    build: Callable[[Reservation], ResponseT]


# --- shared steps ---------------------------------------------------------------------


async def release_expired_holds(inventory: Inventory) -> None:
    """Expired soft holds stop counting: run before anything changes stock."""
    async with inventory.units.unit_of_work() as uow:
        if await inventory.store.has_expired_holds(uow.session):
            await inventory.store.expire_due_holds(uow.session)
            await uow.commit()


async def sweep_expired_holds_forever(inventory: Inventory, interval_seconds: float) -> None:
    """Expires soft holds on time even when nobody calls; every replica may run
    it, since the sweep skips holds another one has locked."""
    while True:
        try:
            await release_expired_holds(inventory)
        except Exception:
            logger.exception("expired-hold sweep failed; trying again")
        await asyncio.sleep(interval_seconds)


@asynccontextmanager
async def _fresh_read(inventory: Inventory) -> AsyncIterator[AsyncSession]:
    """A read in which expired soft holds no longer count: one index lookup,
    and only when a hold is due the sweep commits on its own first, which the
    read then sees (READ COMMITTED)."""
    async with inventory.units.unit_of_work() as uow:
        if await inventory.store.has_expired_holds(uow.session):
            await release_expired_holds(inventory)
        yield uow.session


async def _require(
    inventory: Inventory,
    session: AsyncSession,
    location_ids: Sequence[str] = (),
    skus: Sequence[str] = (),
) -> None:
    """NotFound (with the ids) for an unknown location, then for unknown skus."""
    if location_ids:
        found = await inventory.store.known_location_ids(session, location_ids)
        domain.require_all_found(location_ids, found, "location")
    if skus:
        domain.require_all_found(skus, await inventory.store.known_skus(session, skus), "sku")


def _check_ids(**ids: str) -> None:
    violations = Violations()
    for field_name, value in ids.items():
        violations.check_id(field_name, value)
    violations.raise_if_any()


# --- locations and products --------------------------------------------------------


async def create_location(
    inventory: Inventory, location: Location, *, point_given: bool
) -> Location:
    violations = Violations()
    domain.check_location(location, violations, point_given=point_given)
    violations.raise_if_any()
    async with inventory.units.unit_of_work() as uow:
        created = await inventory.store.insert_location(
            uow.session, domain.with_default_durations(location)
        )
        if created is None:
            raise AlreadyExists(f"location {location.location_id} already exists")
        await uow.commit()
    return created


async def get_location(inventory: Inventory, location_id: str) -> Location:
    _check_ids(location_id=location_id)
    found = await inventory.hot_path.read_location(location_id)
    if found is None:
        raise NotFound(
            f"unknown location: {location_id}", resource_type="location", ids=[location_id]
        )
    return found


async def update_location(
    inventory: Inventory, location_id: str, changes: LocationChanges
) -> Location:
    """Changes what a PATCH names, under the location's row lock, checked whole
    as a new location is: any wrong field and nothing changes."""
    _check_ids(location_id=location_id)
    async with inventory.units.unit_of_work() as uow:
        location = await inventory.store.lock_location(uow.session, location_id)
        if location is None:
            raise NotFound(
                f"unknown location: {location_id}", resource_type="location", ids=[location_id]
            )
        changed = domain.changed_location(location, changes)
        violations = Violations()
        domain.check_location(changed, violations)
        violations.raise_if_any()
        if changed != location:
            await inventory.store.save_location(uow.session, changed)
            await uow.commit()
    return changed


async def list_locations(
    inventory: Inventory,
    *,
    near: GeoPoint | None,
    radius_km: float,
    pickup_enabled_only: bool,
    limit: int,
    page_token: str,
) -> Page[LocationWithDistance]:
    """Nearest first (by id when no point), a page at a time."""
    violations = Violations()
    if near is not None:
        domain.check_point(violations, "near", near)
    domain.check_radius(violations, "radius_km", radius_km)
    violations.raise_if_any()
    size = page_size(limit, field="limit")
    after = decode_cursor(page_token, arity=2, field="page_token")
    async with inventory.units.unit_of_work() as uow:
        found = await inventory.store.list_locations(
            uow.session, pickup_enabled_only=pickup_enabled_only
        )
    ranked = domain.after_key(domain.locations_near(found, near, radius_km), after)
    if ranked is None:
        raise InvalidArgument.field("page_token", "is not a cursor this service issued")
    return cut_page(ranked[: size + 1], size, domain.page_key)


async def create_product(inventory: Inventory, product: Product) -> Product:
    violations = Violations()
    domain.check_product(product, violations)
    violations.raise_if_any()
    async with inventory.units.unit_of_work() as uow:
        created = await inventory.store.insert_product(uow.session, product)
        if created is None:
            raise AlreadyExists(f"product {product.sku} already exists")
        await uow.commit()
    return created


async def get_products(
    inventory: Inventory, skus: Sequence[str], channel: Channel | None = None
) -> list[Product]:
    """In the order asked, each priced for `channel`; NotFound names every unknown sku."""
    products, _ = await get_products_at(inventory, skus, channel, "")
    return products


async def get_products_at(
    inventory: Inventory, skus: Sequence[str], channel: Channel | None, location_id: str
) -> tuple[list[Product], Location | None]:
    """`get_products`, and the location when `location_id` is given (read
    beside them): pricing's one call for a sale taxed where the store is.
    Unknown skus are named first, then an unknown location."""
    violations = Violations()
    domain.check_skus(violations, skus, required=False)
    if location_id:
        violations.check_id("location_id", location_id)
    violations.raise_if_any()
    if location_id:
        found, location = await asyncio.gather(
            _read_products(inventory, skus), inventory.hot_path.read_location(location_id)
        )
    else:
        found, location = await _read_products(inventory, skus), None
    domain.require_all_found(skus, found, "sku")
    if location_id and location is None:
        raise NotFound(
            f"unknown location: {location_id}", resource_type="location", ids=[location_id]
        )
    return [found[sku].as_seen_in(channel) for sku in skus], location


async def _read_products(inventory: Inventory, skus: Sequence[str]) -> dict[str, Product]:
    """No statement for no skus."""
    return await inventory.hot_path.read_products(skus) if skus else {}


def _unknown_product(sku: str) -> NotFound:
    return NotFound(f"unknown sku: {sku}", resource_type="product", ids=[sku])


async def list_products(
    inventory: Inventory, query: str, channel: Channel | None, limit: int, page_token: str
) -> Page[Product]:
    """By sku: those starting with `query` or whose name contains it."""
    violations = Violations()
    violations.check_text("query", query, required=False, max_length=MAX_TEXT)
    violations.raise_if_any()
    size = page_size(limit, field="limit")
    after = decode_cursor(page_token, arity=1, field="page_token")
    after_sku = str(after[0]) if after is not None else None
    async with inventory.units.unit_of_work() as uow:
        found = await inventory.store.list_products(uow.session, query.strip(), after_sku, size + 1)
    page = cut_page(found, size, lambda product: [product.sku])
    return Page([product.as_seen_in(channel) for product in page.items], page.next_cursor)


async def update_product(inventory: Inventory, sku: str, changes: ProductChanges) -> Product:
    """Changes what a PATCH names, under the product's row lock. Orders keep
    the prices they were placed with: nothing here reaches them."""
    _check_ids(sku=sku)
    async with inventory.units.unit_of_work() as uow:
        product = await inventory.store.lock_product(uow.session, sku)
        if product is None:
            raise _unknown_product(sku)
        changed = domain.changed_product(product, changes)
        violations = Violations()
        domain.check_product(changed, violations, prefix="product")
        domain.check_currency_kept(product, changed, violations)
        violations.raise_if_any()
        await inventory.store.save_product(uow.session, changed)
        await uow.commit()
    return changed


async def set_channel_price(
    inventory: Inventory, sku: str, channel: Channel | None, price: Money | None
) -> Product:
    _check_ids(sku=sku)
    async with inventory.units.unit_of_work() as uow:
        product = await inventory.store.lock_product(uow.session, sku)
        if product is None:
            raise _unknown_product(sku)
        violations = Violations()
        if price is None:
            violations.add("price", "is required")
        else:
            domain.check_channel_price(product, channel, price, violations)
        violations.raise_if_any()
        assert channel is not None and price is not None
        await inventory.store.set_channel_price(uow.session, sku, channel, price)
        await uow.commit()
    return Product(
        product.sku, product.name, product.price, product.returnable_days, product.active,
        {**product.channel_prices, channel: price},
    )  # fmt: skip


async def delete_channel_price(inventory: Inventory, sku: str, channel: Channel | None) -> Product:
    _check_ids(sku=sku)
    if channel is None:
        raise InvalidArgument.field("channel", "must be one of " + ", ".join(Channel))
    async with inventory.units.unit_of_work() as uow:
        product = await inventory.store.lock_product(uow.session, sku)
        if product is None:
            raise _unknown_product(sku)
        await inventory.store.delete_channel_price(uow.session, sku, channel)
        await uow.commit()
    prices = {c: p for c, p in product.channel_prices.items() if c != channel}
    return Product(
        product.sku, product.name, product.price, product.returnable_days, product.active, prices
    )


# --- stock -----------------------------------------------------------------------------


async def adjust_stock(
    inventory: Inventory, adjustment: Adjustment, reply: KeyedReply[ResponseT]
) -> ResponseT:
    """On hand changes by the delta, with its ledger entry, once per key."""
    domain.check_adjustment(adjustment)
    await release_expired_holds(inventory)
    store = inventory.store

    async def adjust(session: AsyncSession) -> ResponseT:
        await _require(inventory, session, [adjustment.location_id], [adjustment.sku])
        if not await store.apply_adjustment(session, adjustment):
            level = await store.get_stock(session, adjustment.location_id, adjustment.sku)
            raise domain.adjustment_refused(level, adjustment.delta)
        return reply.build(await store.get_stock(session, adjustment.location_id, adjustment.sku))

    return await inventory.run_once(
        adjustment.idempotency_key, reply.request, reply.response_type, adjust
    )


async def set_safety_stock(inventory: Inventory, safety: SafetyStock) -> StockLevel:
    domain.check_safety_stock(safety)
    async with inventory.units.unit_of_work() as uow:
        await _require(inventory, uow.session, [safety.location_id], [safety.sku])
        await inventory.store.set_safety_stock(uow.session, safety)
        level = await inventory.store.get_stock(uow.session, safety.location_id, safety.sku)
        await uow.commit()
    return level


async def get_stock(inventory: Inventory, location_id: str, sku: str) -> StockLevel:
    _check_ids(location_id=location_id, sku=sku)
    async with _fresh_read(inventory) as session:
        await _require(inventory, session, [location_id], [sku])
        return await inventory.store.get_stock(session, location_id, sku)


async def get_availability(inventory: Inventory, query: AvailabilityQuery) -> list[SkuAvailability]:
    skus = domain.unique_in_order(query.skus)
    violations = Violations()
    domain.check_skus(violations, skus, required=True)
    if query.near is not None:
        domain.check_point(violations, "near", query.near)
    domain.check_radius(violations, "radius_km", query.radius_km)
    violations.raise_if_any()
    snapshot = await inventory.hot_path.read_availability(skus, query.channel)
    if snapshot.holds_due:
        await release_expired_holds(inventory)
        snapshot = await inventory.hot_path.read_availability(skus, query.channel)
    domain.require_all_found(skus, snapshot.known_skus, "sku")
    return domain.summarize_availability(skus, snapshot.stock, query.near, query.radius_km)


# --- reservations -------------------------------------------------------------------


async def reserve_stock(inventory: Inventory, request: ReservationRequest) -> Reservation:
    """All lines held at the location, or none; a retry with the same id and
    parameters gets the same reservation."""
    domain.check_reservation_request(request)
    # One round trip; holds past their TTL are given back by the sweeps.
    outcome = await inventory.hot_path.reserve(request)
    if outcome.short_skus:
        outcome = await _refuse_or_retry(inventory, request, outcome)
    if outcome.created:
        return domain.new_reservation(request, outcome.expires_at)
    if outcome.full_at_capacity:
        raise domain.store_at_capacity(request.location_id, outcome.full_at_capacity)
    skus = [line.sku for line in domain.merge_lines(request.lines)]
    async with _fresh_read(inventory) as session:
        if outcome.unknown_reference:
            await _require(inventory, session, [request.location_id], skus)
        held = await inventory.store.load_reservation(session, request.reservation_id, lock=False)
    return domain.existing_reservation(request, held)


async def _refuse_or_retry(
    inventory: Inventory, request: ReservationRequest, short: ReserveOutcome
) -> ReserveOutcome:
    """A short reservation is refused only when the stock is really gone: when
    a soft hold is past its TTL (not yet swept) the sweep runs and the
    reservation is tried once more, since the unit it held is free. The
    refusal names what is left, read in one statement (a sold-out SKU in a
    flash sale answers most buyers this way: bench hot-sku)."""
    hot_path = inventory.hot_path
    available, holds_due = await hot_path.shortfall(
        request.location_id, short.short_skus, request.channel
    )
    if holds_due:
        await release_expired_holds(inventory)
        again = await hot_path.reserve(request)
        if not again.short_skus:
            return again
        short = again
        available, _ = await hot_path.shortfall(
            request.location_id, short.short_skus, request.channel
        )
    raise domain.insufficient_stock(request, short.short_skus, available)


async def release_reservation(inventory: Inventory, reservation_id: str) -> Reservation | None:
    """None for an unknown id; a final reservation comes back as it is."""
    domain.check_reservation_id(reservation_id)
    return await _settle(inventory, reservation_id, domain.settle_release)


async def commit_reservation(
    inventory: Inventory,
    reservation_id: str,
    lines: Sequence[Line],
    reason: StockMovementReason | None = StockMovementReason.COMMIT,
) -> Reservation | None:
    """Sells the lines (all when none) and releases the rest, in the ledger as
    `reason` (commit, or a till's pos_sale); None for an unknown id; a final or
    run-out hold comes back as it is (expired now)."""
    domain.check_commit_lines(reservation_id, lines, reason)
    sold_as = reason or StockMovementReason.COMMIT
    return await _settle(
        inventory, reservation_id, lambda held: domain.settle_commit(held, lines, sold_as)
    )


async def release_reservation_lines(
    inventory: Inventory,
    reservation_id: str,
    idempotency_key: str,
    lines: Sequence[Line],
    reply: ReservationReply[ResponseT],
) -> ResponseT:
    """Gives back part of an active reservation, all lines or none, once per
    key (a repeat answers the first outcome); NotFound for an unknown id."""
    domain.check_release_lines(reservation_id, idempotency_key, lines)
    store = inventory.store

    async def release(session: AsyncSession) -> ResponseT:
        held = await store.load_reservation(session, reservation_id, lock=True)
        if held is None:
            raise NotFound(
                f"unknown reservation: {reservation_id}",
                resource_type="reservation",
                ids=[reservation_id],
            )
        releasing = domain.plan_release_lines(held, lines)
        if not await store.release_lines(session, held, releasing):
            # The row lock makes this unreachable; refuse rather than over-release.
            raise domain.release_exceeds_hold(held, lines[0], 0)
        after = await store.load_reservation(session, reservation_id, lock=False)
        assert after is not None
        return reply.build(domain.shown(after))

    return await inventory.run_once(idempotency_key, reply.request, reply.response_type, release)


async def confirm_reservation(inventory: Inventory, reservation_id: str) -> Reservation | None:
    """A soft hold becomes a reservation held until released or committed; None
    for an unknown id; a hold whose time ran out expires now (its stock goes
    back); a final or already confirmed one comes back as it is."""
    domain.check_reservation_id(reservation_id)
    async with inventory.hot_path.locked(reservation_id) as locked:
        if locked is None:
            return None
        held = locked.held
        if held.status is not ReservationStatus.ACTIVE or held.expires_at is None:
            return domain.shown(held)
        if held.expired:
            settlement = domain.settle_release(held)
            assert settlement is not None
            await locked.settle(settlement)
            return domain.settled(held, settlement)
        full_at = await locked.confirm_hold()
        if full_at:
            raise domain.store_at_capacity(held.location_id, full_at)
    return dataclasses.replace(domain.shown(held), expires_at=None)


async def _settle(
    inventory: Inventory,
    reservation_id: str,
    decide: Callable[[HeldReservation], Settlement | None],
) -> Reservation | None:
    async with inventory.hot_path.locked(reservation_id) as locked:
        if locked is None:
            return None
        settlement = decide(locked.held)
        if settlement is None:
            return domain.shown(locked.held)
        await locked.settle(settlement)
    return domain.settled(locked.held, settlement)


# --- sourcing, invariants, live availability ---------------------------------------------


async def find_sources(
    inventory: Inventory, request: SourcingRequest, *, destination_given: bool
) -> list[SourcingOption]:
    domain.check_sourcing_request(request, destination_given=destination_given)
    skus = [line.sku for line in domain.merge_lines(request.lines)]
    async with _fresh_read(inventory) as session:
        await _require(inventory, session, skus=skus)
        stock = await inventory.store.stock_with_locations(session, skus, request.channel)
        assigned = await inventory.store.fulfillments_assigned_today(
            session, sorted({row.location.location_id for row in stock})
        )
    return domain.find_sources(request, domain.candidates_from(stock, assigned))


async def check_invariants(
    inventory: Inventory, skus: Sequence[str]
) -> tuple[list[InvariantViolation], int]:
    """What is wrong, and how many stock rows were checked."""
    skus = domain.unique_in_order(skus)
    violations = Violations()
    domain.check_skus(violations, skus, required=False)
    violations.raise_if_any()
    async with inventory.units.unit_of_work() as uow:
        audits = await inventory.store.audit_stock(uow.session, skus)
    return domain.invariant_violations(audits), len(audits)


async def watch_availability(
    inventory: Inventory,
    skus: Sequence[str],
    location_ids: Sequence[str],
    channel: Channel | None,
) -> AsyncIterator[AvailabilityChange]:
    """The current values, then each change, until the caller stops or the
    service does."""
    skus = domain.unique_in_order(skus)
    location_ids = domain.unique_in_order(location_ids)
    violations = Violations()
    domain.check_skus(violations, skus, required=True)
    domain.check_location_ids(violations, location_ids)
    violations.raise_if_any()
    if inventory.changes is None:
        raise RuntimeError("this server was started without stock change notifications")
    async with inventory.changes.subscribe(skus, location_ids) as subscription:
        # Subscribed first, then read: a change in between is sent, never lost.
        async with inventory.units.unit_of_work() as uow:
            await _require(inventory, uow.session, location_ids, skus)
        current = domain.watched_values(
            await _available(inventory, skus, location_ids, channel), skus, location_ids
        )
        last_sent: dict[StockKey, int] = {}
        for key, available_now in sorted(current.items()):
            last_sent[key] = available_now
            yield AvailabilityChange(key[0], key[1], available_now, current=True)
        while (changes := await subscription.next_changes()) is not None:
            changed, resync = changes
            keys = set(current) | changed if resync else changed
            fresh = await _available(
                inventory,
                sorted({sku for _, sku in keys}),
                sorted({location_id for location_id, _ in keys}),
                channel,
            )
            for key in sorted(keys):
                available_now = fresh.get(key, 0)
                if last_sent.get(key) != available_now:
                    last_sent[key] = available_now
                    yield AvailabilityChange(key[0], key[1], available_now, current=False)


async def _available(
    inventory: Inventory, skus: Sequence[str], location_ids: Sequence[str], channel: Channel | None
) -> dict[StockKey, int]:
    """Available for the channel per (location, sku) that has a stock row."""
    async with inventory.units.unit_of_work() as uow:
        rows = await inventory.store.stock_with_locations(uow.session, skus, channel, location_ids)
    return {(row.location.location_id, row.sku): row.available for row in rows}
