"""Inventory rules: distances, availability per channel, commits, sourcing."""

from __future__ import annotations

import pytest

from omni.words import Channel, FulfillmentType, LocationKind
from services.common.errors import InvalidArgument, NotFound
from services.common.money import Money
from services.common.validation import Violations
from services.inventory import domain
from services.inventory.domain import (
    GeoPoint,
    Line,
    Location,
    ReservedLine,
    SourceCandidate,
    SourcingRequest,
    StockAtLocation,
)

NYC = GeoPoint(40.7128, -74.0060)
LONDON = GeoPoint(51.5074, -0.1278)


def location(
    location_id: str,
    lat: float,
    lon: float,
    *,
    pickup: bool = True,
    ship: bool = True,
) -> Location:
    return Location(
        location_id=location_id,
        name=location_id,
        kind=LocationKind.STORE,
        point=GeoPoint(lat, lon),
        pickup_enabled=pickup,
        ship_from_enabled=ship,
        daily_order_capacity=100,
        pickup_window_hours=72,
        pick_sla_minutes=120,
    )


# --- distance -------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "expected_km", "tolerance_km"),
    [
        (NYC, NYC, 0.0, 1e-9),
        (NYC, LONDON, 5570.0, 15.0),
        (GeoPoint(0, 0), GeoPoint(0, 1), 111.2, 0.1),
        (GeoPoint(0, 179.5), GeoPoint(0, -179.5), 111.2, 0.1),  # across the antimeridian
        (GeoPoint(90, 0), GeoPoint(-90, 0), 20015.1, 1.0),  # pole to pole
    ],
)
def test_haversine_distances(a: GeoPoint, b: GeoPoint, expected_km: float, tolerance_km: float):
    assert domain.haversine_km(a, b) == pytest.approx(expected_km, abs=tolerance_km)
    assert domain.haversine_km(b, a) == pytest.approx(domain.haversine_km(a, b))


def test_locations_near_filters_by_radius_and_sorts_by_distance_then_id():
    places = [
        location("FAR", 41.5, -74.0),
        location("B", 40.72, -74.0),
        location("A", 40.72, -74.0),
        location("NEAR", 40.7128, -74.0060),
    ]
    ranked = domain.locations_near(places, NYC, 10)
    assert [item.location.location_id for item in ranked] == ["NEAR", "A", "B"]
    assert ranked[0].distance_km == pytest.approx(0.0)
    unlimited = domain.locations_near(places, NYC, 0)
    assert [item.location.location_id for item in unlimited][-1] == "FAR"
    no_point = domain.locations_near(places, None, 10)
    assert [item.location.location_id for item in no_point] == ["A", "B", "FAR", "NEAR"]
    assert {item.distance_km for item in no_point} == {0.0}


# --- availability -----------------------------------------------------------


def test_summarize_availability_lists_nearby_stock_and_online_total():
    near_store = location("S-NEAR", 40.7130, -74.0060, ship=False)
    other_store = location("S-OTHER", 40.7300, -74.0000)
    far_warehouse = location("W-FAR", 42.0, -75.0, pickup=False)
    rows = [
        # What the store reads for the channel: stock_available(on_hand, reserved, safety).
        StockAtLocation(other_store, "A", available=0),  # 5 on hand, 5 reserved
        StockAtLocation(near_store, "A", available=2),  # 4, 1 reserved, 1 safety
        StockAtLocation(far_warehouse, "A", available=85),  # 100, 10 reserved, 5 safety
        StockAtLocation(far_warehouse, "B", available=7),
    ]
    items = domain.summarize_availability(["B", "A", "C"], rows, NYC, 25)
    assert [item.sku for item in items] == ["B", "A", "C"]
    b, a, c = items
    assert b.online_available == 7 and b.locations == ()
    # Ship-from locations count wherever they are; the near store cannot ship.
    assert a.online_available == 0 + 85
    assert [(loc.location_id, loc.available) for loc in a.locations] == [
        ("S-NEAR", 2),
        ("S-OTHER", 0),  # listed though nothing is left
    ]
    assert a.locations[0].pickup_enabled is True
    assert c.online_available == 0 and c.locations == ()


