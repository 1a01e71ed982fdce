"""Locations: what they are, where they are, and how far from a point."""

from __future__ import annotations

import math
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from omni.words import LocationKind
from services.common.validation import Violations

DEFAULT_PICKUP_WINDOW_HOURS = 72.0
DEFAULT_PICK_SLA_MINUTES = 120.0
DEFAULT_CURBSIDE_SLA_MINUTES = 10.0
DEFAULT_TIMEZONE = "UTC"
EARTH_RADIUS_KM = 6371.0088
# Names, actors, references and reservation ids: the columns hold 200 characters.
MAX_TEXT = 200
# The tax_region column's width.
MAX_TAX_REGION = 32


@dataclass(frozen=True)
class GeoPoint:
    lat: float
    lon: float


@dataclass(frozen=True)
class Location:
    location_id: str
    name: str
    kind: LocationKind | None  # None: not given, or not a kind this service knows
    point: GeoPoint
    pickup_enabled: bool
    ship_from_enabled: bool
    daily_order_capacity: int
    pickup_window_hours: float
    pick_sla_minutes: float
    # Where a sale at or a pickup from here is taxed ("US-CA"); "" none.
    tax_region: str = ""
    # The IANA time zone its day is counted in (daily_order_capacity).
    timezone: str = DEFAULT_TIMEZONE
    # How long a curbside hand-off may take once the customer arrived (0: default).
    curbside_sla_minutes: float = 0.0


@dataclass(frozen=True)
class LocationChanges:
    """A PATCH of a location: None leaves the field as it is."""

    name: str | None = None
    kind: LocationKind | None = None
    point: GeoPoint | None = None
    pickup_enabled: bool | None = None
    ship_from_enabled: bool | None = None
    daily_order_capacity: int | None = None
    pickup_window_hours: float | None = None
    pick_sla_minutes: float | None = None
    tax_region: str | None = None
    timezone: str | None = None
    curbside_sla_minutes: float | None = None

    def given(self) -> dict[str, object]:
        return {name: value for name, value in vars(self).items() if value is not None}


def changed_location(location: Location, changes: LocationChanges) -> Location:
    """The location after a PATCH (its id never changes); check it with
    check_location. Durations of 0 mean the defaults, as on create."""
    return with_default_durations(replace(location, **changes.given()))  # type: ignore[arg-type]


@dataclass(frozen=True)
class LocationWithDistance:
    location: Location
    distance_km: float


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def within_radius(distance_km: float, radius_km: float) -> bool:
    """A radius of 0 means no limit."""
    return radius_km <= 0 or distance_km <= radius_km


def check_point(violations: Violations, field_name: str, point: GeoPoint | None) -> None:
    if point is None:
        violations.add(field_name, "is required")
        return
    if not (math.isfinite(point.lat) and -90 <= point.lat <= 90):
        violations.add(f"{field_name}.lat", "must be between -90 and 90")
    if not (math.isfinite(point.lon) and -180 <= point.lon <= 180):
        violations.add(f"{field_name}.lon", "must be between -180 and 180")


def check_radius(violations: Violations, field_name: str, radius_km: float) -> None:
    if not math.isfinite(radius_km) or radius_km < 0:
        violations.add(field_name, "must be a number >= 0 (0: no limit)")


def check_location(
    location: Location,
    violations: Violations,
    *,
    point_given: bool = True,
    prefix: str = "location",
) -> None:
    violations.check_id(f"{prefix}.location_id", location.location_id)
    violations.check_text(f"{prefix}.name", location.name, required=True, max_length=MAX_TEXT)
    if location.kind not in set(LocationKind):
        violations.add(f"{prefix}.kind", "must be one of: " + ", ".join(LocationKind))
    check_point(violations, f"{prefix}.point", location.point if point_given else None)
    if location.daily_order_capacity < 0:
        violations.add(f"{prefix}.daily_order_capacity", "must be >= 0")
    violations.check_text(f"{prefix}.tax_region", location.tax_region, max_length=MAX_TAX_REGION)
    if location.timezone and not is_time_zone(location.timezone):
        violations.add(f"{prefix}.timezone", "must be an IANA time zone name (e.g. Europe/Paris)")
    for name, value in (
        ("pickup_window_hours", location.pickup_window_hours),
        ("pick_sla_minutes", location.pick_sla_minutes),
        ("curbside_sla_minutes", location.curbside_sla_minutes),
    ):
        if not math.isfinite(value) or value < 0:
            violations.add(f"{prefix}.{name}", "must be a number >= 0 (0: the default)")


def is_time_zone(name: str) -> bool:
    """An IANA time zone this machine knows (PostgreSQL knows the same names)."""
    if not name or len(name) > 64 or name.startswith(("/", ".")) or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def with_default_durations(location: Location) -> Location:
    """Zero durations mean "use the default": 72 h to collect, 120 min to pick,
    10 min to hand over at the curb; no time zone means UTC."""
    return replace(
        location,
        pickup_window_hours=location.pickup_window_hours or DEFAULT_PICKUP_WINDOW_HOURS,
        pick_sla_minutes=location.pick_sla_minutes or DEFAULT_PICK_SLA_MINUTES,
        curbside_sla_minutes=location.curbside_sla_minutes or DEFAULT_CURBSIDE_SLA_MINUTES,
        timezone=location.timezone or DEFAULT_TIMEZONE,
    )


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


def page_key(item: LocationWithDistance) -> tuple[float, str]:
    """The keyset a page of locations is cut on: the order `locations_near` sorts in."""
    return (item.distance_km, item.location.location_id)


def after_key(
    ranked: list[LocationWithDistance], key: Sequence[object] | None
) -> list[LocationWithDistance] | None:
    """The locations after a cursor's key; None when the key is not one `page_key` made."""
    if key is None:
        return ranked
    distance, location_id = key
    if not isinstance(distance, int | float) or not isinstance(location_id, str):
        return None
    return [item for item in ranked if page_key(item) > (float(distance), location_id)]
