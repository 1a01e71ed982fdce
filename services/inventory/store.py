"""Inventory tables and queries: the only place with SQL.

Stock changes are single conditional statements, so concurrent callers can
never take a row below what the rules allow. Stock rows are always locked in
(location_id, sku) order — reservations touch one location, in sku order —
so concurrent transactions cannot deadlock on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

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
        self, skus: Sequence[str], channel: str
    ) -> list[StockAtLocation]:
        """Every stock row of these skus, with its location and the channel's safety stock."""
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
        return [
            StockAtLocation(
                location=_location(row),
                sku=row.sku,
                on_hand=row.on_hand,
                reserved=row.reserved,
                safety_stock=row.safety_quantity,
            )
            for row in await self.session.execute(query)
        ]

    async def source_candidates(self, skus: Sequence[str], channel: str) -> list[SourceCandidate]:
        by_location: dict[str, tuple[Location, dict[str, int]]] = {}
        for row in await self.stock_with_locations(skus, channel):
            entry = by_location.setdefault(row.location.location_id, (row.location, {}))
            entry[1][row.sku] = row.available
        return [
            SourceCandidate(location, available) for location, available in by_location.values()
        ]

    # --- reservations -----------------------------------------------------------

    async def reserve(self, request: ReservationRequest) -> Reservation:
        """Holds every line at one location, or raises and the transaction holds nothing."""
        await self.get_location(request.location_id)
        lines = domain.merge_lines(request.lines)
        await self.require_product_skus([line.sku for line in lines])
        fingerprint = request.fingerprint()
        expires_at: Any = (
            func.now() + timedelta(seconds=request.ttl_seconds) if request.ttl_seconds > 0 else None
        )
        # A concurrent twin blocks here until the first commits or rolls back.
        inserted = (
            await self.session.execute(
                insert(reservations)
                .values(
                    reservation_id=request.reservation_id,
                    order_id=request.order_id,
                    location_id=request.location_id,
                    channel=request.channel,
                    ttl_seconds=request.ttl_seconds,
                    status=domain.STATUS_ACTIVE,
                    fingerprint=fingerprint,
                    expires_at=expires_at,
                )
                .on_conflict_do_nothing(index_elements=["reservation_id"])
                .returning(reservations.c.reservation_id)
            )
        ).first()
        if inserted is None:
            existing = await self._load_reservation(request.reservation_id, lock=False)
            if existing is None or existing[1] != fingerprint:
                raise Conflict(
                    "RESERVATION_ID_REUSED",
                    f"reservation {request.reservation_id} exists with other parameters",
                    {"reservation_id": request.reservation_id},
                )
            return existing[0]

        shortages: list[tuple[str, int, int]] = []
        for line in lines:  # sku order: the lock order
            held = (
                await self.session.execute(
                    update(stock)
                    .where(
                        stock.c.location_id == request.location_id,
                        stock.c.sku == line.sku,
                        stock.c.on_hand
                        - stock.c.reserved
                        - _safety_for(request.location_id, line.sku, request.channel)
                        >= line.quantity,
                    )
                    .values(reserved=stock.c.reserved + line.quantity, updated_at=func.now())
                    .returning(stock.c.reserved)
                )
            ).first()
            if held is None:
                current = await self.get_stock(request.location_id, line.sku)
                shortages.append((line.sku, current.available_for(request.channel), line.quantity))
        if shortages:
            raise BusinessRuleViolation(
                "INSUFFICIENT_STOCK",
                f"not enough stock at {request.location_id} for "
                + ", ".join(sku for sku, _, _ in shortages),
                {"location_id": request.location_id, **domain.shortage_metadata(shortages)},
            )
        await self.session.execute(
            reservation_lines.insert(),
            [
                {
                    "reservation_id": request.reservation_id,
                    "sku": line.sku,
                    "quantity": line.quantity,
                }
                for line in lines
            ],
        )
        loaded = await self._load_reservation(request.reservation_id, lock=False)
        assert loaded is not None
        return loaded[0]

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
