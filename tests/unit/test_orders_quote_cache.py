"""The quote cache (services/orders/quoting.py QuoteCache): quotes and carts
read a second-old copy of their inputs, an order never does; a write through
this service empties that table's copies at once, also when a read raced it;
random coupon codes cannot grow it. On the fakes of test_orders_quoting."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from omni.words import Channel, FulfillmentType
from services.common.errors import BusinessRuleViolation, InvalidArgument, NotFound
from services.orders import quoting
from services.orders.domain.placing import RequestedLine
from services.orders.domain.pricing import CatalogItem, Promotion, ShippingMethod, TaxRate
from services.orders.domain.records import TaxRegionRecord
from services.orders.quoting import BasketRequest, Pricing, QuoteCache
from tests.unit.test_orders_quoting import (
    HOME,
    NOW,
    FakeCatalog,
    FakeTables,
    a_promotion,
    pickup,
    ship,
)
from tests.unit.test_orders_use_cases import order_request


class Clock:
    def __init__(self) -> None:
        self.at = 1000.0

    def __call__(self) -> float:
        return self.at


class CountingCatalog(FakeCatalog):
    def __init__(self) -> None:
        super().__init__()
        self.item_reads: list[list[str]] = []
        self.region_reads = 0
        self.combined_reads: list[tuple[list[str], str]] = []

    async def items(self, skus: list[str], channel: Channel) -> dict[str, CatalogItem]:
        self.item_reads.append(list(skus))
        return await super().items(skus, channel)

    async def tax_region_of(self, location_id: str) -> str:
        self.region_reads += 1
        return await super().tax_region_of(location_id)

    async def items_at(
        self, skus: list[str], channel: Channel, location_id: str
    ) -> tuple[dict[str, CatalogItem], str]:
        self.combined_reads.append((list(skus), location_id))
        items = await FakeCatalog.items(self, skus, channel)
        return items, await FakeCatalog.tax_region_of(self, location_id)


class CountingTables(FakeTables):
    def __init__(self) -> None:
        super().__init__()
        self.promotion_reads = 0
        self.rate_reads = 0
        self.method_reads = 0
        # When set, a promotions read waits for it after reading (a slow query).
        self.hold_promotions: asyncio.Event | None = None
        self.promotions_read = asyncio.Event()

    async def promotions_for(
        self, now: datetime, code: str, starting_by: datetime | None = None
    ) -> list[Promotion]:
        self.promotion_reads += 1
        found = await super().promotions_for(now, code, starting_by)
        self.promotions_read.set()
        if self.hold_promotions is not None:
            await self.hold_promotions.wait()
        return found

    async def rate_for(self, region: str) -> TaxRate:
        self.rate_reads += 1
        return await super().rate_for(region)

    async def shipping_methods(self) -> list[ShippingMethod]:
        self.method_reads += 1
        return await super().shipping_methods()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def catalog() -> CountingCatalog:
    return CountingCatalog()


@pytest.fixture
def tables() -> CountingTables:
    return CountingTables()


@pytest.fixture
def pricing(catalog: CountingCatalog, tables: CountingTables, clock: Clock) -> Pricing:
    return Pricing(
        catalog=catalog,
        tables=tables,
        tax=tables,
        now=lambda: NOW,
        cache=QuoteCache(seconds=1.0, entries=64, clock=clock),
    )


async def unit_price(pricing: Pricing, sku: str = "TEE-1", *, cached: bool = True) -> int:
    priced = await quoting.price_basket(pricing, pickup((sku, 1)), cached=cached)
    return priced.lines[0].unit_price_minor


# ---------------------------------------------------------------- an order is never stale


async def test_an_order_placed_right_after_a_price_change_pays_the_new_price(
    pricing: Pricing, catalog: CountingCatalog
) -> None:
    assert await unit_price(pricing) == 2000  # the quote fills the cache
    catalog.prices["TEE-1"] = 2500
    # The placement's price reads the catalog, whatever the cache holds.
    placed = await quoting.price_placement(pricing, order_request(("TEE-1", 1)))
    assert placed.lines[0].unit_price_minor == 2500
    assert placed.total.amount_minor == 2500  # S1's region has no rate here
    assert await unit_price(pricing, cached=False) == 2500


async def test_placements_racing_price_changes_each_pay_the_price_of_their_read(
    pricing: Pricing, catalog: CountingCatalog
) -> None:
    """Quotes keep filling the cache while the price moves; every placement
    priced after a change pays that change's price, never a kept one."""
    for price in range(2000, 2400, 20):
        catalog.prices["TEE-1"] = price
        quotes = [unit_price(pricing) for _ in range(3)]
        placements = [
            quoting.price_placement(pricing, order_request(("TEE-1", 2))) for _ in range(3)
        ]
        _, orders = await asyncio.gather(asyncio.gather(*quotes), asyncio.gather(*placements))
        for placed in orders:
            assert [line.unit_price_minor for line in placed.lines] == [price]


