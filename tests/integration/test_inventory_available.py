"""What a channel may sell: the SQL function stock_available() is the rule, and
this table checks the reads and the reservations that use it against the
domain's statement of it (on hand - reserved - the channel's safety stock,
never negative), on a real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import pytest

from omni.words import Channel
from services.common.db import Database
from services.common.plain_sql import create_hot_pool
from services.inventory import domain, store
from services.inventory.domain import Line, ReservationRequest
from services.inventory.store.fast_path import HotPath
from tests.support.inventory import sql


@pytest.fixture(scope="module")
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("inventory")


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, pool_size=1)
    yield db
    await db.dispose()


@pytest.fixture
async def hot_path(database_url: str) -> AsyncIterator[HotPath]:
    pool = await create_hot_pool(database_url, 2)
    yield HotPath(pool)
    await pool.close()


async def stock_row(
    database: Database, on_hand: int, reserved: int, safety: dict[Channel, int]
) -> tuple[str, str]:
    """A fresh location and product whose stock row holds these numbers."""
    location_id, sku = f"L-{uuid.uuid4().hex[:8]}", f"S-{uuid.uuid4().hex[:8]}"
    await sql(
        database,
        "INSERT INTO locations (location_id, name, kind, lat, lon, pickup_enabled,"
        " ship_from_enabled, daily_order_capacity, pickup_window_hours, pick_sla_minutes)"
        " VALUES (:location_id, 'test', 'store', 0, 0, true, true, 0, 72, 120)",
        location_id=location_id,
    )
    await sql(
        database,
        "INSERT INTO products (sku, name, price_amount_minor, price_currency, returnable_days)"
        " VALUES (:sku, 'test', 100, 'USD', 30)",
        sku=sku,
    )
    await sql(
        database,
        "INSERT INTO stock (location_id, sku, on_hand, reserved)"
        " VALUES (:location_id, :sku, :on_hand, :reserved)",
        location_id=location_id,
        sku=sku,
        on_hand=on_hand,
        reserved=reserved,
    )
    for channel, quantity in safety.items():
        await sql(
            database,
            "INSERT INTO safety_stock (location_id, sku, channel, quantity)"
            " VALUES (:location_id, :sku, :channel, :quantity)",
            location_id=location_id,
            sku=sku,
            channel=str(channel),
            quantity=quantity,
        )
    return location_id, sku


WEB, POS, MARKETPLACE = Channel.WEB, Channel.POS, Channel.MARKETPLACE


@pytest.mark.parametrize(
    ("on_hand", "reserved", "safety", "channel", "expected"),
    [
        pytest.param(10, 0, {}, WEB, 10, id="nothing-held"),
        pytest.param(10, 4, {}, WEB, 6, id="reserved-counts"),
        pytest.param(10, 4, {WEB: 3}, WEB, 3, id="safety-of-the-channel"),
        pytest.param(10, 4, {WEB: 3}, POS, 6, id="safety-of-another-channel-ignored"),
        pytest.param(10, 4, {WEB: 3, POS: 1}, POS, 5, id="each-channel-its-own"),
        pytest.param(10, 8, {WEB: 5}, WEB, 0, id="never-negative"),
        pytest.param(0, 0, {WEB: 2}, WEB, 0, id="empty-shelf"),
        pytest.param(5, 5, {}, None, 0, id="all-held-no-channel"),
        pytest.param(10, 2, {WEB: 3, POS: 0}, POS, 8, id="zero-safety"),
        pytest.param(10, 2, {WEB: 3, POS: 0}, MARKETPLACE, 8, id="channel-without-safety"),
        pytest.param(10, 3, {WEB: 2}, None, 7, id="no-channel-no-safety"),
    ],
)
async def test_available_for_a_channel(
    database: Database,
    hot_path: HotPath,
    on_hand: int,
    reserved: int,
    safety: dict[Channel, int],
    channel: Channel | None,
    expected: int,
):
    assert domain.available(on_hand, reserved, safety.get(channel, 0) if channel else 0) == expected
    location_id, sku = await stock_row(database, on_hand, reserved, safety)

    # The reads: the ORM one (sourcing, live availability) and the hot one.
    async with database.unit_of_work() as uow:
        [row] = await store.stock_with_locations(uow.session, [sku], channel, [location_id])
        level = await store.get_stock(uow.session, location_id, sku)
    assert row.available == expected
    snapshot = await hot_path.read_availability([sku], channel)
    assert [item.available for item in snapshot.stock] == [expected]
    # GetStock's figure is for no channel in particular.
    assert level.available == domain.available(on_hand, reserved, 0)

    # The reservations: one more than available is short, exactly available holds.
    def reserve(quantity: int) -> ReservationRequest:
        return ReservationRequest(
            f"R-{uuid.uuid4().hex[:8]}", "", location_id, (Line(sku, quantity),), channel, 0
        )

    too_many = await hot_path.reserve(reserve(expected + 1))
    assert (too_many.created, too_many.short_skus) == (False, (sku,))
    if expected:
        assert (await hot_path.reserve(reserve(expected))).created


async def test_the_pricing_reads_answer_as_the_catalog_holds_it(
    database: Database, hot_path: HotPath
) -> None:
    """GetProducts' and GetLocation's one-statement reads: every channel price
    of a product, none for one without, unknown skus and locations left out,
    and a location as stored."""
    location_id, priced = await stock_row(database, 1, 0, {})
    _, plain = await stock_row(database, 1, 0, {})
    for channel, amount in ((MARKETPLACE, 90), (POS, 95)):
        await sql(
            database,
            "INSERT INTO product_channel_prices (sku, channel, price_amount_minor, price_currency)"
            " VALUES (:sku, :channel, :amount, 'USD')",
            sku=priced,
            channel=str(channel),
            amount=amount,
        )
    asked = [priced, plain, "S-UNKNOWN", priced]
    found = await hot_path.read_products(asked)
    assert set(found) == {priced, plain}
    assert {c: m.amount_minor for c, m in found[priced].channel_prices.items()} == {
        MARKETPLACE: 90,
        POS: 95,
    }
    assert found[plain].channel_prices == {}
    assert found[priced].as_seen_in(POS).price.amount_minor == 95
    assert found[plain].price.amount_minor == 100
    location = await hot_path.read_location(location_id)
    assert location is not None
    assert (location.location_id, location.name, location.pickup_window_hours) == (
        location_id,
        "test",
        72,
    )
    assert await hot_path.read_location("L-UNKNOWN") is None
