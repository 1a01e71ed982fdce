"""Sourcing: which locations can fulfill an order's lines, best first."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from omni.words import Channel, FulfillmentType
from services.common.validation import Violations
from services.inventory.domain.locations import GeoPoint, Location, check_point, haversine_km
from services.inventory.domain.stock import Line, StockAtLocation, check_lines, merge_lines

MAX_SPLIT_LOCATIONS = 10


@dataclass(frozen=True)
class SourceCandidate:
    """A location, what it can give each sku for the channel asked (net of
    safety stock), and how many fulfillments it was assigned today."""

    location: Location
    available: dict[str, int]
    assigned_today: int = 0

    @property
    def capacity_left(self) -> float:
        """Fulfillments it can still take today; a capacity of 0 means no limit."""
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
    fulfillment_type: FulfillmentType | None
    channel: Channel | None = None
    exclude_location_ids: frozenset[str] = frozenset()
    max_locations: int = 1


def check_sourcing_request(request: SourcingRequest, *, destination_given: bool = True) -> None:
    violations = Violations()
    check_lines(violations, "lines", request.lines, allow_zero=False)
    check_point(violations, "destination", request.destination if destination_given else None)
    if request.fulfillment_type not in set(FulfillmentType):
        violations.add("fulfillment_type", "must be one of: " + ", ".join(FulfillmentType))
    if not 0 <= request.max_locations <= MAX_SPLIT_LOCATIONS:
        violations.add("max_locations", f"must be between 0 and {MAX_SPLIT_LOCATIONS}")
    violations.raise_if_any()


def candidates_from(
    stock: Iterable[StockAtLocation], assigned_today: Mapping[str, int]
) -> list[SourceCandidate]:
    """One candidate per location stocking any of the skus."""
    by_location: dict[str, tuple[Location, dict[str, int]]] = {}
    for row in stock:
        entry = by_location.setdefault(row.location.location_id, (row.location, {}))
        entry[1][row.sku] = row.available
    return [
        SourceCandidate(location, available, assigned_today.get(location.location_id, 0))
        for location, available in by_location.values()
    ]


def _eligible(candidate: SourceCandidate, request: SourcingRequest) -> bool:
    location = candidate.location
    if location.location_id in request.exclude_location_ids:
        return False
    if request.fulfillment_type == FulfillmentType.SHIP:
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
    """Ranks ways to fulfill every line.

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
