"""Inventory tables and queries: the only place with SQL.

Stock changes are single conditional statements, so concurrent callers can
never take a row below what the rules allow. Stock rows are always locked in
(location_id, sku) order — reservations touch one location, in sku order —
so concurrent transactions cannot deadlock on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Executable,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.errors import AlreadyExists, BusinessRuleViolation, Conflict, NotFound
from services.common.idempotency import idempotency_table
from services.inventory import domain
from services.inventory.changes import plain_postgres_url
from services.inventory.domain import (
    GeoPoint,
    Line,
    Location,
    Money,
    Product,
    Reservation,
    ReservationRequest,
    ReservedLine,
    SourceCandidate,
    StockAtLocation,
    StockAudit,
    StockLevel,
)

metadata = MetaData()

locations = Table(
    "locations",
    metadata,
    Column("location_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("pickup_enabled", Boolean, nullable=False),
    Column("ship_from_enabled", Boolean, nullable=False),
    Column("daily_order_capacity", Integer, nullable=False),
    Column("pickup_window_hours", Float, nullable=False),
    Column("pick_sla_minutes", Float, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("kind IN ('store', 'warehouse')", name="locations_kind"),
)

products = Table(
    "products",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("price_amount_minor", BigInteger, nullable=False),
    Column("price_currency", String(3), nullable=False),
    Column("returnable_days", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("price_amount_minor > 0", name="products_price_positive"),
    CheckConstraint("returnable_days >= 0", name="products_returnable_days"),
)

stock = Table(
    "stock",
    metadata,
    Column("location_id", String(64), ForeignKey("locations.location_id"), primary_key=True),
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("on_hand", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("reserved >= 0", name="stock_reserved_not_negative"),
    CheckConstraint("on_hand >= reserved", name="stock_on_hand_covers_reserved"),
    Index("stock_sku", "sku"),
)

safety_stock = Table(
    "safety_stock",
    metadata,
    Column("location_id", String(64), ForeignKey("locations.location_id"), primary_key=True),
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("channel", String(200), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    CheckConstraint("quantity >= 0", name="safety_stock_not_negative"),
)

# Append-only: on_hand of a (location, sku) is always the sum of its deltas.
stock_movements = Table(
    "stock_movements",
    metadata,
    Column("movement_id", BigInteger, Identity(), primary_key=True),
    Column("location_id", String(64), nullable=False),
    Column("sku", String(64), nullable=False),
    Column("reason", String(32), nullable=False),
    Column("delta", BigInteger, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reference", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    ForeignKeyConstraint(["location_id", "sku"], ["stock.location_id", "stock.sku"]),
    CheckConstraint(
        "reason IN ('receipt', 'pos_sale', 'cycle_count', 'damage', 'return_restock', 'commit')",
        name="stock_movements_reason",
    ),
    Index("stock_movements_location_sku", "location_id", "sku"),
)

reservations = Table(
    "reservations",
    metadata,
    Column("reservation_id", String(200), primary_key=True),
    Column("order_id", String(200), nullable=False),
    Column("location_id", String(64), ForeignKey("locations.location_id"), nullable=False),
    Column("channel", String(200), nullable=False),
    Column("ttl_seconds", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    # Hash of the parameters, to tell a retry from a reused id.
    Column("fingerprint", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(
        "status IN ('active', 'committed', 'released', 'expired')", name="reservations_status"
    ),
    Index("reservations_order_id", "order_id"),
    # The expiry sweep only ever looks at active soft holds.
    Index(
        "reservations_active_expiry",
        "expires_at",
        postgresql_where=text("status = 'active' AND expires_at IS NOT NULL"),
    ),
    # Fulfilments (holds without a TTL) assigned to a location today, for sourcing.
    Index(
        "reservations_fulfilments_by_day",
        "location_id",
        "created_at",
        postgresql_where=text("ttl_seconds = 0"),
    ),
)

reservation_lines = Table(
    "reservation_lines",
    metadata,
    Column(
        "reservation_id",
        String(200),
        ForeignKey("reservations.reservation_id"),
        primary_key=True,
    ),
    Column("sku", String(64), ForeignKey("products.sku"), primary_key=True),
    Column("quantity", BigInteger, nullable=False),
    Column("committed_quantity", BigInteger, nullable=False, server_default="0"),
    CheckConstraint("quantity > 0", name="reservation_lines_quantity_positive"),
    CheckConstraint(
        "committed_quantity >= 0 AND committed_quantity <= quantity",
        name="reservation_lines_committed_within_quantity",
    ),
)

idempotency_keys = idempotency_table(metadata)

# Expired holds released per sweep; the next call picks up any rest.
SWEEP_BATCH = 500


def _location(row: Any) -> Location:
    return Location(
        location_id=row.location_id,
        name=row.name,
        kind=row.kind,
        point=GeoPoint(row.lat, row.lon),
        pickup_enabled=row.pickup_enabled,
        ship_from_enabled=row.ship_from_enabled,
        daily_order_capacity=row.daily_order_capacity,
        pickup_window_hours=row.pickup_window_hours,
        pick_sla_minutes=row.pick_sla_minutes,
    )


def _product(row: Any) -> Product:
    return Product(
        sku=row.sku,
        name=row.name,
        price=Money(row.price_amount_minor, row.price_currency),
        returnable_days=row.returnable_days,
    )


def _safety_for(location_id: str, sku: str, channel: str) -> Any:
    """Safety stock of one (location, sku, channel), 0 when none is set."""
    return func.coalesce(
        select(safety_stock.c.quantity)
        .where(
            safety_stock.c.location_id == location_id,
            safety_stock.c.sku == sku,
            safety_stock.c.channel == channel,
        )
        .scalar_subquery(),
        0,
    )


class InventoryStore:
    """Queries for one unit of work (the session's transaction)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- locations and products --------------------------------------------

    async def create_location(self, location: Location) -> Location:
        row = (
            await self.session.execute(
                insert(locations)
                .values(
                    location_id=location.location_id,
                    name=location.name,
                    kind=location.kind,
                    lat=location.point.lat,
                    lon=location.point.lon,
                    pickup_enabled=location.pickup_enabled,
                    ship_from_enabled=location.ship_from_enabled,
                    daily_order_capacity=location.daily_order_capacity,
                    pickup_window_hours=location.pickup_window_hours,
                    pick_sla_minutes=location.pick_sla_minutes,
                )
                .on_conflict_do_nothing(index_elements=["location_id"])
                .returning(*locations.c)
            )
        ).first()
        if row is None:
            raise domain_already_exists("location", location.location_id)
        return _location(row)

    async def get_location(self, location_id: str) -> Location:
        row = (
            await self.session.execute(
                select(locations).where(locations.c.location_id == location_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"unknown location: {location_id}")
        return _location(row)

    async def list_locations(self, *, pickup_enabled_only: bool) -> list[Location]:
        query = select(locations)
        if pickup_enabled_only:
            query = query.where(locations.c.pickup_enabled)
        return [_location(row) for row in await self.session.execute(query)]

    async def create_product(self, product: Product) -> Product:
        row = (
            await self.session.execute(
                insert(products)
                .values(
                    sku=product.sku,
                    name=product.name,
                    price_amount_minor=product.price.amount_minor,
                    price_currency=product.price.currency,
                    returnable_days=product.returnable_days,
                )
                .on_conflict_do_nothing(index_elements=["sku"])
                .returning(*products.c)
            )
        ).first()
        if row is None:
            raise domain_already_exists("product", product.sku)
        return _product(row)

    async def get_products(self, skus: Sequence[str]) -> list[Product]:
        """In the order asked; NotFound names every unknown sku."""
        rows = await self.session.execute(select(products).where(products.c.sku.in_(skus)))
        found = {row.sku: _product(row) for row in rows}
        domain.require_all_found(skus, found, "sku")
        return [found[sku] for sku in skus]

    async def require_product_skus(self, skus: Sequence[str]) -> None:
        rows = await self.session.execute(select(products.c.sku).where(products.c.sku.in_(skus)))
        domain.require_all_found(skus, [row.sku for row in rows], "sku")

    # --- stock ----------------------------------------------------------------

    async def get_stock(self, location_id: str, sku: str) -> StockLevel:
        """The record, zeros when the location and product exist but never met."""
        await self.get_location(location_id)
        await self.require_product_skus([sku])
        row = (
            await self.session.execute(
                select(stock.c.on_hand, stock.c.reserved).where(
                    stock.c.location_id == location_id, stock.c.sku == sku
                )
            )
        ).first()
        safety_rows = await self.session.execute(
            select(safety_stock.c.channel, safety_stock.c.quantity).where(
                safety_stock.c.location_id == location_id, safety_stock.c.sku == sku
            )
        )
        safety = {r.channel: r.quantity for r in safety_rows}
        on_hand, reserved = (row.on_hand, row.reserved) if row is not None else (0, 0)
        return StockLevel(location_id, sku, on_hand, reserved, safety)

    async def adjust_stock(
        self,
        *,
        location_id: str,
        sku: str,
        delta: int,
        reason: str,
        actor: str,
        reference: str,
    ) -> StockLevel:
        """Adds `delta` to on hand and records the movement, or changes nothing."""
        await self.get_location(location_id)
        await self.require_product_skus([sku])
        statement: Executable
        if delta > 0:
            # First receipt creates the row; later ones add to it.
            statement = (
                insert(stock)
                .values(location_id=location_id, sku=sku, on_hand=delta, reserved=0)
                .on_conflict_do_update(
                    index_elements=["location_id", "sku"],
                    set_={"on_hand": stock.c.on_hand + delta, "updated_at": func.now()},
                )
                .returning(stock.c.on_hand)
            )
        else:
            statement = (
                update(stock)
                .where(
                    stock.c.location_id == location_id,
                    stock.c.sku == sku,
                    stock.c.on_hand + delta >= stock.c.reserved,
                )
                .values(on_hand=stock.c.on_hand + delta, updated_at=func.now())
                .returning(stock.c.on_hand)
            )
        if (await self.session.execute(statement)).first() is None:
            current = await self.get_stock(location_id, sku)
            below_zero = current.on_hand + delta < 0
            raise BusinessRuleViolation(
                "STOCK_BELOW_ZERO" if below_zero else "STOCK_BELOW_RESERVED",
                f"{sku} at {location_id}: on hand {current.on_hand}, reserved "
                f"{current.reserved}, cannot change by {delta}",
                {
                    "sku": sku,
                    "location_id": location_id,
                    "on_hand": str(current.on_hand),
                    "reserved": str(current.reserved),
                    "delta": str(delta),
                },
            )
        await self._record_movement(location_id, sku, reason, delta, actor, reference)
        return await self.get_stock(location_id, sku)

    async def _record_movement(
        self, location_id: str, sku: str, reason: str, delta: int, actor: str, reference: str
    ) -> None:
        await self.session.execute(
            stock_movements.insert().values(
                location_id=location_id,
                sku=sku,
                reason=reason,
                delta=delta,
                actor=actor,
                reference=reference,
            )
        )

    async def set_safety_stock(
        self, *, location_id: str, sku: str, channel: str, quantity: int
    ) -> StockLevel:
        await self.get_location(location_id)
        await self.require_product_skus([sku])
        await self.session.execute(
            insert(safety_stock)
            .values(location_id=location_id, sku=sku, channel=channel, quantity=quantity)
            .on_conflict_do_update(
                index_elements=["location_id", "sku", "channel"], set_={"quantity": quantity}
            )
        )
        return await self.get_stock(location_id, sku)

    async def stock_with_locations(
        self, skus: Sequence[str], channel: str, location_ids: Sequence[str] = ()
    ) -> list[StockAtLocation]:
        """Every stock row of these skus (at these locations; all when none), with
        its location and the channel's safety stock."""
        safety = safety_stock.alias("safety")
        query = (
            select(
                locations,
                stock.c.sku,
                stock.c.on_hand,
                stock.c.reserved,
                func.coalesce(safety.c.quantity, 0).label("safety_quantity"),
            )
            .select_from(
                stock.join(locations, locations.c.location_id == stock.c.location_id).outerjoin(
                    safety,
                    and_(
                        safety.c.location_id == stock.c.location_id,
                        safety.c.sku == stock.c.sku,
                        safety.c.channel == channel,
                    ),
                )
            )
            .where(stock.c.sku.in_(skus))
        )
        if location_ids:
            query = query.where(stock.c.location_id.in_(location_ids))
        # One Location per store, however many of the skus it stocks.
        seen: dict[str, Location] = {}
        found = []
        for row in await self.session.execute(query):
            location = seen.get(row.location_id)
            if location is None:
                location = seen[row.location_id] = _location(row)
            found.append(
                StockAtLocation(location, row.sku, row.on_hand, row.reserved, row.safety_quantity)
            )
        return found

    async def source_candidates(self, skus: Sequence[str], channel: str) -> list[SourceCandidate]:
        by_location: dict[str, tuple[Location, dict[str, int]]] = {}
        for row in await self.stock_with_locations(skus, channel):
            entry = by_location.setdefault(row.location.location_id, (row.location, {}))
            entry[1][row.sku] = row.available
        assigned = await self.fulfilments_assigned_today(list(by_location))
        return [
            SourceCandidate(location, available, assigned.get(location.location_id, 0))
            for location, available in by_location.values()
        ]

    async def fulfilments_assigned_today(self, location_ids: Sequence[str]) -> dict[str, int]:
        """Per location: reservations without a TTL (order fulfilments, not cart
        holds) made since midnight (database time zone) and not given back."""
        if not location_ids:
            return {}
        rows = await self.session.execute(
            select(reservations.c.location_id, func.count().label("assigned"))
            .where(
                reservations.c.location_id.in_(location_ids),
                reservations.c.ttl_seconds == 0,
                reservations.c.created_at >= func.date_trunc("day", func.now()),
                reservations.c.status.in_([domain.STATUS_ACTIVE, domain.STATUS_COMMITTED]),
            )
            .group_by(reservations.c.location_id)
        )
        return {row.location_id: int(row.assigned) for row in rows}

    async def audit_stock(self, skus: Sequence[str]) -> list[StockAudit]:
        """Every stock row (of these skus; all when none) beside its ledger sum and
        the sum of its active holds, read in one statement (one snapshot)."""
        ledger = (
            select(
                stock_movements.c.location_id,
                stock_movements.c.sku,
                func.sum(stock_movements.c.delta).label("total"),
            )
            .group_by(stock_movements.c.location_id, stock_movements.c.sku)
            .subquery("ledger")
        )
        holds = (
            select(
                reservations.c.location_id,
                reservation_lines.c.sku,
                func.sum(reservation_lines.c.quantity).label("total"),
            )
            .select_from(reservation_lines.join(reservations))
            .where(reservations.c.status == domain.STATUS_ACTIVE)
            .group_by(reservations.c.location_id, reservation_lines.c.sku)
            .subquery("holds")
        )
        query = (
            select(
                stock.c.location_id,
                stock.c.sku,
                stock.c.on_hand,
                stock.c.reserved,
                func.coalesce(ledger.c.total, 0).label("ledger_sum"),
                func.coalesce(holds.c.total, 0).label("active_holds"),
            )
            .select_from(
                stock.outerjoin(
                    ledger,
                    and_(ledger.c.location_id == stock.c.location_id, ledger.c.sku == stock.c.sku),
                ).outerjoin(
                    holds,
                    and_(holds.c.location_id == stock.c.location_id, holds.c.sku == stock.c.sku),
                )
            )
            .order_by(stock.c.location_id, stock.c.sku)
        )
        if skus:
            query = query.where(stock.c.sku.in_(skus))
        return [
            StockAudit(
                location_id=row.location_id,
                sku=row.sku,
                on_hand=int(row.on_hand),
                reserved=int(row.reserved),
                ledger_sum=int(row.ledger_sum),
                active_holds=int(row.active_holds),
            )
            for row in await self.session.execute(query)
        ]

    # --- reservations -----------------------------------------------------------

    async def check_reservable(self, request: ReservationRequest) -> None:
        """NotFound for an unknown location or sku."""
        await self.get_location(request.location_id)
        await self.require_product_skus([line.sku for line in request.lines])

    async def existing_reservation(self, request: ReservationRequest) -> Reservation:
        """The reservation a retry asks for again; Conflict when its id was used otherwise."""
        existing = await self._load_reservation(request.reservation_id, lock=False)
        if existing is None or existing[1] != request.fingerprint():
            raise Conflict(
                "RESERVATION_ID_REUSED",
                f"reservation {request.reservation_id} exists with other parameters",
                {"reservation_id": request.reservation_id},
            )
        return existing[0]

    async def insufficient_stock(
        self, request: ReservationRequest, short_skus: Sequence[str]
    ) -> BusinessRuleViolation:
        """The error naming each short line and how much the channel has of it now."""
        wanted = {line.sku: line.quantity for line in domain.merge_lines(request.lines)}
        shortages = [
            (
                sku,
                (await self.get_stock(request.location_id, sku)).available_for(request.channel),
                wanted[sku],
            )
            for sku in short_skus
        ]
        return BusinessRuleViolation(
            "INSUFFICIENT_STOCK",
            f"not enough stock at {request.location_id} for "
            + ", ".join(sku for sku, _, _ in shortages),
            {"location_id": request.location_id, **domain.shortage_metadata(shortages)},
        )

    async def _load_reservation(
        self, reservation_id: str, *, lock: bool
    ) -> tuple[Reservation, str, list[ReservedLine]] | None:
        """The reservation as callers see it, its fingerprint and its lines."""
        query = select(reservations).where(reservations.c.reservation_id == reservation_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        line_rows = await self.session.execute(
            select(reservation_lines)
            .where(reservation_lines.c.reservation_id == reservation_id)
            .order_by(reservation_lines.c.sku)
        )
        lines = [ReservedLine(r.sku, r.quantity, r.committed_quantity) for r in line_rows]
        if row.status == domain.STATUS_COMMITTED:
            shown = tuple(Line(r.sku, r.committed_quantity) for r in lines if r.committed_quantity)
        else:
            shown = tuple(Line(r.sku, r.quantity) for r in lines)
        reservation = Reservation(
            reservation_id=row.reservation_id,
            order_id=row.order_id,
            location_id=row.location_id,
            lines=shown,
            status=row.status,
            expires_at=row.expires_at,
        )
        return reservation, row.fingerprint, lines

    async def _is_expired(self, reservation_id: str) -> bool:
        expired = await self.session.scalar(
            select(reservations.c.expires_at <= func.now()).where(
                reservations.c.reservation_id == reservation_id
            )
        )
        return bool(expired)

    async def _finish(
        self, reservation_id: str, status: str, location_id: str, released: dict[str, int]
    ) -> None:
        """Gives held quantities back and moves the reservation to a final status."""
        for sku in sorted(released):
            quantity = released[sku]
            if quantity:
                await self._change_stock(location_id, sku, sold=0, unheld=quantity)
        await self.session.execute(
            update(reservations)
            .where(reservations.c.reservation_id == reservation_id)
            .values(status=status, updated_at=func.now())
        )

    async def _change_stock(self, location_id: str, sku: str, *, sold: int, unheld: int) -> None:
        changed = (
            await self.session.execute(
                update(stock)
                .where(
                    stock.c.location_id == location_id,
                    stock.c.sku == sku,
                    stock.c.reserved >= unheld,
                    stock.c.on_hand >= sold,
                )
                .values(
                    on_hand=stock.c.on_hand - sold,
                    reserved=stock.c.reserved - unheld,
                    updated_at=func.now(),
                )
                .returning(stock.c.reserved)
            )
        ).first()
        if changed is None:
            # The invariants say this cannot happen; refuse rather than corrupt.
            raise RuntimeError(f"stock of {sku} at {location_id} does not cover its holds")

    async def release(self, reservation_id: str) -> Reservation | None:
        """None for an unknown id; a final reservation comes back as it is."""
        loaded = await self._load_reservation(reservation_id, lock=True)
        if loaded is None:
            return None
        reservation, _, lines = loaded
        if reservation.status != domain.STATUS_ACTIVE:
            return reservation
        status = (
            domain.STATUS_EXPIRED
            if await self._is_expired(reservation_id)
            else domain.STATUS_RELEASED
        )
        await self._finish(
            reservation_id, status, reservation.location_id, {r.sku: r.quantity for r in lines}
        )
        reloaded = await self._load_reservation(reservation_id, lock=False)
        return reloaded[0] if reloaded else None

    async def commit(self, reservation_id: str, sold_lines: Sequence[Line]) -> Reservation | None:
        """Sells the given quantities (all when none) and releases the rest.

        None for an unknown id; a final reservation, or one whose soft hold has
        run out (it is expired now), comes back as it is.
        """
        loaded = await self._load_reservation(reservation_id, lock=True)
        if loaded is None:
            return None
        reservation, _, lines = loaded
        if reservation.status != domain.STATUS_ACTIVE:
            return reservation
        if await self._is_expired(reservation_id):
            await self._finish(
                reservation_id,
                domain.STATUS_EXPIRED,
                reservation.location_id,
                {r.sku: r.quantity for r in lines},
            )
        else:
            plan = domain.plan_commit(lines, sold_lines)
            for sku in plan.sold:  # sku order
                sold, unheld = plan.sold[sku], plan.sold[sku] + plan.released[sku]
                await self._change_stock(reservation.location_id, sku, sold=sold, unheld=unheld)
                if sold:
                    await self._record_movement(
                        reservation.location_id,
                        sku,
                        domain.MOVEMENT_COMMIT,
                        -sold,
                        actor=f"order:{reservation.order_id}" if reservation.order_id else "",
                        reference=reservation_id,
                    )
                await self.session.execute(
                    update(reservation_lines)
                    .where(
                        reservation_lines.c.reservation_id == reservation_id,
                        reservation_lines.c.sku == sku,
                    )
                    .values(committed_quantity=sold)
                )
            await self.session.execute(
                update(reservations)
                .where(reservations.c.reservation_id == reservation_id)
                .values(status=domain.STATUS_COMMITTED, updated_at=func.now())
            )
        reloaded = await self._load_reservation(reservation_id, lock=False)
        return reloaded[0] if reloaded else None

    async def release_expired_holds(self) -> int:
        """Expires active soft holds whose time is up and gives their stock back.

        Run in its own short transaction before reads and reservations. Holds
        another transaction is finishing right now are skipped, not waited for.
        """
        due = (
            select(reservations.c.reservation_id)
            .where(
                reservations.c.status == domain.STATUS_ACTIVE,
                reservations.c.expires_at <= func.now(),
            )
            .order_by(reservations.c.expires_at)
            .limit(SWEEP_BATCH)
            .with_for_update(skip_locked=True)
        )
        ids = list(await self.session.scalars(due))
        if not ids:
            return 0
        await self.session.execute(
            update(reservations)
            .where(reservations.c.reservation_id.in_(ids))
            .values(status=domain.STATUS_EXPIRED, updated_at=func.now())
        )
        freed = await self.session.execute(
            select(
                reservations.c.location_id,
                reservation_lines.c.sku,
                func.sum(reservation_lines.c.quantity).label("quantity"),
            )
            .select_from(reservation_lines.join(reservations))
            .where(reservations.c.reservation_id.in_(ids))
            .group_by(reservations.c.location_id, reservation_lines.c.sku)
            .order_by(reservations.c.location_id, reservation_lines.c.sku)
        )
        for row in freed:
            await self._change_stock(row.location_id, row.sku, sold=0, unheld=int(row.quantity))
        return len(ids)

    async def has_expired_holds(self) -> bool:
        """Cheap check (partial index) so most calls skip the sweep's write transaction."""
        found = await self.session.scalar(
            select(literal(True))
            .where(
                reservations.c.status == domain.STATUS_ACTIVE,
                reservations.c.expires_at <= func.now(),
            )
            .limit(1)
        )
        return bool(found)


def domain_already_exists(what: str, identifier: str) -> AlreadyExists:
    return AlreadyExists(f"{what} {identifier} already exists")


# --- reserving in one statement ----------------------------------------------------

# Raised by the reserve_stock() function (migration 0003) when a line is short.
INSUFFICIENT_STOCK_SQLSTATE = "OM001"

_RESERVE_STOCK = (
    "SELECT out_created, out_expires_at FROM reserve_stock($1, $2, $3, $4, $5, $6, $7, $8)"
)


@dataclass(frozen=True)
class ReserveOutcome:
    """Made now; or not made because the id exists, a line is short, or the
    location or a sku does not exist."""

    created: bool
    expires_at: datetime | None = None
    short_skus: tuple[str, ...] = ()
    unknown_reference: bool = False


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool release hook: nothing to reset (see `create_hot_pool`)."""


async def create_hot_pool(database_url: str, size: int) -> asyncpg.Pool:
    """A plain asyncpg pool for single autocommitted statements.

    Such statements leave no session state behind (no transaction, cursor,
    LISTEN, advisory lock or SET), so the pool skips asyncpg's reset query on
    release — otherwise a second round trip per call, which profiling showed
    costing as much as a quarter of ReserveStock's own CPU. asyncpg still rolls
    back a transaction left open, should one ever be."""
    return await asyncpg.create_pool(
        plain_postgres_url(database_url), min_size=1, max_size=size, reset=_keep_session
    )


# The proxy resolves to the process's tracer provider once it is installed.
_sql_tracer = trace.get_tracer("omni.sql")


def _sql_span(statement: str, database_name: str) -> Any:
    """The client span SQLAlchemy's statements get (telemetry.trace_sql), for plain asyncpg."""
    return _sql_tracer.start_as_current_span(
        f"SELECT {database_name}",
        kind=SpanKind.CLIENT,
        attributes={
            "db.system": "postgresql",
            "db.name": database_name,
            "db.operation": "SELECT",
            "db.statement": statement,
        },
    )


async def reserve_in_one_statement(
    pool: asyncpg.Pool, request: ReservationRequest, *, database_name: str = ""
) -> ReserveOutcome:
    """Every line held, or none, in one autocommitted statement: it commits in
    the round trip that locks the stock rows. Plain asyncpg, because this is
    the hottest path of the platform and each call pays for one round trip only;
    it gets the same client span as the statements SQLAlchemy runs."""
    lines = domain.merge_lines(request.lines)  # sku order: the lock order
    try:
        with _sql_span(_RESERVE_STOCK, database_name):
            row = await pool.fetchrow(
                _RESERVE_STOCK,
                request.reservation_id,
                request.order_id,
                request.location_id,
                request.channel,
                request.ttl_seconds,
                request.fingerprint(),
                [line.sku for line in lines],
                [line.quantity for line in lines],
            )
    except asyncpg.ForeignKeyViolationError:
        return ReserveOutcome(created=False, unknown_reference=True)
    except asyncpg.PostgresError as error:
        if error.sqlstate != INSUFFICIENT_STOCK_SQLSTATE:
            raise
        detail = getattr(error, "detail", "") or ""
        return ReserveOutcome(created=False, short_skus=tuple(detail.split(",")))
    assert row is not None
    return ReserveOutcome(created=row["out_created"], expires_at=row["out_expires_at"])


# --- availability in one statement ---------------------------------------------------

# Every asked sku (known or not), each stock row of the known ones with its
# location and the channel's safety stock, and whether any soft hold is past
# its TTL — one snapshot, one round trip.
_AVAILABILITY = """
SELECT asked.sku, p.sku IS NOT NULL AS known,
       l.location_id, l.name, l.kind, l.lat, l.lon, l.pickup_enabled, l.ship_from_enabled,
       l.daily_order_capacity, l.pickup_window_hours, l.pick_sla_minutes,
       s.on_hand, s.reserved, coalesce(ss.quantity, 0) AS safety_quantity,
       EXISTS (SELECT 1 FROM reservations r
               WHERE r.status = 'active' AND r.expires_at <= now()) AS holds_due
FROM unnest($1::text[]) AS asked(sku)
LEFT JOIN products p ON p.sku = asked.sku
LEFT JOIN stock s ON s.sku = p.sku
LEFT JOIN locations l ON l.location_id = s.location_id
LEFT JOIN safety_stock ss
       ON ss.location_id = s.location_id AND ss.sku = s.sku AND ss.channel = $2
"""


@dataclass(frozen=True)
class AvailabilitySnapshot:
    known_skus: frozenset[str]
    stock: list[StockAtLocation]
    holds_due: bool  # expired soft holds still count here: sweep, then read again


async def read_availability(
    pool: asyncpg.Pool, skus: Sequence[str], channel: str, *, database_name: str = ""
) -> AvailabilitySnapshot:
    """What GetAvailability needs, in one autocommitted statement on the plain
    pool: the ORM path took five round trips and most of the service's CPU
    (bench/README.md)."""
    with _sql_span(_AVAILABILITY, database_name):
        rows = await pool.fetch(_AVAILABILITY, list(skus), channel)
    known: set[str] = set()
    seen: dict[str, Location] = {}  # one Location per store
    found = []
    for row in rows:
        if not row["known"]:
            continue
        known.add(row["sku"])
        location_id = row["location_id"]
        if location_id is None:
            continue  # a product no store stocks
        location = seen.get(location_id)
        if location is None:
            location = seen[location_id] = _location(_RowAttributes(row))
        found.append(
            StockAtLocation(
                location, row["sku"], row["on_hand"], row["reserved"], row["safety_quantity"]
            )
        )
    holds_due = bool(rows) and bool(rows[0]["holds_due"])
    return AvailabilitySnapshot(frozenset(known), found, holds_due)


class _RowAttributes:
    """An asyncpg record read by attribute, like the SQLAlchemy rows `_location` takes."""

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        return self._record[name]
