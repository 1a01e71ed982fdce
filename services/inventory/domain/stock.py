"""Stock per (location, sku): lines, adjustments, safety stock and availability.

"Available" (on hand - reserved - the channel's safety stock, never negative)
has one definition, the SQL function `stock_available` (migration 0004) that
both the reads and the reservations use. `available` below says the same in
Python for the table test that checks it against that SQL, and for nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from omni.words import Channel, StockMovementReason
from services.common.errors import BusinessRuleViolation, NotFound
from services.common.validation import Violations
from services.inventory.domain.locations import (
    MAX_TEXT,
    GeoPoint,
    Location,
    haversine_km,
    within_radius,
)

MAX_LINE_QUANTITY = 1_000_000
MAX_ADJUSTMENT = 1_000_000_000
MAX_LINES = 200
MAX_IDS_PER_CALL = 200
# What AdjustStock accepts: every reason but stock sold through a reservation.
ADJUSTMENT_REASONS = tuple(r for r in StockMovementReason if r is not StockMovementReason.COMMIT)

StockKey = tuple[str, str]  # (location_id, sku)


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


def merge_lines(lines: Iterable[Line]) -> list[Line]:
    """One line per sku, in sku order (the order stock rows are locked in)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return [Line(sku, quantity) for sku, quantity in sorted(totals.items())]


def check_lines(
    violations: Violations, field_name: str, lines: Sequence[Line], *, allow_zero: bool
) -> None:
    if not lines:
        violations.add(field_name, "must have at least one line")
    if len(lines) > MAX_LINES:
        violations.add(field_name, f"must have at most {MAX_LINES} lines")
    lowest = 0 if allow_zero else 1
    quantities_ok = True
    for index, line in enumerate(lines):
        violations.check_id(f"{field_name}[{index}].sku", line.sku)
        if not lowest <= line.quantity <= MAX_LINE_QUANTITY:
            quantities_ok = False
            violations.add(
                f"{field_name}[{index}].quantity",
                f"must be between {lowest} and {MAX_LINE_QUANTITY}",
            )
    if not quantities_ok:
        return
    # Lines of one sku are merged, so their sum must fit the limit too.
    for line in merge_lines(lines):
        if line.quantity > MAX_LINE_QUANTITY and line.sku:
            violations.add(
                field_name, f"{line.sku}: total quantity must be at most {MAX_LINE_QUANTITY}"
            )


def check_skus(violations: Violations, skus: Sequence[str], *, required: bool) -> None:
    if required and not skus:
        violations.add("skus", "must name at least one sku")
    if len(skus) > MAX_IDS_PER_CALL:
        violations.add("skus", f"must name at most {MAX_IDS_PER_CALL} skus")
    for index, sku in enumerate(skus):
        violations.check_id(f"skus[{index}]", sku)


def check_location_ids(violations: Violations, location_ids: Sequence[str]) -> None:
    if len(location_ids) > MAX_IDS_PER_CALL:
        violations.add("location_ids", f"must name at most {MAX_IDS_PER_CALL} locations")
    for index, location_id in enumerate(location_ids):
        violations.check_id(f"location_ids[{index}]", location_id)


