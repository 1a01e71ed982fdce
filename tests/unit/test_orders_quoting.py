"""Quotes and the placement's price (services/orders/quoting.py) on fakes:
the inputs the pricing function is fed, its refusals, and quote = charge."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from omni.words import Channel, FulfillmentType, PromotionKind, TenderType
from services.common.errors import (
    AlreadyExists,
    BusinessRuleViolation,
    InvalidArgument,
    NotFound,
)
from services.orders import quoting, use_cases
from services.orders.domain.placing import RequestedLine, RequestedTender
from services.orders.domain.pricing import CatalogItem, Promotion, ShippingMethod, TaxRate
from services.orders.domain.records import Address, TaxRegionRecord
from services.orders.quoting import BasketRequest, Pricing
from services.orders.use_cases import Dependencies
from tests.unit.test_orders_use_cases import (
    FakeJourneys,
    FakeProducts,
    FakeStorage,
    keyed,
    order_request,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
HOME = Address("1 Main St", "Springfield", "12345", "US", 40.0, -74.0, "CA")


class FakeCatalog:
    def __init__(self) -> None:
        self.prices = {"TEE-1": 2000, "MUG-1": 999}
        self.channel_prices: dict[tuple[str, Channel], int] = {}
        self.inactive: set[str] = set()
        self.regions = {"S1": "US-NY", "S2": "US-OR"}

    async def items(self, skus: list[str], channel: Channel) -> dict[str, CatalogItem]:
        for index, sku in enumerate(skus):
            if sku not in self.prices:
                raise InvalidArgument.field(f"lines[{index}].sku", f"unknown sku {sku}")
        return {
            sku: CatalogItem(
                sku,
                self.channel_prices.get((sku, channel), self.prices[sku]),
                "USD",
                30,
                sku not in self.inactive,
            )
            for sku in skus
        }

    async def tax_region_of(self, location_id: str) -> str:
        if location_id not in self.regions:
            raise NotFound("no such location", resource_type="location", ids=[location_id])
        return self.regions[location_id]

    async def items_at(
        self, skus: list[str], channel: Channel, location_id: str
    ) -> tuple[dict[str, CatalogItem], str]:
        # As inventory answers: unknown skus are named before an unknown location.
        items = await self.items(skus, channel)
        return items, await self.tax_region_of(location_id)


class FakeTables:
    def __init__(self) -> None:
        self.promotions: dict[str, Promotion] = {}
        self.rates: dict[str, TaxRegionRecord] = {}
        self.methods: dict[str, ShippingMethod] = {}

    async def insert_promotion(self, promotion: Promotion) -> Promotion:
        return self.promotions.setdefault(promotion.promotion_id, promotion)

    async def list_promotions(self, after_id: str | None, limit: int) -> list[Promotion]:
        ids = sorted(i for i in self.promotions if after_id is None or i > after_id)
        return [self.promotions[i] for i in ids[:limit]]

    async def end_promotion(self, promotion_id: str, at: datetime) -> Promotion | None:
        found = self.promotions.get(promotion_id)
        if found is None:
            return None
        if found.ended_at is None:
            self.promotions[promotion_id] = found = replace(found, ended_at=at)
        return found

    async def promotions_for(
        self, now: datetime, code: str, starting_by: datetime | None = None
    ) -> list[Promotion]:
        def live(p: Promotion) -> bool:
            ended = min(p.ends_at, p.ended_at or p.ends_at)
            return p.starts_at <= (starting_by or now) and ended > now

        return [p for p in self.promotions.values() if (not p.code and live(p)) or p.code == code]

    async def put_tax_region(self, region: TaxRegionRecord) -> TaxRegionRecord:
        self.rates[region.region] = region
        return region

    async def rate_for(self, region: str) -> TaxRate:
        found = self.rates.get(region)
        return TaxRate(region, found.rate_bps) if found else TaxRate(region, 0, found=False)

    async def insert_shipping_method(self, method: ShippingMethod) -> bool:
        if method.method_id in self.methods:
            return False
        self.methods[method.method_id] = method
        return True

    async def shipping_methods(self) -> list[ShippingMethod]:
        return [self.methods[m] for m in sorted(self.methods)]


@pytest.fixture
def catalog() -> FakeCatalog:
    return FakeCatalog()


@pytest.fixture
def tables() -> FakeTables:
    return FakeTables()


@pytest.fixture
def pricing(catalog: FakeCatalog, tables: FakeTables) -> Pricing:
    return Pricing(catalog=catalog, tables=tables, tax=tables, now=lambda: NOW)


def pickup(*lines: tuple[str, int], location: str = "S1", codes: list[str] | None = None,
           channel: Channel = Channel.WEB) -> BasketRequest:  # fmt: skip
    return BasketRequest(
        channel, [RequestedLine(s, q) for s, q in lines], FulfillmentType.PICKUP, location,
        coupon_codes=codes or [],
    )  # fmt: skip


def ship(*lines: tuple[str, int], method: str = "", address: Address = HOME) -> BasketRequest:
    return BasketRequest(
        Channel.WEB, [RequestedLine(s, q) for s, q in lines], FulfillmentType.SHIP, "",
        address, shipping_method=method,
    )  # fmt: skip


async def a_promotion(pricing: Pricing, **kw: object) -> Promotion:
    fields: dict[str, object] = {
        "promotion_id": quoting.promotion_id_for(str(kw)),
        "name": "Spring",
        "kind": PromotionKind.PERCENT_OFF,
        "value": 10,
        "starts_at": NOW - timedelta(days=1),
        "ends_at": NOW + timedelta(days=1),
    }
    fields.update(kw)
    return await quoting.create_promotion(pricing, Promotion(**fields))  # type: ignore[arg-type]


# ---------------------------------------------------------------- refusals first


async def test_bad_baskets_name_their_fields(pricing: Pricing) -> None:
    with pytest.raises(InvalidArgument) as bad:
        await quoting.price_basket(
            pricing, BasketRequest(None, [RequestedLine("", 0)], None, coupon_codes=[""])
        )
    fields = {v.field for v in bad.value.violations}
    assert {
        "channel",
        "lines[0].sku",
        "lines[0].quantity",
        "coupon_codes[0]",
    } <= fields
    with pytest.raises(InvalidArgument):
        await quoting.price_basket(pricing, ship(("TEE-1", 1), address=replace(HOME, country="")))


async def test_a_cart_without_a_fulfillment_is_priced_without_tax_or_shipping(
    pricing: Pricing,
) -> None:
    await quoting.put_tax_region(pricing, TaxRegionRecord("US-NY", "New York", 800))
    await a_promotion(pricing)
    cart = await quoting.price_basket(
        pricing, BasketRequest(Channel.WEB, [RequestedLine("TEE-1", 2)], None)
    )
    assert (cart.totals.total_minor, cart.totals.tax_minor, cart.tax_rule) == (
        3600,
        0,
        "no tax region: 0",
    )


async def test_an_unknown_expired_or_other_channels_code_is_a_422_naming_it(
    pricing: Pricing,
) -> None:
    await a_promotion(pricing, code="APPONLY", channels=frozenset({Channel.APP}))
    await a_promotion(
        pricing, code="OLD", starts_at=NOW - timedelta(days=9), ends_at=NOW - timedelta(days=1)
    )
    for code, why in [
        ("nope", "unknown"),
        ("old", "expired"),
        ("apponly", "not valid in the web channel"),
    ]:
        with pytest.raises(BusinessRuleViolation) as refused:
            await quoting.price_basket(pricing, pickup(("TEE-1", 1), codes=[code]))
        assert refused.value.metadata == {"code": code.upper(), "why": why}


async def test_an_ended_promotion_stops_applying_and_ending_twice_keeps_the_first(
    pricing: Pricing, tables: FakeTables
) -> None:
    promotion = await a_promotion(pricing, code="SPRING")
    assert (
        await quoting.price_basket(pricing, pickup(("TEE-1", 1), codes=["spring"]))
    ).totals.discount_minor == 200
    first = await quoting.end_promotion(pricing, promotion.promotion_id)
    again = await quoting.end_promotion(pricing, promotion.promotion_id)
    assert first.ended_at == again.ended_at == NOW
    with pytest.raises(BusinessRuleViolation):
        await quoting.price_basket(pricing, pickup(("TEE-1", 1), codes=["SPRING"]))
    with pytest.raises(NotFound):
        await quoting.end_promotion(pricing, "promo_nope")


async def test_an_inactive_product_cannot_be_quoted_or_ordered(
    pricing: Pricing, catalog: FakeCatalog
) -> None:
    catalog.inactive.add("MUG-1")
    with pytest.raises(BusinessRuleViolation) as refused:
        await quoting.price_basket(pricing, pickup(("TEE-1", 1), ("MUG-1", 1)))
    assert refused.value.reason == "PRODUCT_INACTIVE"
    deps = Dependencies(
        FakeStorage(), FakeJourneys(FakeStorage()), FakeProducts(), lambda: NOW, pricing
    )
    request = replace(order_request(("MUG-1", 1)), lines=[RequestedLine("MUG-1", 1)])
    with pytest.raises(BusinessRuleViolation):
        await use_cases.place_order(deps, request, keyed("k-inactive"))


async def test_pickup_at_an_unknown_store_is_not_found(pricing: Pricing) -> None:
    with pytest.raises(NotFound):
        await quoting.price_basket(pricing, pickup(("TEE-1", 1), location="S9"))


async def test_a_ship_basket_must_name_a_method_when_several_fit(pricing: Pricing) -> None:
    for method_id, price in (("std", 500), ("express", 1500)):
        await quoting.create_shipping_method(
            pricing, ShippingMethod(method_id, method_id, price, "USD", frozenset({"US"}))
        )
    with pytest.raises(InvalidArgument) as bad:
        await quoting.price_basket(pricing, ship(("TEE-1", 1)))
    assert bad.value.violations[0].field == "fulfillment.shipping_method"
    quote = await quoting.price_basket(pricing, ship(("TEE-1", 1), method="express"))
    assert (quote.totals.shipping_minor, quote.shipping_method) == (1500, "express")
    with pytest.raises(AlreadyExists):
        await quoting.create_shipping_method(
            pricing, ShippingMethod("std", "again", 1, "USD", frozenset({"US"}))
        )


async def test_admin_tables_refuse_bad_values(pricing: Pricing) -> None:
    with pytest.raises(InvalidArgument):
        await quoting.put_tax_region(pricing, TaxRegionRecord("us-ca", "", 20000))
    with pytest.raises(InvalidArgument):
        await quoting.create_shipping_method(
            pricing, ShippingMethod("x", "x", -1, "usd", frozenset({"USA"}))
        )
    with pytest.raises(InvalidArgument):
        await a_promotion(pricing, value=150)
    with pytest.raises(InvalidArgument):
        await a_promotion(pricing, kind=PromotionKind.AMOUNT_OFF, value=100, currency="")
    with pytest.raises(InvalidArgument):
        await a_promotion(pricing, ends_at=NOW - timedelta(days=2))
    with pytest.raises(InvalidArgument):  # a card number smuggled in as a code
        await a_promotion(pricing, code="4111111111111111")


# ---------------------------------------------------------------- what a channel pays


async def test_tax_is_the_stores_for_pickup_and_the_addresss_for_ship(
    pricing: Pricing, tables: FakeTables
) -> None:
    await quoting.put_tax_region(pricing, TaxRegionRecord("US-NY", "New York", 800))
    await quoting.put_tax_region(pricing, TaxRegionRecord("US-CA", "California", 725))
    await quoting.create_shipping_method(
        pricing, ShippingMethod("std", "Standard", 500, "USD", frozenset({"US"}), 5000)
    )
    at_store = await quoting.price_basket(pricing, pickup(("TEE-1", 1)))
    no_rate = await quoting.price_basket(pricing, pickup(("TEE-1", 1), location="S2"))
    shipped = await quoting.price_basket(pricing, ship(("TEE-1", 1)))
    assert (at_store.totals.tax_minor, at_store.tax_rule) == (160, "US-NY 800 bps")
    assert (no_rate.totals.tax_minor, no_rate.tax_rule) == (0, "US-OR: no rate, 0")
    assert shipped.totals.tax_minor == 145 + 36  # the goods and the shipping, at US-CA
    free = await quoting.price_basket(pricing, ship(("TEE-1", 3)))
    assert free.totals.shipping_minor == 0


async def test_a_channel_price_changes_only_that_channel(
    pricing: Pricing, catalog: FakeCatalog
) -> None:
    catalog.channel_prices[("TEE-1", Channel.MARKETPLACE)] = 2300
    web = await quoting.price_basket(pricing, pickup(("TEE-1", 2)))
    app = await quoting.price_basket(pricing, pickup(("TEE-1", 2), channel=Channel.APP))
    market = await quoting.price_basket(pricing, pickup(("TEE-1", 2), channel=Channel.MARKETPLACE))
    assert web == app
    assert market.totals.subtotal_minor == 4600


async def test_an_order_charges_exactly_its_quote(pricing: Pricing, tables: FakeTables) -> None:
    await quoting.put_tax_region(pricing, TaxRegionRecord("US-NY", "New York", 887))
    await a_promotion(pricing, code="TEN")
    await a_promotion(pricing, name="Mugs", kind=PromotionKind.AMOUNT_OFF, value=333,
                      currency="USD", skus=frozenset({"MUG-1"}))  # fmt: skip
    storage = FakeStorage()
    deps = Dependencies(storage, FakeJourneys(storage), FakeProducts(), lambda: NOW, pricing)
    request = replace(
        order_request(("TEE-1", 3), ("MUG-1", 7)),
        coupon_codes=["ten"],
        tenders=[RequestedTender(TenderType.CARD, token="tok_approve")],
    )
    quote = await quoting.price_basket(pricing, quoting.basket_of(request))
    order = await use_cases.place_order(deps, request, keyed("k-quote"))
    assert order.total.amount_minor == quote.totals.total_minor
    assert quote.totals.discount_minor > 0 and quote.totals.tax_minor > 0


async def test_a_price_change_racing_a_placement_prices_the_order_one_way_or_the_other(
    pricing: Pricing, catalog: FakeCatalog
) -> None:
    storage = FakeStorage()
    deps = Dependencies(storage, FakeJourneys(storage), FakeProducts(), lambda: NOW, pricing)

    async def change_price() -> None:
        catalog.prices["TEE-1"] = 2500

    order, _ = await asyncio.gather(
        use_cases.place_order(deps, order_request(("TEE-1", 2)), keyed("k-race")), change_price()
    )
    assert order.total.amount_minor in (4000, 5000)
    assert [line.unit_price_minor * line.quantity for line in order.lines] == [
        order.total.amount_minor
    ]
    # Placed, the order keeps its price whatever the catalog says next.
    catalog.prices["TEE-1"] = 9999
    again = await use_cases.get_order(deps, order.order_id)
    assert again.total == order.total


async def test_a_return_refunds_what_was_paid_and_shipping_only_with_the_whole_order() -> None:
    from omni.words import FulfillmentStatus, ItemCondition, OrderStatus
    from services.common.money import Money
    from services.orders.domain import returns
    from services.orders.domain.records import FulfillmentRecord, OrderLineRecord, OrderRecord
    from services.orders.domain.returns import ReturnRequestLine

    order = OrderRecord(
        "o1", "C1", Channel.WEB, OrderStatus.COMPLETED, Money(5869, "USD"),
        FulfillmentType.SHIP, "", HOME, "", "", "", "order-o1", NOW, NOW,
        lines=[OrderLineRecord("TEE-1", 3, 2000, 30, 0, discount_minor=600, tax_minor=392)],
        fulfillments=[FulfillmentRecord("o1-F1", "o1", FulfillmentType.SHIP, "W1",
                                        FulfillmentStatus.SHIPPED, [], "", "", "", NOW)],
        subtotal_minor=6000, discount_minor=600, shipping_minor=72, shipping_tax_minor=5,
        tax_minor=397,
    )  # fmt: skip
    one = returns.plan_return_of(
        order, [ReturnRequestLine("TEE-1", 1, ItemCondition.SELLABLE)], NOW
    )
    assert one.refund_minor == 1931  # (6000 - 600 + 392) / 3, half to even
    order.lines[0].returned_quantity = 1
    rest = returns.plan_return_of(
        order, [ReturnRequestLine("TEE-1", 2, ItemCondition.SELLABLE)], NOW
    )
    assert one.refund_minor + rest.refund_minor == order.total.amount_minor
