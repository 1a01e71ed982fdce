"""Inventory rules: locations, products, availability and sourcing. No I/O here."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.common.errors import FieldViolation, InvalidArgument, NotFound

LOCATION_KINDS = ("store", "warehouse")
ADJUSTMENT_REASONS = ("receipt", "pos_sale", "cycle_count", "damage", "return_restock")
# Ledger movements: every adjustment reason, plus stock sold through a reservation.
MOVEMENT_COMMIT = "commit"
MOVEMENT_KINDS = (*ADJUSTMENT_REASONS, MOVEMENT_COMMIT)
FULFILLMENT_TYPES = ("ship", "pickup")

STATUS_ACTIVE = "active"
STATUS_COMMITTED = "committed"
STATUS_RELEASED = "released"
STATUS_EXPIRED = "expired"
RESERVATION_STATUSES = (STATUS_ACTIVE, STATUS_COMMITTED, STATUS_RELEASED, STATUS_EXPIRED)

DEFAULT_PICKUP_WINDOW_HOURS = 72.0
DEFAULT_PICK_SLA_MINUTES = 120.0
MAX_LINE_QUANTITY = 1_000_000
MAX_ADJUSTMENT = 1_000_000_000
MAX_TTL_SECONDS = 30 * 24 * 3600
MAX_LINES = 200
MAX_SPLIT_LOCATIONS = 10
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_TEXT = 200
EARTH_RADIUS_KM = 6371.0088

# Merchant-chosen ids: printable, no spaces, so they read well in logs and URLs.
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
_CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    kind: str
    point: GeoPoint
    pickup_enabled: bool
    ship_from_enabled: bool
    daily_order_capacity: int
    pickup_window_hours: float
    pick_sla_minutes: float


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    price: Money
    returnable_days: int


@dataclass(frozen=True)
class Line:
    sku: str
    quantity: int


@dataclass(frozen=True)
class StockLevel:
    location_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: dict[str, int] = field(default_factory=dict)

    @property
    def available(self) -> int:
        """On hand less reserved, for no channel in particular."""
        return max(0, self.on_hand - self.reserved)

    def available_for(self, channel: str) -> int:
        return available(self.on_hand, self.reserved, self.safety_stock.get(channel, 0))


def available(on_hand: int, reserved: int, safety_stock: int) -> int:
    """What a channel may still sell; never shown negative."""
    return max(0, on_hand - reserved - safety_stock)


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def within_radius(distance_km: float, radius_km: float) -> bool:
    """A radius of 0 means no limit."""
    return radius_km <= 0 or distance_km <= radius_km


# --- validation -------------------------------------------------------------


class Violations:
    """Collects field violations so a request reports all of its mistakes at once."""

    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field_name: str, message: str) -> None:
        self.items.append(FieldViolation(field_name, message))

    def check_id(self, field_name: str, value: str) -> None:
        if not value:
            self.add(field_name, "is required")
        elif not _ID_PATTERN.match(value):
            self.add(field_name, "must be 1-64 letters, digits or ._:/- (no spaces)")

    def check_text(self, field_name: str, value: str, *, required: bool = False) -> None:
        if required and not value.strip():
            self.add(field_name, "is required")
        elif len(value) > MAX_TEXT:
            self.add(field_name, f"must be at most {MAX_TEXT} characters")

    def check_point(self, field_name: str, point: GeoPoint | None) -> None:
        if point is None:
            self.add(field_name, "is required")
            return
        if not (math.isfinite(point.lat) and -90 <= point.lat <= 90):
            self.add(f"{field_name}.lat", "must be between -90 and 90")
        if not (math.isfinite(point.lon) and -180 <= point.lon <= 180):
            self.add(f"{field_name}.lon", "must be between -180 and 180")

    def check_radius(self, field_name: str, radius_km: float) -> None:
        if not math.isfinite(radius_km) or radius_km < 0:
            self.add(field_name, "must be a number >= 0 (0: no limit)")

    def check_lines(self, field_name: str, lines: Sequence[Line], *, allow_zero: bool) -> None:
        if not lines:
            self.add(field_name, "must have at least one line")
        if len(lines) > MAX_LINES:
            self.add(field_name, f"must have at most {MAX_LINES} lines")
        lowest = 0 if allow_zero else 1
        quantities_ok = True
        for index, line in enumerate(lines):
            self.check_id(f"{field_name}[{index}].sku", line.sku)
            if not lowest <= line.quantity <= MAX_LINE_QUANTITY:
                quantities_ok = False
                self.add(
                    f"{field_name}[{index}].quantity",
                    f"must be between {lowest} and {MAX_LINE_QUANTITY}",
                )
        if not quantities_ok:
            return
        # Lines of one sku are merged, so their sum must fit the limit too.
        merged_total: dict[str, int] = {}
        for line in lines:
            merged_total[line.sku] = merged_total.get(line.sku, 0) + line.quantity
        for sku, total in merged_total.items():
            if total > MAX_LINE_QUANTITY and sku:
                self.add(field_name, f"{sku}: total quantity must be at most {MAX_LINE_QUANTITY}")

    def raise_if_any(self) -> None:
        if self.items:
            message = "; ".join(f"{v.field}: {v.message}" for v in self.items)
            raise InvalidArgument(message, list(self.items))


def check_location(
    location: Location,
    violations: Violations,
    *,
    point_given: bool = True,
    prefix: str = "location",
) -> None:
    violations.check_id(f"{prefix}.location_id", location.location_id)
    violations.check_text(f"{prefix}.name", location.name, required=True)
    if location.kind not in LOCATION_KINDS:
        violations.add(f"{prefix}.kind", "must be one of: " + ", ".join(LOCATION_KINDS))
    violations.check_point(f"{prefix}.point", location.point if point_given else None)
    if location.daily_order_capacity < 0:
        violations.add(f"{prefix}.daily_order_capacity", "must be >= 0")
    for name, value in (
        ("pickup_window_hours", location.pickup_window_hours),
        ("pick_sla_minutes", location.pick_sla_minutes),
    ):
        if not math.isfinite(value) or value < 0:
            violations.add(f"{prefix}.{name}", "must be a number >= 0 (0: the default)")


def with_default_durations(location: Location) -> Location:
    """Zero durations mean "use the default": 72 h to collect, 120 min to pick."""
    return Location(
        location_id=location.location_id,
        name=location.name,
        kind=location.kind,
        point=location.point,
        pickup_enabled=location.pickup_enabled,
        ship_from_enabled=location.ship_from_enabled,
        daily_order_capacity=location.daily_order_capacity,
        pickup_window_hours=location.pickup_window_hours or DEFAULT_PICKUP_WINDOW_HOURS,
        pick_sla_minutes=location.pick_sla_minutes or DEFAULT_PICK_SLA_MINUTES,
    )


def check_product(product: Product, violations: Violations, prefix: str = "product") -> None:
    violations.check_id(f"{prefix}.sku", product.sku)
    violations.check_text(f"{prefix}.name", product.name, required=True)
    if product.price.amount_minor <= 0:
        violations.add(f"{prefix}.price.amount_minor", "must be > 0")
    if not _CURRENCY_PATTERN.match(product.price.currency):
        violations.add(f"{prefix}.price.currency", "must be a 3-letter ISO 4217 code, e.g. USD")
    if product.returnable_days < 0:
        violations.add(f"{prefix}.returnable_days", "must be >= 0")


def merge_lines(lines: Iterable[Line]) -> list[Line]:
    """One line per sku, in sku order (the order stock rows are locked in)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return [Line(sku, quantity) for sku, quantity in sorted(totals.items())]