def unique_in_order(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


_RESOURCE_TYPES = {"sku": "product", "location": "location"}


def require_all_found(
    asked: Sequence[str], found: Iterable[str], what: Literal["sku", "location"]
) -> None:
    """NotFound naming every unknown id, in the order asked, as ResourceInfo too."""
    known = set(found)
    missing = [value for value in unique_in_order(asked) if value not in known]
    if missing:
        raise NotFound(
            f"unknown {what}: {', '.join(missing)}",
            resource_type=_RESOURCE_TYPES[what],
            ids=missing,
        )


def available(on_hand: int, reserved: int, safety_stock: int) -> int:
    """What a channel may still sell; never negative. The rule is the SQL
    function stock_available(); this copy exists for the table test only."""
    return max(0, on_hand - reserved - safety_stock)


@dataclass(frozen=True)
class StockLevel:
    """One (location, sku); `available` is for no channel in particular."""

    location_id: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    safety_stock: Mapping[Channel, int] = field(default_factory=dict)


class StockAtLocation(NamedTuple):
    """A stock row with its location and what one channel may sell of it.
    (Tuples: an availability read makes one per stock row it reads, and a
    frozen dataclass's constructor cost three times as much.)"""

    location: Location
    sku: str
    available: int


# --- adjustments and safety stock ---------------------------------------------


@dataclass(frozen=True)
class StockMovement:
    """One ledger entry: on hand of (location, sku) changed by `delta`."""

    location_id: str
    sku: str
    reason: StockMovementReason
    delta: int
    actor: str
    reference: str


@dataclass(frozen=True)
class Adjustment:
    idempotency_key: str
    location_id: str
    sku: str
    delta: int
    reason: StockMovementReason | None
    actor: str = ""
    reference: str = ""

    def received_damaged(self) -> bool:
        """A positive damage delta: units that arrived damaged (a return) are
        recorded and written off together; on hand does not change."""
        return self.reason == StockMovementReason.DAMAGE and self.delta > 0

    def movement(self) -> StockMovement:
        """The ledger entry of a valid adjustment (checked: it has a reason)."""
        assert self.reason is not None
        return StockMovement(
            self.location_id, self.sku, self.reason, self.delta, self.actor, self.reference
        )


def check_adjustment(adjustment: Adjustment) -> None:
    violations = Violations()
    violations.check_text(
        "idempotency_key", adjustment.idempotency_key, required=True, max_length=MAX_TEXT
    )
    violations.check_id("location_id", adjustment.location_id)
    violations.check_id("sku", adjustment.sku)
    if adjustment.delta == 0:
        violations.add("delta", "must not be 0")
    elif abs(adjustment.delta) > MAX_ADJUSTMENT:
        violations.add("delta", f"must be between -{MAX_ADJUSTMENT} and {MAX_ADJUSTMENT}")
    if adjustment.reason not in ADJUSTMENT_REASONS:
        violations.add("reason", "must be one of: " + ", ".join(ADJUSTMENT_REASONS))
    violations.check_text("actor", adjustment.actor, max_length=MAX_TEXT)
    violations.check_text("reference", adjustment.reference, max_length=MAX_TEXT)
    violations.raise_if_any()


def adjustment_refused(level: StockLevel, delta: int) -> BusinessRuleViolation:
    """Why on hand cannot change by `delta`: below zero, or below what is held."""
    below_zero = level.on_hand + delta < 0
    return BusinessRuleViolation(
        "STOCK_BELOW_ZERO" if below_zero else "STOCK_BELOW_RESERVED",
        f"{level.sku} at {level.location_id}: on hand {level.on_hand}, reserved "
        f"{level.reserved}, cannot change by {delta}",
        {
            "sku": level.sku,
            "location_id": level.location_id,
            "on_hand": str(level.on_hand),
            "reserved": str(level.reserved),
            "delta": str(delta),
        },
    )


@dataclass(frozen=True)
class SafetyStock:
    location_id: str
    sku: str
    channel: Channel | None
    quantity: int


def check_safety_stock(safety: SafetyStock) -> None:
    violations = Violations()
    violations.check_id("location_id", safety.location_id)
    violations.check_id("sku", safety.sku)
    if safety.channel is None:
        violations.add("channel", "is required")
    if not 0 <= safety.quantity <= MAX_ADJUSTMENT:
        violations.add("quantity", f"must be between 0 and {MAX_ADJUSTMENT}")
    violations.raise_if_any()


# --- availability ---------------------------------------------------------------


@dataclass(frozen=True)
class AvailabilitySnapshot:
    """What GetAvailability reads in one statement."""

    known_skus: frozenset[str]
    stock: list[StockAtLocation]
    holds_due: bool  # expired soft holds still count here: sweep, then read again


@dataclass(frozen=True)
class AvailabilityQuery:
    skus: tuple[str, ...]
    near: GeoPoint | None
    radius_km: float
    channel: Channel | None


class LocationAvailability(NamedTuple):
    location_id: str
    distance_km: float
    available: int
    pickup_enabled: bool


@dataclass(frozen=True)
class SkuAvailability:
    sku: str
    online_available: int
    locations: tuple[LocationAvailability, ...]


def summarize_availability(
    skus: Sequence[str],
    stock: Iterable[StockAtLocation],
    near: GeoPoint | None,
    radius_km: float,
) -> list[SkuAvailability]:
    """Per sku, in the order asked: stock near the point, and what can ship online."""
    by_sku: dict[str, list[StockAtLocation]] = {sku: [] for sku in skus}
    for row in stock:
        if row.sku in by_sku:
            by_sku[row.sku].append(row)
    # Each store's distance once, however many of the skus it stocks.
    distances: dict[str, float] = {}
    result = []
    for sku in skus:
        rows = by_sku[sku]
        online = sum(row.available for row in rows if row.location.ship_from_enabled)
        nearby = []
        for row in rows:
            distance = 0.0
            if near is not None:
                where = row.location.location_id
                if where not in distances:
                    distances[where] = haversine_km(near, row.location.point)
                distance = distances[where]
            if near is None or within_radius(distance, radius_km):
                nearby.append(
                    LocationAvailability(
                        row.location.location_id,
                        distance,
                        row.available,
                        row.location.pickup_enabled,
                    )
                )
        nearby.sort(key=lambda item: (item.distance_km, item.location_id))
        result.append(SkuAvailability(sku, online, tuple(nearby)))
    return result


@dataclass(frozen=True)
class AvailabilityChange:
    location_id: str
    sku: str
    available: int
    current: bool  # True for the values a watch starts with, False for changes


def watched_values(
    found: Mapping[StockKey, int], skus: Sequence[str], location_ids: Sequence[str]
) -> dict[StockKey, int]:
    """What a watch starts with: every stock row found, or, when locations are
    named, every pair asked about (0 where the location never had the sku)."""
    if not location_ids:
        return dict(found)
    return {
        (location_id, sku): found.get((location_id, sku), 0)
        for location_id in location_ids
        for sku in skus
    }
