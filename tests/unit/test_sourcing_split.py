"""Sourcing a split shipment (issue 11): the fewest locations that together fill
the order, nearest first, never more than max_locations."""

from __future__ import annotations

from services.inventory.domain import Line
from tests.unit.test_inventory_domain import candidate, ship, sources


def test_the_fewest_locations_even_where_the_greedy_choice_takes_three():
    # R fills the most units (5), but then P and Q are both still needed: the
    # fewest is P and Q alone.
    candidates = [
        candidate("R", 1, {"A": 3, "B": 2}),
        candidate("P", 5, {"A": 4}),
        candidate("Q", 6, {"B": 4}),
    ]
    assert sources(ship(Line("A", 4), Line("B", 4), max_locations=3), candidates) == [
        [("P", (("A", 4),)), ("Q", (("B", 4),))],
    ]


def test_of_the_sets_of_the_fewest_the_nearest_and_nearest_first():
    candidates = [
        candidate("FAR-A", 90, {"A": 2}),
        candidate("NEAR-B", 3, {"B": 2}),
        candidate("NEAR-A", 4, {"A": 2}),
        candidate("FAR-B", 80, {"B": 2}),
    ]
    assert sources(ship(Line("A", 2), Line("B", 2), max_locations=2), candidates) == [
        [("NEAR-B", (("B", 2),)), ("NEAR-A", (("A", 2),))],
    ]


def test_the_nearest_of_a_set_takes_what_it_can_first():
    candidates = [candidate("FAR", 20, {"A": 5, "B": 1}), candidate("NEAR", 2, {"A": 1, "B": 5})]
    assert sources(ship(Line("A", 3), Line("B", 3), max_locations=2), candidates) == [
        [("NEAR", (("A", 1), ("B", 3))), ("FAR", (("A", 2),))],
    ]


def test_no_split_beyond_max_locations_and_none_when_stock_is_short_overall():
    candidates = [candidate(f"S{i}", i, {f"K{i}": 1}) for i in range(1, 5)]
    lines = [Line(f"K{i}", 1) for i in range(1, 5)]
    assert sources(ship(*lines, max_locations=3), candidates) == []
    assert len(sources(ship(*lines, max_locations=4), candidates)[0]) == 4
    assert sources(ship(Line("K1", 2), max_locations=4), candidates) == []


def test_excluded_and_non_shipping_locations_are_never_part_of_a_split():
    candidates = [
        candidate("X", 1, {"A": 1}),
        candidate("NOSHIP", 2, {"A": 5}, ship=False),
        candidate("Y", 3, {"A": 1}),
        candidate("Z", 4, {"A": 1}),
    ]
    request = ship(Line("A", 2), max_locations=2, exclude=frozenset({"X"}))
    assert sources(request, candidates) == [[("Y", (("A", 1),)), ("Z", (("A", 1),))]]
