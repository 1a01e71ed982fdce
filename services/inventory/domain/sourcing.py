"""Sourcing: which locations can fulfill an order's lines, best first."""

from __future__ import annotations

import itertools
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
    # daily_order_capacity is a hard limit: a store whose day is full is passed over.
    if candidate.capacity_left <= 0:
        return False
    if request.fulfillment_type == FulfillmentType.SHIP:
        return location.ship_from_enabled
    return location.pickup_enabled


def _rank_key(
    distance_km: float, candidate: SourceCandidate, needed: Sequence[Line]
) -> tuple[float, float, int, str]:
    """Nearest, then more capacity left today, more stock, id."""
    capacity_left = candidate.capacity_left
    return (
        distance_km,
        -capacity_left,
        -sum(candidate.available.get(line.sku, 0) for line in needed),
        candidate.location.location_id,
    )


def find_sources(
    request: SourcingRequest, candidates: Iterable[SourceCandidate]
) -> list[SourcingOption]:
    """Ranks ways to fulfill every line.

    A location whose daily_order_capacity is used up for its own day is
    passed over (a hard limit; the reservation trigger enforces it too).
    Single locations that can fill everything come first, ranked by
    `_rank_key`: nearest first (haversine), more capacity left,
    more stock of the lines (net of safety stock), location id. Only when none
    can, and a split is allowed, one option over the fewest locations that
    together can, nearest first (`_fewest_split`).
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
    split = _fewest_split(needed, ranked, request.max_locations)
    return [split] if split is not None else []


# A split is searched exactly over this many of the best-ranked locations that
# stock something of the order (C(12, k) sets at most); beyond, greedily.
EXACT_SPLIT_CANDIDATES = 12


def _fewest_split(
    needed: list[Line],
    ranked: list[tuple[float, SourceCandidate]],
    max_locations: int,
) -> SourcingOption | None:
    """The fewest locations (at most `max_locations`) that together fill every
    line: of the sets of that size, the nearest in total distance (the best
    ranked on ties). Each location, nearest first, takes what it can of what is
    left. Falls back to the greedy split when no set of the best-ranked
    candidates can."""
    useful = [
        pair
        for pair in ranked
        if any(pair[1].available.get(line.sku, 0) > 0 for line in needed)
        and pair[1].capacity_left > 0
    ][:EXACT_SPLIT_CANDIDATES]
    for size in range(2, max_locations + 1):
        best: tuple[float, list[int]] | None = None
        for chosen in itertools.combinations(range(len(useful)), size):
            if not all(
                sum(useful[i][1].available.get(line.sku, 0) for i in chosen) >= line.quantity
                for line in needed
            ):
                continue
            distance = sum(useful[i][0] for i in chosen)
            if best is None or distance < best[0]:
                best = (distance, list(chosen))
        if best is not None:
            return _allocate(needed, [useful[i] for i in best[1]])
    return _greedy_split(needed, ranked, max_locations)


def _allocate(
    needed: list[Line], chosen: list[tuple[float, SourceCandidate]]
) -> SourcingOption | None:
    """Nearest first, each location takes what it can of what is left; None
    when one of them would be left with nothing (the set was not the fewest)."""
    remaining = {line.sku: line.quantity for line in needed}
    allocations: list[SourceAllocation] = []
    for distance, candidate in sorted(chosen, key=lambda p: (p[0], p[1].location.location_id)):
        taken: list[Line] = []
        for line in needed:
            quantity = min(remaining[line.sku], candidate.available.get(line.sku, 0))
            if quantity > 0:
                taken.append(Line(line.sku, quantity))
                remaining[line.sku] -= quantity
        if not taken:
            return None
        allocations.append(SourceAllocation(candidate.location.location_id, distance, tuple(taken)))
    return SourcingOption(tuple(allocations))


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