# --- validation -------------------------------------------------------------


def test_location_validation_names_every_bad_field():
    bad = Location(
        location_id="has space",
        name="",
        kind=None,  # not a kind the service knows
        point=GeoPoint(91, -181),
        pickup_enabled=True,
        ship_from_enabled=True,
        daily_order_capacity=-1,
        pickup_window_hours=-1,
        pick_sla_minutes=float("nan"),
    )
    violations = Violations()
    domain.check_location(bad, violations)
    assert {v.field for v in violations.items} == {
        "location.location_id",
        "location.name",
        "location.kind",
        "location.point.lat",
        "location.point.lon",
        "location.daily_order_capacity",
        "location.pickup_window_hours",
        "location.pick_sla_minutes",
    }
    with pytest.raises(InvalidArgument):
        violations.raise_if_any()


def test_location_defaults_apply_only_to_zero_durations():
    fractional = location("S1", 0, 0)
    fractional = domain.with_default_durations(
        Location(**{**fractional.__dict__, "pickup_window_hours": 0.002, "pick_sla_minutes": 0})
    )
    assert fractional.pickup_window_hours == 0.002
    assert fractional.pick_sla_minutes == domain.DEFAULT_PICK_SLA_MINUTES
    zero = domain.with_default_durations(
        Location(**{**location("S2", 0, 0).__dict__, "pickup_window_hours": 0})
    )
    assert zero.pickup_window_hours == domain.DEFAULT_PICKUP_WINDOW_HOURS


@pytest.mark.parametrize(
    ("amount", "currency", "days", "bad_fields"),
    [
        (100, "USD", 30, set()),
        (0, "USD", 30, {"product.price.amount_minor"}),
        (100, "usd", 30, {"product.price.currency"}),
        (100, "US", -1, {"product.price.currency", "product.returnable_days"}),
    ],
)
def test_product_validation(amount: int, currency: str, days: int, bad_fields: set[str]):
    product = domain.Product("SKU-1", "Mug", Money(amount, currency), days)
    violations = Violations()
    domain.check_product(product, violations)
    assert {v.field for v in violations.items} == bad_fields


def test_reservation_request_validation_and_merged_fingerprint():
    request = domain.ReservationRequest(
        "R1", "O1", "S1", (Line("B", 1), Line("A", 2), Line("B", 3)), Channel.WEB, 0
    )
    domain.check_reservation_request(request)
    merged = domain.ReservationRequest(
        "R1", "O1", "S1", (Line("A", 2), Line("B", 4)), Channel.WEB, 0
    )
    assert request.fingerprint() == merged.fingerprint()
    other = domain.ReservationRequest(
        "R1", "O1", "S1", (Line("A", 2), Line("B", 5)), Channel.WEB, 0
    )
    assert other.fingerprint() != merged.fingerprint()

    bad = domain.ReservationRequest(
        "", "O1", "S1", (Line("A", 0), Line("B", 1_000_001)), Channel.WEB, -5
    )
    with pytest.raises(InvalidArgument) as raised:
        domain.check_reservation_request(bad)
    assert {v.field for v in raised.value.violations} == {
        "reservation_id",
        "lines[0].quantity",
        "lines[1].quantity",
        "ttl_seconds",
    }


def test_merged_lines_over_the_limit_are_refused():
    request = domain.ReservationRequest(
        "R1", "", "S1", (Line("A", 600_000), Line("A", 600_000)), None, 0
    )
    with pytest.raises(InvalidArgument) as raised:
        domain.check_reservation_request(request)
    assert [v.field for v in raised.value.violations] == ["lines"]