def unique_in_order(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def require_all_found(asked: Sequence[str], found: Iterable[str], what: str) -> None:
    missing = [value for value in unique_in_order(asked) if value not in set(found)]
    if missing:
        raise NotFound(f"unknown {what}: {', '.join(missing)}")


# --- pagination -------------------------------------------------------------


def page_size(limit: int) -> int:
    if limit <= 0:
        return DEFAULT_PAGE_SIZE
    return min(limit, MAX_PAGE_SIZE)


def encode_page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_page_token(token: str) -> int:
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        offset = json.loads(base64.urlsafe_b64decode(padded.encode()))["o"]
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise InvalidArgument.field("page_token", "is not a token this service issued") from error
    if not isinstance(offset, int) or offset < 0:
        raise InvalidArgument.field("page_token", "is not a token this service issued")
    return offset


@dataclass(frozen=True)
class LocationWithDistance:
    location: Location
    distance_km: float


def locations_near(
    locations: Iterable[Location], near: GeoPoint | None, radius_km: float
) -> list[LocationWithDistance]:
    """Nearest first (ties by id); every location with distance 0 when no point is given."""
    if near is None:
        ranked = [LocationWithDistance(location, 0.0) for location in locations]
        return sorted(ranked, key=lambda item: item.location.location_id)
    ranked = [
        LocationWithDistance(location, haversine_km(near, location.point)) for location in locations
    ]
    ranked = [item for item in ranked if within_radius(item.distance_km, radius_km)]
    return sorted(ranked, key=lambda item: (item.distance_km, item.location.location_id))


# --- reservations -----------------------------------------------------------


@dataclass(frozen=True)
class ReservationRequest:
    reservation_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]
    channel: str
    ttl_seconds: int

    def fingerprint(self) -> str:
        """Same parameters (lines merged) give the same fingerprint."""
        canonical = {
            "order_id": self.order_id,
            "location_id": self.location_id,
            "lines": [[line.sku, line.quantity] for line in merge_lines(self.lines)],
            "channel": self.channel,
            "ttl_seconds": self.ttl_seconds,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


def check_reservation_request(request: ReservationRequest) -> None:
    violations = Violations()
    violations.check_text("reservation_id", request.reservation_id, required=True)
    violations.check_text("order_id", request.order_id)
    violations.check_id("location_id", request.location_id)
    violations.check_lines("lines", request.lines, allow_zero=False)
    violations.check_text("channel", request.channel)
    if not 0 <= request.ttl_seconds <= MAX_TTL_SECONDS:
        violations.add("ttl_seconds", f"must be between 0 and {MAX_TTL_SECONDS}")
    violations.raise_if_any()


@dataclass(frozen=True)
class ReservedLine:
    sku: str
    quantity: int
    committed_quantity: int = 0


@dataclass(frozen=True)
class Reservation:
    """A hold; once committed, `lines` are the quantities sold."""

    reservation_id: str
    order_id: str
    location_id: str
    lines: tuple[Line, ...]
    status: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class CommitPlan:
    """Per sku, in sku order: how much is sold and how much of the hold goes back."""

    sold: dict[str, int]
    released: dict[str, int]


def plan_commit(reserved: Sequence[ReservedLine], requested: Sequence[Line]) -> CommitPlan:
    """Commits the requested quantities (everything when none), releases the rest."""
    held = {line.sku: line.quantity for line in reserved}
    if not requested:
        sold = dict(held)
    else:
        violations = Violations()
        sold = {sku: 0 for sku in held}
        for index, line in enumerate(requested):
            if line.sku not in held:
                violations.add(f"lines[{index}].sku", f"{line.sku} is not in the reservation")
                continue
            sold[line.sku] += line.quantity
            if sold[line.sku] > held[line.sku]:
                violations.add(
                    f"lines[{index}].quantity",
                    f"{line.sku}: cannot sell more than the {held[line.sku]} reserved",
                )
        violations.raise_if_any()
    ordered = sorted(held)
    return CommitPlan(
        sold={sku: sold[sku] for sku in ordered},
        released={sku: held[sku] - sold[sku] for sku in ordered},
    )


def shortage_metadata(shortages: Sequence[tuple[str, int, int]]) -> dict[str, str]:
    """`{"sku:ABC": "available=3 requested=5"}` for each (sku, available, requested)."""
    return {
        f"sku:{sku}": f"available={available_now} requested={requested}"
        for sku, available_now, requested in shortages
    }


# --- sourcing ---------------------------------------------------------------


@dataclass(frozen=True)
class SourceCandidate:
    """A location, what it can give each sku for the channel asked (net of
    safety stock), and how many fulfilments it was assigned today."""

    location: Location
    available: dict[str, int]
    assigned_today: int = 0

    @property
    def capacity_left(self) -> float:
        """Fulfilments it can still take today; a capacity of 0 means no limit."""
        capacity = self.location.daily_order_capacity
        if capacity <= 0:
            return math.inf
        return max(0, capacity - self.assigned_today)


@dataclass(frozen=True)
class SourceAllocation:
    location_id: str
    distance_km: float
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class SourcingOption:
    allocations: tuple[SourceAllocation, ...]


@dataclass(frozen=True)
class SourcingRequest:
    lines: tuple[Line, ...]
    destination: GeoPoint
    fulfillment_type: str
    channel: str = ""
    exclude_location_ids: frozenset[str] = frozenset()
    max_locations: int = 1


def check_sourcing_request(request: SourcingRequest, *, destination_given: bool = True) -> None:
    violations = Violations()
    violations.check_lines("lines", request.lines, allow_zero=False)
    violations.check_point("destination", request.destination if destination_given else None)
    if request.fulfillment_type not in FULFILLMENT_TYPES:
        violations.add("fulfillment_type", "must be one of: " + ", ".join(FULFILLMENT_TYPES))
    violations.check_text("channel", request.channel)
    if not 0 <= request.max_locations <= MAX_SPLIT_LOCATIONS:
        violations.add("max_locations", f"must be between 0 and {MAX_SPLIT_LOCATIONS}")
    violations.raise_if_any()


def _eligible(candidate: SourceCandidate, request: SourcingRequest) -> bool:
    location = candidate.location
    if location.location_id in request.exclude_location_ids:
        return False
    if request.fulfillment_type == "ship":
        return location.ship_from_enabled
    return location.pickup_enabled


def _rank_key(
    distance_km: float, candidate: SourceCandidate, needed: Sequence[Line]
) -> tuple[bool, float, float, int, str]:
    """Capacity left today first, then nearest, more capacity, more stock, id."""
    capacity_left = candidate.capacity_left
    return (
        capacity_left <= 0,
        distance_km,
        -capacity_left,
        -sum(candidate.available.get(line.sku, 0) for line in needed),
        candidate.location.location_id,
    )


def find_sources(
    request: SourcingRequest, candidates: Iterable[SourceCandidate]
) -> list[SourcingOption]:
    """Ranks ways to fulfil every line.

    Single locations that can fill everything come first, ranked by
    `_rank_key`: a location whose capacity today is used up only after every
    one with capacity left, then nearest first (haversine), more capacity left,
    more stock of the lines (net of safety stock), location id. Only when none
    can, and a split is allowed, one option over the fewest locations found
    greedily (each step takes the location filling the most remaining units,
    the best ranked on ties).
    """
    needed = merge_lines(request.lines)
    ranked = sorted(
        (
            (haversine_km(request.destination, candidate.location.point), candidate)
            for candidate in candidates
            if _eligible(candidate, request)
        ),
        key=lambda pair: _rank_key(pair[0], pair[1], needed),
    )
    singles = [
        SourcingOption((SourceAllocation(candidate.location.location_id, distance, tuple(needed)),))
        for distance, candidate in ranked
        if all(candidate.available.get(line.sku, 0) >= line.quantity for line in needed)
    ]
    if singles or max(1, request.max_locations) == 1:
        return singles
    split = _greedy_split(needed, ranked, request.max_locations)
    return [split] if split is not None else []


def _greedy_split(
    needed: list[Line],
    ranked: list[tuple[float, SourceCandidate]],
    max_locations: int,
) -> SourcingOption | None:
    remaining = {line.sku: line.quantity for line in needed}
    unused = list(ranked)
    chosen: list[SourceAllocation] = []
    while any(remaining.values()) and len(chosen) < max_locations and unused:

        def fills(pair: tuple[float, SourceCandidate]) -> int:
            return sum(min(q, pair[1].available.get(sku, 0)) for sku, q in remaining.items())

        # `ranked` is best first, so max() keeps the best ranked of equal fillers.
        best = max(unused, key=fills)
        if fills(best) == 0:
            return None
        unused.remove(best)
        distance, candidate = best
        taken: list[Line] = []
        for sku in sorted(remaining):
            quantity = min(remaining[sku], candidate.available.get(sku, 0))
            if quantity > 0:
                taken.append(Line(sku, quantity))
                remaining[sku] -= quantity
        chosen.append(SourceAllocation(candidate.location.location_id, distance, tuple(taken)))
    if any(remaining.values()):
        return None
    chosen.sort(key=lambda allocation: (allocation.distance_km, allocation.location_id))
    return SourcingOption(tuple(chosen))


# --- availability -----------------------------------------------------------


@dataclass(frozen=True)
class StockAtLocation:
    location: Location
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def available(self) -> int:
        return available(self.on_hand, self.reserved, self.safety_stock)


@dataclass(frozen=True)
class LocationAvailability:
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
    result = []
    for sku in skus:
        rows = by_sku[sku]
        online = sum(row.available for row in rows if row.location.ship_from_enabled)
        nearby = []
        for row in rows:
            distance = 0.0 if near is None else haversine_km(near, row.location.point)
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


# --- invariants -------------------------------------------------------------

RULE_ON_HAND_NOT_LEDGER_SUM = "ON_HAND_NOT_LEDGER_SUM"
RULE_RESERVED_NOT_ACTIVE_HOLDS = "RESERVED_NOT_ACTIVE_HOLDS"
RULE_NEGATIVE_ON_HAND = "NEGATIVE_ON_HAND"
RULE_NEGATIVE_RESERVED = "NEGATIVE_RESERVED"
RULE_RESERVED_ABOVE_ON_HAND = "RESERVED_ABOVE_ON_HAND"


@dataclass(frozen=True)
class StockAudit:
    """One stock row next to what the ledger and the active holds say it must be."""

    location_id: str
    sku: str
    on_hand: int
    reserved: int
    ledger_sum: int
    active_holds: int


@dataclass(frozen=True)
class InvariantViolation:
    location_id: str
    sku: str
    rule: str
    actual: int
    expected: int


def invariant_violations(audits: Iterable[StockAudit]) -> list[InvariantViolation]:
    """Every broken rule of every row; empty when the stock is healthy."""
    found: list[InvariantViolation] = []
    for row in audits:
        checks = (
            (
                RULE_ON_HAND_NOT_LEDGER_SUM,
                row.on_hand != row.ledger_sum,
                row.on_hand,
                row.ledger_sum,
            ),
            (
                RULE_RESERVED_NOT_ACTIVE_HOLDS,
                row.reserved != row.active_holds,
                row.reserved,
                row.active_holds,
            ),
            (RULE_NEGATIVE_ON_HAND, row.on_hand < 0, row.on_hand, 0),
            (RULE_NEGATIVE_RESERVED, row.reserved < 0, row.reserved, 0),
            # Available would be negative: more held than there is.
            (RULE_RESERVED_ABOVE_ON_HAND, row.reserved > row.on_hand, row.reserved, row.on_hand),
        )
        found.extend(
            InvariantViolation(row.location_id, row.sku, rule, actual, expected)
            for rule, broken, actual, expected in checks
            if broken
        )
    return found