async def test_a_quote_sees_a_catalog_change_within_the_cache_seconds(
    pricing: Pricing, catalog: CountingCatalog, clock: Clock
) -> None:
    assert await unit_price(pricing) == 2000
    catalog.prices["TEE-1"] = 2500
    assert await unit_price(pricing) == 2000  # kept: at most `seconds` old
    clock.at += 1.0
    assert await unit_price(pricing) == 2500


# ---------------------------------------------------------------- what the cache saves


async def test_a_repeated_quote_reads_nothing_again(
    pricing: Pricing, catalog: CountingCatalog, tables: CountingTables
) -> None:
    await tables.put_tax_region(TaxRegionRecord("US-NY", "New York", 800))
    first = await quoting.price_basket(pricing, pickup(("TEE-1", 2), ("MUG-1", 1)))
    again = await quoting.price_basket(pricing, pickup(("TEE-1", 2), ("MUG-1", 1)))
    assert again == first
    assert catalog.item_reads == [["TEE-1", "MUG-1"]]
    assert (catalog.region_reads, tables.promotion_reads, tables.rate_reads) == (1, 1, 1)
    # Only the SKU not yet kept is asked for.
    await quoting.price_basket(pricing, pickup(("TEE-1", 1), ("MUG-1", 1), ("TEE-1", 1)))
    catalog.prices["CAP-1"] = 700
    await quoting.price_basket(pricing, pickup(("CAP-1", 1), ("MUG-1", 1)))
    assert catalog.item_reads == [["TEE-1", "MUG-1"], ["CAP-1"]]


async def test_channels_are_kept_apart(pricing: Pricing, catalog: CountingCatalog) -> None:
    catalog.channel_prices[("TEE-1", Channel.MARKETPLACE)] = 1800
    web = await quoting.price_basket(pricing, pickup(("TEE-1", 1)))
    market = await quoting.price_basket(pricing, pickup(("TEE-1", 1), channel=Channel.MARKETPLACE))
    assert (web.lines[0].unit_price_minor, market.lines[0].unit_price_minor) == (2000, 1800)


async def test_an_unknown_sku_is_not_kept_as_unknown(
    pricing: Pricing, catalog: CountingCatalog
) -> None:
    with pytest.raises(InvalidArgument):
        await unit_price(pricing, "NEW-1")
    catalog.prices["NEW-1"] = 400
    assert await unit_price(pricing, "NEW-1") == 400


async def test_an_inactive_product_is_refused_to_an_order_even_when_a_quote_kept_it(
    pricing: Pricing, catalog: CountingCatalog
) -> None:
    assert await unit_price(pricing) == 2000
    catalog.inactive.add("TEE-1")
    with pytest.raises(BusinessRuleViolation):
        await quoting.price_placement(pricing, order_request(("TEE-1", 1)))


# ---------------------------------------------------------------- writes empty it at once


async def test_ending_or_adding_a_promotion_reaches_the_next_quote_at_once(
    pricing: Pricing,
) -> None:
    assert await unit_price(pricing) == 2000
    spring = await a_promotion(pricing, value=10)
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.discount_minor == 200
    await quoting.end_promotion(pricing, spring.promotion_id)
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.discount_minor == 0


async def test_a_tax_rate_or_a_new_shipping_method_reaches_the_next_quote_at_once(
    pricing: Pricing,
) -> None:
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.tax_minor == 0
    await quoting.put_tax_region(pricing, TaxRegionRecord("US-NY", "New York", 1000))
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.tax_minor == 200
    assert (await quoting.price_basket(pricing, ship(("TEE-1", 1)))).totals.shipping_minor == 0
    await quoting.create_shipping_method(
        pricing, ShippingMethod("std", "Standard", 599, "USD", frozenset({"US"}))
    )
    assert (await quoting.price_basket(pricing, ship(("TEE-1", 1)))).totals.shipping_minor == 599