def test_merge_lines_sums_and_orders_by_sku():
    merged = domain.merge_lines([Line("C", 1), Line("A", 2), Line("C", 4)])
    assert merged == [Line("A", 2), Line("C", 5)]


def test_require_all_found_names_the_missing():
    with pytest.raises(NotFound, match="X, Z"):
        domain.require_all_found(["A", "X", "Z", "X"], ["A"], "sku")


# --- commit plans -----------------------------------------------------------


def test_commit_everything_when_no_lines_given():
    plan = domain.plan_commit([ReservedLine("B", 2), ReservedLine("A", 3)], [])
    assert plan.sold == {"A": 3, "B": 2}
    assert plan.released == {"A": 0, "B": 0}


def test_short_pick_commits_some_and_releases_the_rest():
    plan = domain.plan_commit([ReservedLine("A", 3), ReservedLine("B", 2)], [Line("A", 1)])
    assert plan.sold == {"A": 1, "B": 0}
    assert plan.released == {"A": 2, "B": 2}


def test_commit_refuses_more_than_reserved_or_foreign_skus():
    with pytest.raises(InvalidArgument) as raised:
        domain.plan_commit([ReservedLine("A", 3)], [Line("A", 4), Line("Z", 1)])
    assert {v.field for v in raised.value.violations} == {"lines[0].quantity", "lines[1].sku"}


def test_shortage_metadata_format():
    assert domain.shortage_metadata([("ABC", 3, 5)]) == {"sku:ABC": "available=3 requested=5"}


# --- sourcing -----------------------------------------------------------------

DESTINATION = GeoPoint(40.0, -74.0)


def at_km_north(location_id: str, km: float, **flags: bool) -> Location:
    """A location `km` kilometres north of DESTINATION."""
    return location(location_id, DESTINATION.lat + km / 111.195, DESTINATION.lon, **flags)


def candidate(location_id: str, km: float, stock: dict[str, int], **flags: bool):
    return SourceCandidate(at_km_north(location_id, km, **flags), stock)


def sources(request: SourcingRequest, candidates: list[SourceCandidate]) -> list[list[tuple]]:
    """Options as [[(location_id, ((sku, qty), ...)), ...], ...] for readable asserts."""
    return [
        [
            (a.location_id, tuple((line.sku, line.quantity) for line in a.lines))
            for a in option.allocations
        ]
        for option in domain.find_sources(request, candidates)
    ]


def ship(*lines: Line, max_locations: int = 1, exclude: frozenset[str] = frozenset()):
    return SourcingRequest(
        lines=lines,
        destination=DESTINATION,
        fulfillment_type=FulfillmentType.SHIP,
        channel=Channel.WEB,
        exclude_location_ids=exclude,
        max_locations=max_locations,
    )


def test_single_location_options_nearest_first():
    candidates = [
        candidate("FAR", 50, {"A": 5}),
        candidate("NEAR", 5, {"A": 5}),
        candidate("MID", 20, {"A": 5}),
        candidate("SHORT", 1, {"A": 1}),
    ]
    assert sources(ship(Line("A", 2)), candidates) == [
        [("NEAR", (("A", 2),))],
        [("MID", (("A", 2),))],
        [("FAR", (("A", 2),))],
    ]


def test_distance_ties_prefer_more_stock_then_location_id():
    candidates = [
        candidate("C", 10, {"A": 5}),
        candidate("B", 10, {"A": 9}),
        candidate("A", 10, {"A": 5}),
    ]
    assert [option[0][0] for option in sources(ship(Line("A", 1)), candidates)] == ["B", "A", "C"]


def test_exclusions_are_never_offered():
    candidates = [candidate("NEAR", 1, {"A": 5}), candidate("FAR", 9, {"A": 5})]
    request = ship(Line("A", 1), exclude=frozenset({"NEAR"}))
    assert sources(request, candidates) == [[("FAR", (("A", 1),))]]


