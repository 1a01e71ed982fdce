"""Inventory's use cases on an in-memory store (inventory_fakes.py): no
PostgreSQL, milliseconds. A unit of work that is not committed puts the fake's
state back, so "refused and changed nothing" is asserted here too. One test or
two per use case and its refusals: longer than 400 lines for fifteen RPCs.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import (
    Channel,
    FulfillmentType,
    LocationKind,
    ReservationStatus,
    StockMovementReason,
)
from services.common.errors import (
    AlreadyExists,
    BusinessRuleViolation,
    Conflict,
    InvalidArgument,
    NotFound,
)
from services.common.money import Money
from services.inventory import mapping, use_cases
from services.inventory.domain import (
    Adjustment,
    AvailabilityQuery,
    GeoPoint,
    Line,
    Location,
    Product,
    ReservationRequest,
    SafetyStock,
    SourcingRequest,
)
from services.inventory.use_cases import Inventory, KeyedReply
from tests.unit.inventory_fakes import FakeChanges, FakeStore, inventory_on

HERE = GeoPoint(40.0, -74.0)


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def inventory(store: FakeStore) -> Inventory:
    return inventory_on(store)


# --- helpers ---------------------------------------------------------------------------


def a_location(location_id: str, km_north: float = 0.0, **changes: Any) -> Location:
    location = Location(
        location_id=location_id,
        name=f"Store {location_id}",
        kind=LocationKind.STORE,
        point=GeoPoint(HERE.lat + km_north / 111.195, HERE.lon),
        pickup_enabled=True,
        ship_from_enabled=True,
        daily_order_capacity=0,
        pickup_window_hours=0,
        pick_sla_minutes=0,
    )
    return replace(location, **changes)


async def place(inventory: Inventory, location_id: str, km: float = 0.0, **changes: Any) -> None:
    location = a_location(location_id, km, **changes)
    await use_cases.create_location(inventory, location, point_given=True)


def keyed(request: pb.AdjustStockRequest) -> KeyedReply[pb.AdjustStockResponse]:
    return KeyedReply(request, pb.AdjustStockResponse, mapping.adjust_stock_response)


async def adjust(
    inventory: Inventory,
    location_id: str,
    sku: str,
    delta: int,
    *,
    key: str = "",
    reason: StockMovementReason = StockMovementReason.RECEIPT,
) -> pb.AdjustStockResponse:
    key = key or f"adj-{location_id}-{sku}-{delta}"
    request = pb.AdjustStockRequest(
        idempotency_key=key,
        location_id=location_id,
        sku=sku,
        delta=delta,
        reason=reason.to_proto(),
    )
    adjustment = Adjustment(key, location_id, sku, delta, reason)
    return await use_cases.adjust_stock(inventory, adjustment, keyed(request))


async def stocked(inventory: Inventory, location_id: str, sku: str, quantity: int) -> None:
    """A new product with `quantity` on hand at a location that exists."""
    await use_cases.create_product(inventory, Product(sku, sku, Money(500, "USD"), 30))
    await adjust(inventory, location_id, sku, quantity)


def reserve(
    location_id: str,
    lines: dict[str, int],
    reservation_id: str = "R1",
    *,
    channel: Channel | None = Channel.WEB,
    ttl_seconds: int = 0,
) -> ReservationRequest:
    return ReservationRequest(
        reservation_id,
        "O1",
        location_id,
        tuple(Line(sku, quantity) for sku, quantity in lines.items()),
        channel,
        ttl_seconds,
    )


async def level(inventory: Inventory, location_id: str, sku: str) -> tuple[int, int, int]:
    found = await use_cases.get_stock(inventory, location_id, sku)
    return found.on_hand, found.reserved, found.available


# --- locations and products ------------------------------------------------------------


async def test_a_location_gets_default_durations_and_bad_ones_name_each_field(
    inventory: Inventory,
):
    created = await use_cases.create_location(inventory, a_location("S1"), point_given=True)
    assert (created.pickup_window_hours, created.pick_sla_minutes) == (72.0, 120.0)
    assert await use_cases.get_location(inventory, "S1") == created
    with pytest.raises(AlreadyExists):
        await use_cases.create_location(inventory, a_location("S1"), point_given=True)

    bad = a_location("has space", kind=None, daily_order_capacity=-1)
    with pytest.raises(InvalidArgument) as raised:
        await use_cases.create_location(inventory, bad, point_given=False)
    assert {v.field for v in raised.value.violations} == {
        "location.location_id",
        "location.kind",
        "location.point",
        "location.daily_order_capacity",
    }


async def test_an_unknown_location_is_not_found_by_id(inventory: Inventory):
    with pytest.raises(NotFound) as raised:
        await use_cases.get_location(inventory, "NOWHERE")
    assert (raised.value.resource_type, raised.value.ids) == ("location", ["NOWHERE"])


async def test_locations_page_nearest_first_with_opaque_cursors(inventory: Inventory):
    for location_id, km in (("FAR", 9), ("NEAR", 1), ("MID", 5), ("OUT", 40)):
        await place(inventory, location_id, km)

    async def listed(limit: int, token: str, near: GeoPoint | None = HERE) -> Any:
        return await use_cases.list_locations(
            inventory,
            near=near,
            radius_km=10,
            pickup_enabled_only=False,
            limit=limit,
            page_token=token,
        )

    pages, token = [], ""
    while True:
        page = await listed(2, token)
        pages.append([item.location.location_id for item in page.items])
        token = page.next_cursor
        if not token:
            break
    assert pages == [["NEAR", "MID"], ["FAR"]]
    by_id = await listed(3, "", near=None)
    assert [item.location.location_id for item in by_id.items] == ["FAR", "MID", "NEAR"]

    for garbage in ("garbage", "WzFd", '["x", 1]'):
        with pytest.raises(InvalidArgument) as raised:
            await listed(2, garbage)
        assert [v.field for v in raised.value.violations] == ["page_token"]
    with pytest.raises(InvalidArgument):
        await listed(201, "")


async def test_products_come_in_the_order_asked_and_unknown_skus_are_named(inventory: Inventory):
    for sku in ("A", "B"):
        await use_cases.create_product(inventory, Product(sku, sku, Money(100, "USD"), 30))
    found = await use_cases.get_products(inventory, ["B", "A"])
    assert [p.sku for p in found] == ["B", "A"]
    assert await use_cases.get_products(inventory, []) == []
    with pytest.raises(NotFound) as raised:
        await use_cases.get_products(inventory, ["A", "X", "Y", "X"])
    assert (raised.value.resource_type, raised.value.ids) == ("product", ["X", "Y"])
    with pytest.raises(InvalidArgument) as bad:
        await use_cases.create_product(inventory, Product("C", "", Money(0, "usd"), -1))
    assert len(bad.value.violations) == 4
    with pytest.raises(AlreadyExists):
        await use_cases.create_product(inventory, Product("A", "A", Money(100, "USD"), 30))


# --- stock adjustments -----------------------------------------------------------------


async def test_an_adjustment_applies_once_per_key(inventory: Inventory, store: FakeStore):
    await place(inventory, "S1")
    await use_cases.create_product(inventory, Product("A", "A", Money(100, "USD"), 30))
    first = await adjust(inventory, "S1", "A", 12, key="k1")
    again = await adjust(inventory, "S1", "A", 12, key="k1")
    assert first.stock.on_hand == 12
    assert again == first
    assert [m.delta for m in store.state.ledger] == [12]
    with pytest.raises(BusinessRuleViolation) as reused:
        await adjust(inventory, "S1", "A", 13, key="k1")
    assert reused.value.reason == "IDEMPOTENCY_KEY_REUSED"


async def test_an_adjustment_below_zero_or_reserved_is_refused_and_refused_again(
    inventory: Inventory, store: FakeStore
):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 5)
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 4}))
    with pytest.raises(BusinessRuleViolation) as below_reserved:
        await adjust(inventory, "S1", "A", -2, key="k2", reason=StockMovementReason.CYCLE_COUNT)
    assert below_reserved.value.reason == "STOCK_BELOW_RESERVED"
    with pytest.raises(BusinessRuleViolation) as below_zero:
        await adjust(inventory, "S1", "A", -6, key="k3", reason=StockMovementReason.DAMAGE)
    assert below_zero.value.reason == "STOCK_BELOW_ZERO"
    assert below_zero.value.metadata["on_hand"] == "5"
    # The key answers its refusal again, even once the stock would allow it.
    await adjust(inventory, "S1", "A", 10, key="k4")
    with pytest.raises(BusinessRuleViolation) as repeat:
        await adjust(inventory, "S1", "A", -6, key="k3", reason=StockMovementReason.DAMAGE)
    assert repeat.value.reason == "STOCK_BELOW_ZERO"
    assert await level(inventory, "S1", "A") == (15, 4, 11)
    assert sum(m.delta for m in store.state.ledger) == 15


async def test_bad_adjustments_name_their_fields_or_what_is_unknown(inventory: Inventory):
    await place(inventory, "S1")
    with pytest.raises(InvalidArgument) as invalid:
        await use_cases.adjust_stock(
            inventory,
            Adjustment("", "S1", "A", 0, StockMovementReason.COMMIT),
            keyed(pb.AdjustStockRequest()),
        )
    assert {v.field for v in invalid.value.violations} == {"idempotency_key", "delta", "reason"}
    with pytest.raises(NotFound) as unknown:
        await adjust(inventory, "S1", "NOSUCH", 1)
    assert (unknown.value.resource_type, unknown.value.ids) == ("product", ["NOSUCH"])
    with pytest.raises(NotFound) as nowhere:
        await level(inventory, "NOWHERE", "NOSUCH")
    assert (nowhere.value.resource_type, nowhere.value.ids) == ("location", ["NOWHERE"])


async def test_safety_stock_holds_back_only_its_channel(inventory: Inventory):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 5)
    safety = await use_cases.set_safety_stock(inventory, SafetyStock("S1", "A", Channel.WEB, 3))
    assert dict(safety.safety_stock) == {Channel.WEB: 3}
    with pytest.raises(BusinessRuleViolation) as short:
        await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}, channel=Channel.WEB))
    assert short.value.metadata["sku:A"] == "available=2 requested=3"
    held = await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}, channel=Channel.POS))
    assert held.status is ReservationStatus.ACTIVE
    with pytest.raises(InvalidArgument) as no_channel:
        await use_cases.set_safety_stock(inventory, SafetyStock("S1", "A", None, -1))
    assert {v.field for v in no_channel.value.violations} == {"channel", "quantity"}


# --- reservations -----------------------------------------------------------------------


async def test_reserve_holds_all_lines_or_none_and_a_retry_gets_the_same(inventory: Inventory):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 10)
    await stocked(inventory, "S1", "B", 3)
    with pytest.raises(BusinessRuleViolation) as short:
        await use_cases.reserve_stock(inventory, reserve("S1", {"A": 2, "B": 5}))
    assert short.value.reason == "INSUFFICIENT_STOCK"
    assert short.value.metadata == {"location_id": "S1", "sku:B": "available=3 requested=5"}
    assert await level(inventory, "S1", "A") == (10, 0, 10)

    request = reserve("S1", {"B": 1, "A": 2})
    first = await use_cases.reserve_stock(inventory, request)
    assert [(line.sku, line.quantity) for line in first.lines] == [("A", 2), ("B", 1)]
    assert await use_cases.reserve_stock(inventory, request) == first
    assert await level(inventory, "S1", "A") == (10, 2, 8)
    with pytest.raises(Conflict) as reused:
        await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}))
    assert reused.value.reason == "RESERVATION_ID_REUSED"


async def test_reserving_at_an_unknown_place_or_sku_is_not_found_by_id(inventory: Inventory):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 1)
    with pytest.raises(NotFound) as nowhere:
        await use_cases.reserve_stock(inventory, reserve("NOWHERE", {"A": 1}))
    assert (nowhere.value.resource_type, nowhere.value.ids) == ("location", ["NOWHERE"])
    with pytest.raises(NotFound) as unknown:
        await use_cases.reserve_stock(inventory, reserve("S1", {"A": 1, "Z": 1}))
    assert (unknown.value.resource_type, unknown.value.ids) == ("product", ["Z"])
    with pytest.raises(InvalidArgument) as bad:
        await use_cases.reserve_stock(inventory, reserve("S1", {"A": 0}, ttl_seconds=-1))
    assert {v.field for v in bad.value.violations} == {"lines[0].quantity", "ttl_seconds"}


async def test_a_short_pick_sells_some_and_gives_the_rest_back_once(
    inventory: Inventory, store: FakeStore
):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 10)
    await stocked(inventory, "S1", "B", 5)
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 4, "B": 2}))
    committed = await use_cases.commit_reservation(inventory, "R1", [Line("A", 3)])
    assert committed is not None
    assert committed.status is ReservationStatus.COMMITTED
    assert committed.lines == (Line("A", 3),)
    assert await level(inventory, "S1", "A") == (7, 0, 7)
    assert await level(inventory, "S1", "B") == (5, 0, 5)
    sale = store.state.ledger[-1]
    assert (sale.reason, sale.delta, sale.actor, sale.reference) == (
        StockMovementReason.COMMIT,
        -3,
        "order:O1",
        "R1",
    )
    # Committing or releasing again changes nothing and answers the same.
    assert await use_cases.commit_reservation(inventory, "R1", []) == committed
    assert await use_cases.release_reservation(inventory, "R1") == committed
    assert await level(inventory, "S1", "A") == (7, 0, 7)


async def test_committing_more_than_reserved_is_refused_and_changes_nothing(inventory: Inventory):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 10)
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 2}))
    with pytest.raises(InvalidArgument) as raised:
        await use_cases.commit_reservation(inventory, "R1", [Line("A", 3), Line("Z", 1)])
    assert {v.field for v in raised.value.violations} == {"lines[0].quantity", "lines[1].sku"}
    assert await level(inventory, "S1", "A") == (10, 2, 8)


async def test_release_gives_stock_back_and_unknown_ids_are_none(inventory: Inventory):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 10)
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}))
    released = await use_cases.release_reservation(inventory, "R1")
    assert released is not None and released.status is ReservationStatus.RELEASED
    assert released.lines == (Line("A", 3),)
    assert await level(inventory, "S1", "A") == (10, 0, 10)
    assert await use_cases.release_reservation(inventory, "NOSUCH") is None
    assert await use_cases.commit_reservation(inventory, "NOSUCH", []) is None
    with pytest.raises(InvalidArgument):
        await use_cases.release_reservation(inventory, " ")


async def test_a_soft_hold_past_its_time_expires_instead_of_selling(
    inventory: Inventory, store: FakeStore
):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 4)
    held = await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}, ttl_seconds=600))
    assert held.expires_at is not None
    store.state.run_out.add("R1")
    committed = await use_cases.commit_reservation(inventory, "R1", [])
    assert committed is not None and committed.status is ReservationStatus.EXPIRED
    assert await level(inventory, "S1", "A") == (4, 0, 4)


async def test_reads_stop_counting_holds_past_their_time(inventory: Inventory, store: FakeStore):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 5)
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}, ttl_seconds=60))
    query = AvailabilityQuery(("A",), HERE, 25, Channel.WEB)
    [before] = await use_cases.get_availability(inventory, query)
    assert before.locations[0].available == 2
    store.state.run_out.add("R1")
    [after] = await use_cases.get_availability(inventory, query)
    assert after.locations[0].available == 5
    assert store.state.reservations["R1"].status is ReservationStatus.EXPIRED


# --- availability, sourcing, invariants -------------------------------------------------


async def test_availability_names_unknown_skus_and_refuses_bad_queries(inventory: Inventory):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 5)
    with pytest.raises(NotFound) as raised:
        await use_cases.get_availability(
            inventory, AvailabilityQuery(("A", "X", "Y"), None, 0, None)
        )
    assert (raised.value.resource_type, raised.value.ids) == ("product", ["X", "Y"])
    with pytest.raises(InvalidArgument) as bad:
        await use_cases.get_availability(
            inventory, AvailabilityQuery((), GeoPoint(91, 0), -1, None)
        )
    assert {v.field for v in bad.value.violations} == {"skus", "near.lat", "radius_km"}


async def test_sourcing_passes_over_a_location_out_of_capacity_today(inventory: Inventory):
    # Issue 11: a full store is passed over (it used to be ranked last).
    await place(inventory, "NEAR", 2, daily_order_capacity=1)
    await place(inventory, "FAR", 9, daily_order_capacity=1)
    await stocked(inventory, "NEAR", "A", 5)
    await adjust(inventory, "FAR", "A", 5)
    request = SourcingRequest((Line("A", 1),), HERE, FulfillmentType.SHIP, Channel.WEB)

    async def ranked() -> list[str]:
        options = await use_cases.find_sources(inventory, request, destination_given=True)
        return [option.allocations[0].location_id for option in options]

    assert await ranked() == ["NEAR", "FAR"]
    await use_cases.reserve_stock(inventory, reserve("NEAR", {"A": 1}, "CART", ttl_seconds=600))
    assert await ranked() == ["NEAR", "FAR"]  # a cart hold is not a fulfillment
    await use_cases.reserve_stock(inventory, reserve("NEAR", {"A": 1}, "ORDER"))
    assert await ranked() == ["FAR"]

    unknown = replace(request, lines=(Line("NOSUCH", 1),))
    with pytest.raises(NotFound) as raised:
        await use_cases.find_sources(inventory, unknown, destination_given=True)
    assert raised.value.ids == ["NOSUCH"]
    with pytest.raises(InvalidArgument) as bad:
        await use_cases.find_sources(
            inventory, replace(request, fulfillment_type=None), destination_given=False
        )
    assert {v.field for v in bad.value.violations} == {"destination", "fulfillment_type"}


async def test_invariants_hold_after_the_use_cases_and_name_a_broken_row(
    inventory: Inventory, store: FakeStore
):
    await place(inventory, "S1")
    await stocked(inventory, "S1", "A", 7)
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 2}))
    assert await use_cases.check_invariants(inventory, ["A"]) == ([], 1)
    store.state.stock[("S1", "A")] = (9, 2)  # a bug or a hand edit
    found, rows = await use_cases.check_invariants(inventory, [])
    assert rows == 1
    assert [(v.rule, v.actual, v.expected) for v in found] == [("ON_HAND_NOT_LEDGER_SUM", 9, 7)]


# --- live availability -----------------------------------------------------------------


async def test_a_watch_sends_current_values_then_only_real_changes(inventory: Inventory):
    changes = FakeChanges()
    watching = replace(inventory, changes=changes)
    await place(inventory, "S1")
    await place(inventory, "S2")
    await stocked(inventory, "S1", "A", 10)
    stream = use_cases.watch_availability(watching, ["A"], ["S1", "S2"], Channel.WEB)
    first = [await anext(stream), await anext(stream)]
    assert [(c.location_id, c.available, c.current) for c in first] == [
        ("S1", 10, True),
        ("S2", 0, True),
    ]
    await use_cases.reserve_stock(inventory, reserve("S1", {"A": 3}))
    changes.subscription.pending = [({("S1", "A")}, False), ({("S1", "A")}, False)]
    rest = [change async for change in stream]
    # The second notice changed nothing: no second message.
    assert [(c.location_id, c.available, c.current) for c in rest] == [("S1", 7, False)]

    with pytest.raises(NotFound) as raised:
        await anext(use_cases.watch_availability(watching, ["A"], ["NOWHERE"], None))
    assert (raised.value.resource_type, raised.value.ids) == ("location", ["NOWHERE"])