async def test_a_read_that_raced_a_promotion_ending_is_not_kept(
    pricing: Pricing, tables: CountingTables
) -> None:
    """A quote reads the promotions, the promotion ends (and the cache is
    emptied) before that read returns: the stale read prices that one quote
    but is not kept for the next."""
    spring = await a_promotion(pricing, value=10)
    tables.hold_promotions = asyncio.Event()
    slow = asyncio.create_task(quoting.price_basket(pricing, pickup(("TEE-1", 1))))
    await tables.promotions_read.wait()
    await quoting.end_promotion(pricing, spring.promotion_id)
    tables.hold_promotions.set()
    assert (await slow).totals.discount_minor == 200  # read before the end
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.discount_minor == 0


async def test_a_promotion_starting_within_the_cache_seconds_applies_from_its_start(
    catalog: CountingCatalog, tables: CountingTables, clock: Clock
) -> None:
    now = [NOW]
    pricing = Pricing(catalog, tables, tables, lambda: now[0], QuoteCache(1.0, clock=clock))
    starts = NOW + timedelta(milliseconds=500)
    await a_promotion(pricing, value=10, starts_at=starts)
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.discount_minor == 0
    reads = tables.promotion_reads
    now[0] = starts
    clock.at += 0.5
    assert (await quoting.price_basket(pricing, pickup(("TEE-1", 1)))).totals.discount_minor == 200
    assert tables.promotion_reads == reads  # from the kept copy, at its own start


# ---------------------------------------------------------------- abuse


async def test_random_coupon_codes_cannot_grow_the_cache(pricing: Pricing) -> None:
    cache = pricing.cache
    assert cache is not None
    for n in range(200):
        with pytest.raises(BusinessRuleViolation, match="unknown"):
            await quoting.price_basket(pricing, pickup(("TEE-1", 1), codes=[f"NOPE{n}"]))
    assert len(cache._kept) <= 64


async def test_no_cache_and_a_zero_second_cache_read_everything_every_time(
    catalog: CountingCatalog, tables: CountingTables
) -> None:
    for cache in (None, QuoteCache(seconds=0)):
        catalog.item_reads.clear()
        pricing = Pricing(catalog, tables, tables, lambda: NOW, cache)
        basket = BasketRequest(
            Channel.WEB, [RequestedLine("TEE-1", 1)], FulfillmentType.SHIP, "", HOME
        )
        await quoting.price_basket(pricing, basket)
        await quoting.price_basket(pricing, basket)
        assert len(catalog.item_reads) == 2


# ---------------------------------------------------------------- one catalog read at a store


async def test_a_placement_at_a_store_reads_its_products_and_the_region_in_one_call(
    pricing: Pricing, catalog: CountingCatalog, tables: CountingTables
) -> None:
    await tables.put_tax_region(TaxRegionRecord("US-NY", "New York", 800))
    for kind in (FulfillmentType.PICKUP, FulfillmentType.CARRY_OUT):
        basket = BasketRequest(Channel.WEB, [RequestedLine("TEE-1", 2)], kind, "S1")
        priced = await quoting.price_basket(pricing, basket, cached=False)
        assert priced.totals.tax_minor == 320  # S1's region, 8 % of 4000
    assert catalog.combined_reads == [(["TEE-1"], "S1"), (["TEE-1"], "S1")]
    assert (catalog.item_reads, catalog.region_reads) == ([], 0)


async def test_a_shipped_placement_asks_no_location(
    pricing: Pricing, catalog: CountingCatalog
) -> None:
    basket = BasketRequest(Channel.WEB, [RequestedLine("TEE-1", 1)], FulfillmentType.SHIP, "", HOME)
    await quoting.price_basket(pricing, basket, cached=False)
    assert (catalog.combined_reads, catalog.item_reads, catalog.region_reads) == (
        [],
        [["TEE-1"]],
        0,
    )


async def test_a_placement_at_an_unknown_store_is_refused_naming_it(
    pricing: Pricing, catalog: CountingCatalog
) -> None:
    with pytest.raises(NotFound) as refused:
        await quoting.price_basket(pricing, pickup(("TEE-1", 1), location="S404"), cached=False)
    assert refused.value.ids == ["S404"]
    # An unknown sku is named first, as inventory names it.
    with pytest.raises(InvalidArgument) as unknown:
        await quoting.price_basket(pricing, pickup(("NOPE-1", 1), location="S404"), cached=False)
    assert [v.field for v in unknown.value.violations] == ["lines[0].sku"]