def test_ship_uses_ship_from_locations_and_pickup_uses_pickup_locations():
    candidates = [
        candidate("STORE-NO-SHIP", 1, {"A": 5}, ship=False),
        candidate("WAREHOUSE", 30, {"A": 5}, pickup=False),
    ]
    assert sources(ship(Line("A", 1)), candidates) == [[("WAREHOUSE", (("A", 1),))]]
    pickup = SourcingRequest((Line("A", 1),), DESTINATION, FulfillmentType.PICKUP)
    assert sources(pickup, candidates) == [[("STORE-NO-SHIP", (("A", 1),))]]


def test_whole_order_from_one_location_beats_a_nearer_split():
    candidates = [
        candidate("NEAR-A", 1, {"A": 2}),
        candidate("NEAR-B", 2, {"B": 2}),
        candidate("FAR-BOTH", 40, {"A": 2, "B": 2}),
    ]
    request = ship(Line("A", 2), Line("B", 2), max_locations=3)
    assert sources(request, candidates) == [[("FAR-BOTH", (("A", 2), ("B", 2)))]]


def test_split_over_fewest_locations_listed_nearest_first():
    candidates = [
        candidate("TINY", 1, {"A": 1}),
        candidate("HAS-A", 10, {"A": 3}),
        candidate("HAS-B", 5, {"B": 3, "A": 1}),
    ]
    request = ship(Line("A", 3), Line("B", 2), max_locations=3)
    # HAS-B (nearer) and HAS-A each fill 3 units; HAS-A then covers the rest of A.
    # Two locations, not three: TINY is never needed.
    assert sources(request, candidates) == [
        [("HAS-B", (("A", 1), ("B", 2))), ("HAS-A", (("A", 2),))],
    ]


def test_split_takes_partial_quantities():
    candidates = [candidate("X", 1, {"A": 2}), candidate("Y", 2, {"A": 2})]
    request = ship(Line("A", 3), max_locations=2)
    assert sources(request, candidates) == [[("X", (("A", 2),)), ("Y", (("A", 1),))]]


def test_no_split_when_max_locations_is_zero_or_one():
    candidates = [candidate("X", 1, {"A": 2}), candidate("Y", 2, {"A": 2})]
    assert sources(ship(Line("A", 3), max_locations=0), candidates) == []
    assert sources(ship(Line("A", 3), max_locations=1), candidates) == []


def test_split_limited_by_max_locations():
    candidates = [
        candidate("X", 1, {"A": 1}),
        candidate("Y", 2, {"A": 1}),
        candidate("Z", 3, {"A": 1}),
    ]
    assert sources(ship(Line("A", 3), max_locations=2), candidates) == []
    assert len(sources(ship(Line("A", 3), max_locations=3), candidates)[0]) == 3


def test_nothing_available_gives_no_options():
    candidates = [candidate("X", 1, {"A": 0}), candidate("Y", 2, {"B": 5})]
    assert sources(ship(Line("A", 1), max_locations=3), candidates) == []
    assert sources(ship(Line("A", 1)), []) == []


def test_lines_with_the_same_sku_are_merged_before_sourcing():
    candidates = [candidate("NEAR", 1, {"A": 2}), candidate("FAR", 9, {"A": 3})]
    assert sources(ship(Line("A", 1), Line("A", 2)), candidates) == [[("FAR", (("A", 3),))]]


def test_sourcing_request_validation():
    bad = SourcingRequest((), GeoPoint(100, 0), None, max_locations=-1)  # no such type
    with pytest.raises(InvalidArgument) as raised:
        domain.check_sourcing_request(bad)
    assert {v.field for v in raised.value.violations} == {
        "lines",
        "destination.lat",
        "fulfillment_type",
        "max_locations",
    }
    with pytest.raises(InvalidArgument) as missing:
        domain.check_sourcing_request(ship(Line("A", 1)), destination_given=False)
    assert [v.field for v in missing.value.violations] == ["destination"]
