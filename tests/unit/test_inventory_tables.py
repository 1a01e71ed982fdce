"""Table tests: availability per channel, sourcing ranks, stock invariants."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from omni.words import Channel, FulfillmentType, LocationKind
from services.inventory import domain
from services.inventory.domain import (
    GeoPoint,
    Line,
    Location,
    SourceCandidate,
    SourcingRequest,
    StockAtLocation,
    StockAudit,
)

DESTINATION = GeoPoint(40.0, -74.0)
KM_PER_DEGREE_LAT = 111.195


def store(
    location_id: str, km_north: float, *, capacity: int = 0, pickup: bool = True, ship: bool = True
) -> Location:
    return Location(
        location_id=location_id,
        name=location_id,
        kind=LocationKind.STORE,
        point=GeoPoint(DESTINATION.lat + km_north / KM_PER_DEGREE_LAT, DESTINATION.lon),
        pickup_enabled=pickup,
        ship_from_enabled=ship,
        daily_order_capacity=capacity,
        pickup_window_hours=72,
        pick_sla_minutes=120,
    )


# --- availability -------------------------------------------------------------------
# What a channel may sell is the SQL function stock_available(): its table test
# runs on PostgreSQL (tests/integration/test_inventory_available.py).


def test_online_total_counts_only_ship_from_locations_and_lists_zero_rows():
    rows = [
        # Available for the channel: 10 on hand - 2 reserved - 3 safety, 7, 4 - 4, 9.
        StockAtLocation(store("SHIPS", 2), "A", 5),
        StockAtLocation(store("PICKUP-ONLY", 1, ship=False), "A", 7),
        StockAtLocation(store("SOLD-OUT", 3), "A", 0),
        StockAtLocation(store("FAR", 500), "A", 9),
    ]
    [item] = domain.summarize_availability(["A"], rows, DESTINATION, radius_km=25)
    assert item.online_available == 5 + 0 + 9
    assert [(loc.location_id, loc.available) for loc in item.locations] == [
        ("PICKUP-ONLY", 7),
        ("SHIPS", 5),
        ("SOLD-OUT", 0),
    ]


# --- sourcing ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    candidates: list[SourceCandidate]
    lines: tuple[Line, ...]
    expected: list[list[str]]  # option by option: the location ids used
    fulfillment: FulfillmentType = FulfillmentType.SHIP
    max_locations: int = 1
    exclude: frozenset[str] = field(default_factory=frozenset)


SOURCING_CASES = {
    "nearest-first": Case(
        [
            SourceCandidate(store("FAR", 30), {"A": 5}),
            SourceCandidate(store("NEAR", 3), {"A": 5}),
            SourceCandidate(store("MID", 10), {"A": 5}),
        ],
        (Line("A", 2),),
        [["NEAR"], ["MID"], ["FAR"]],
    ),
    "distance-tie-more-capacity-left-wins": Case(
        [
            SourceCandidate(store("BUSY", 5, capacity=10), {"A": 9}, assigned_today=9),
            SourceCandidate(store("QUIET", 5, capacity=10), {"A": 2}, assigned_today=1),
        ],
        (Line("A", 1),),
        [["QUIET"], ["BUSY"]],
    ),
    "distance-tie-same-capacity-more-stock-wins": Case(
        [
            SourceCandidate(store("B", 5, capacity=10), {"A": 3}, assigned_today=2),
            SourceCandidate(store("C", 5, capacity=10), {"A": 8}, assigned_today=2),
        ],
        (Line("A", 1),),
        [["C"], ["B"]],
    ),
    "full-tie-by-location-id": Case(
        [
            SourceCandidate(store("Z", 5), {"A": 3}),
            SourceCandidate(store("M", 5), {"A": 3}),
        ],
        (Line("A", 1),),
        [["M"], ["Z"]],
    ),
    "no-limit-beats-limited-on-a-tie": Case(
        [
            SourceCandidate(store("LIMITED", 5, capacity=100), {"A": 3}),
            SourceCandidate(store("UNLIMITED", 5, capacity=0), {"A": 3}),
        ],
        (Line("A", 1),),
        [["UNLIMITED"], ["LIMITED"]],
    ),
    # Issue 11: capacity is a hard limit, a full store is passed over (it was ranked last).
    "capacity-exhausted-is-passed-over-even-when-nearest": Case(
        [
            SourceCandidate(store("NEAR-FULL", 1, capacity=5), {"A": 9}, assigned_today=5),
            SourceCandidate(store("FAR-FREE", 40, capacity=5), {"A": 9}, assigned_today=4),
            SourceCandidate(store("MID-OVER", 10, capacity=5), {"A": 9}, assigned_today=7),
        ],
        (Line("A", 1),),
        [["FAR-FREE"]],
    ),
    "every-store-full-leaves-no-source": Case(
        [SourceCandidate(store("FULL", 1, capacity=1), {"A": 9}, assigned_today=1)],
        (Line("A", 1),),
        [],
        max_locations=3,
    ),
    "stock-net-of-safety-decides-who-can-fill": Case(
        # `available` is what the store hands the domain: already net of safety stock.
        [
            SourceCandidate(store("NEAR", 1), {"A": 1}),
            SourceCandidate(store("FAR", 9), {"A": 4}),
        ],
        (Line("A", 2),),
        [["FAR"]],
    ),
    "exclusions-are-never-offered": Case(
        [
            SourceCandidate(store("NEAR", 1), {"A": 5}),
            SourceCandidate(store("FAR", 9), {"A": 5}),
        ],
        (Line("A", 1),),
        [["FAR"]],
        exclude=frozenset({"NEAR"}),
    ),
    "ship-never-from-ship-disabled": Case(
        [
            SourceCandidate(store("NO-SHIP", 1, ship=False), {"A": 5}),
            SourceCandidate(store("SHIPS", 9), {"A": 5}),
        ],
        (Line("A", 1),),
        [["SHIPS"]],
    ),
    "pickup-never-at-pickup-disabled": Case(
        [
            SourceCandidate(store("NO-PICKUP", 1, pickup=False), {"A": 5}),
            SourceCandidate(store("PICKUP", 9), {"A": 5}),
        ],
        (Line("A", 1),),
        [["PICKUP"]],
        fulfillment=FulfillmentType.PICKUP,
    ),
    "whole-order-beats-nearer-split": Case(
        [
            SourceCandidate(store("A-ONLY", 1), {"A": 5}),
            SourceCandidate(store("B-ONLY", 2), {"B": 5}),
            SourceCandidate(store("BOTH", 50), {"A": 5, "B": 5}),
        ],
        (Line("A", 1), Line("B", 1)),
        [["BOTH"]],
        max_locations=3,
    ),
    "split-within-the-limit": Case(
        [
            SourceCandidate(store("A-ONLY", 1), {"A": 5}),
            SourceCandidate(store("B-ONLY", 2), {"B": 5}),
        ],
        (Line("A", 1), Line("B", 1)),
        [["A-ONLY", "B-ONLY"]],
        max_locations=2,
    ),
    "split-over-the-limit-gives-nothing": Case(
        [
            SourceCandidate(store("A-ONLY", 1), {"A": 5}),
            SourceCandidate(store("B-ONLY", 2), {"B": 5}),
            SourceCandidate(store("C-ONLY", 3), {"C": 5}),
        ],
        (Line("A", 1), Line("B", 1), Line("C", 1)),
        [],
        max_locations=2,
    ),
    "no-split-allowed-gives-nothing": Case(
        [
            SourceCandidate(store("A-ONLY", 1), {"A": 5}),
            SourceCandidate(store("B-ONLY", 2), {"B": 5}),
        ],
        (Line("A", 1), Line("B", 1)),
        [],
        max_locations=1,
    ),
    "split-never-uses-a-full-location": Case(
        [
            SourceCandidate(store("FULL", 1, capacity=3), {"A": 5}, assigned_today=3),
            SourceCandidate(store("FREE", 8, capacity=3), {"A": 5}),
            SourceCandidate(store("B-ONLY", 2), {"B": 5}),
        ],
        (Line("A", 1), Line("B", 1)),
        [["B-ONLY", "FREE"]],
        max_locations=2,
    ),
    "nothing-in-stock": Case(
        [SourceCandidate(store("EMPTY", 1), {"A": 0})],
        (Line("A", 1),),
        [],
        max_locations=3,
    ),
}


@pytest.mark.parametrize("case", SOURCING_CASES.values(), ids=SOURCING_CASES.keys())
def test_find_sources(case: Case):
    request = SourcingRequest(
        lines=case.lines,
        destination=DESTINATION,
        fulfillment_type=case.fulfillment,
        channel=Channel.WEB,
        exclude_location_ids=case.exclude,
        max_locations=case.max_locations,
    )
    options = domain.find_sources(request, case.candidates)
    assert [[a.location_id for a in option.allocations] for option in options] == case.expected
    # Deterministic: the same input in another order ranks the same.
    again = domain.find_sources(request, list(reversed(case.candidates)))
    assert again == options


@pytest.mark.parametrize(
    ("capacity", "assigned", "left"),
    [(0, 0, float("inf")), (0, 500, float("inf")), (10, 3, 7), (10, 10, 0), (10, 12, 0)],
)
def test_capacity_left_today(capacity: int, assigned: int, left: float):
    candidate = SourceCandidate(store("S", 1, capacity=capacity), {}, assigned_today=assigned)
    assert candidate.capacity_left == left


# --- invariants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audit", "rules"),
    [
        pytest.param(StockAudit("S", "A", 10, 3, 10, 3), [], id="healthy"),
        pytest.param(StockAudit("S", "A", 0, 0, 0, 0), [], id="empty-healthy"),
        pytest.param(
            StockAudit("S", "A", 10, 3, 9, 3), [("ON_HAND_NOT_LEDGER_SUM", 10, 9)], id="ledger"
        ),
        pytest.param(
            StockAudit("S", "A", 10, 3, 10, 5),
            [("RESERVED_NOT_ACTIVE_HOLDS", 3, 5)],
            id="holds",
        ),
        pytest.param(
            StockAudit("S", "A", -1, 0, -1, 0),
            [("NEGATIVE_ON_HAND", -1, 0), ("RESERVED_ABOVE_ON_HAND", 0, -1)],
            id="negative",
        ),
        pytest.param(
            StockAudit("S", "A", 2, 4, 2, 4),
            [("RESERVED_ABOVE_ON_HAND", 4, 2)],
            id="oversold",
        ),
        pytest.param(
            StockAudit("S", "A", 2, -1, 3, 0),
            [
                ("ON_HAND_NOT_LEDGER_SUM", 2, 3),
                ("RESERVED_NOT_ACTIVE_HOLDS", -1, 0),
                ("NEGATIVE_RESERVED", -1, 0),
            ],
            id="several-at-once",
        ),
    ],
)
def test_invariant_violations(audit: StockAudit, rules: list[tuple[str, int, int]]):
    found = domain.invariant_violations([audit])
    assert [(v.rule, v.actual, v.expected) for v in found] == rules
    assert all((v.location_id, v.sku) == ("S", "A") for v in found)
