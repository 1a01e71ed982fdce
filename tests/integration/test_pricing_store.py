"""The SQL of the pricing tables (services/orders/store/pricing.py) and of the
catalog (inventory's products, search, cursor pages, channel prices,
concurrent updates) on a real PostgreSQL (issue 13)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2 as pb
from omni.words import Channel, PromotionKind
from services.common.plain_session import PlainDatabase
from services.orders.domain.pricing import Promotion, ShippingMethod, TaxRate
from services.orders.domain.records import TaxRegionRecord
from services.orders.store.pricing import PostgresPricingTables
from tests.support.inventory import Stub, unique

NOW = datetime.now(UTC).replace(microsecond=0)
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def orders_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("orders")


@pytest.fixture
async def tables(orders_url: str) -> AsyncIterator[PostgresPricingTables]:
    database = await PlainDatabase.open(orders_url, 4)
    yield PostgresPricingTables(database)
    await database.close()


def promotion(**fields: object) -> Promotion:
    values: dict[str, object] = {
        "promotion_id": unique("promo"),
        "name": "Spring",
        "kind": PromotionKind.PERCENT_OFF,
        "value": 10,
        "starts_at": NOW - HOUR,
        "ends_at": NOW + HOUR,
    }
    values.update(fields)
    return Promotion(**values)  # type: ignore[arg-type]


# ---------------------------------------------------------------- promotions


async def test_a_promotion_is_stored_once_per_id_even_when_inserted_at_once(
    tables: PostgresPricingTables,
) -> None:
    first = promotion(
        skus=frozenset({"A", "B"}),
        channels=frozenset({Channel.WEB}),
        min_subtotal_minor=500,
        min_subtotal_currency="USD",
    )
    other = Promotion(**{**first.__dict__, "name": "Other", "value": 50})
    stored = await asyncio.gather(*(tables.insert_promotion(p) for p in [first, other] * 4))
    assert {p.promotion_id for p in stored} == {first.promotion_id}
    listed = await tables.list_promotions(None, 1000)
    (kept,) = [p for p in listed if p.promotion_id == first.promotion_id]
    assert kept.skus == {"A", "B"} and kept.channels == {Channel.WEB}
    assert (kept.min_subtotal_minor, kept.min_subtotal_currency) == (500, "USD")
    assert kept.name in ("Spring", "Other")
    assert all(p.name == kept.name for p in stored[2:]), "repeats return the stored row"


async def test_promotions_for_returns_the_live_automatic_ones_and_every_one_with_the_code(
    tables: PostgresPricingTables,
) -> None:
    live = await tables.insert_promotion(promotion())
    later = await tables.insert_promotion(promotion(starts_at=NOW + timedelta(seconds=30)))
    over = await tables.insert_promotion(promotion(starts_at=NOW - 2 * HOUR, ends_at=NOW - HOUR))
    ended = await tables.insert_promotion(promotion())
    await tables.end_promotion(ended.promotion_id, NOW - timedelta(seconds=1))
    coded = await tables.insert_promotion(promotion(code="SAVE10"))
    expired_code = await tables.insert_promotion(
        promotion(code="OLD", starts_at=NOW - 2 * HOUR, ends_at=NOW - HOUR)
    )

    mine = {p.promotion_id for p in (live, later, over, ended, coded, expired_code)}

    def ids(found: list[Promotion]) -> set[str]:
        # The database is the module's: other tests' promotions are left out.
        return {p.promotion_id for p in found} & mine

    assert ids(await tables.promotions_for(NOW, "")) == {live.promotion_id}
    assert ids(await tables.promotions_for(NOW, "SAVE10")) == {
        live.promotion_id,
        coded.promotion_id,
    }
    # A refused code is still returned, so the refusal can say it expired.
    assert expired_code.promotion_id in ids(await tables.promotions_for(NOW, "OLD"))
    # For a cache kept a minute: the one starting within it too, never the ended.
    ahead = ids(await tables.promotions_for(NOW, "", starting_by=NOW + timedelta(minutes=1)))
    assert ahead == {live.promotion_id, later.promotion_id}
    assert over.promotion_id not in ahead


async def test_ending_a_promotion_keeps_the_first_end_even_when_ended_at_once(
    tables: PostgresPricingTables,
) -> None:
    created = await tables.insert_promotion(promotion())
    moments = [NOW + timedelta(seconds=n) for n in range(6)]
    ended = await asyncio.gather(*(tables.end_promotion(created.promotion_id, m) for m in moments))
    firsts = {p.ended_at for p in ended if p is not None}
    assert len(firsts) == 1 and firsts <= set(moments)
    again = await tables.end_promotion(created.promotion_id, NOW + HOUR)
    assert again is not None and again.ended_at == firsts.pop()
    assert await tables.end_promotion("promo_nope", NOW) is None


async def test_promotion_pages_follow_the_id_with_none_missed(
    tables: PostgresPricingTables,
) -> None:
    made = sorted([(await tables.insert_promotion(promotion())).promotion_id for _ in range(7)])
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await tables.list_promotions(after, 3)
        seen += [p.promotion_id for p in page]
        if len(page) < 3:
            break
        after = page[-1].promotion_id
    assert [s for s in seen if s in made] == made
    assert len(seen) == len(set(seen))


# ---------------------------------------------------------------- tax and shipping


async def test_a_tax_region_is_put_over_and_an_unknown_region_is_taxed_at_zero(
    tables: PostgresPricingTables,
) -> None:
    region = "US-" + unique("T").split("-")[1][:6].upper()
    assert await tables.rate_for(region) == TaxRate(region, 0, found=False)
    assert await tables.rate_for("") == TaxRate("", 0, found=False)
    await asyncio.gather(
        *(tables.put_tax_region(TaxRegionRecord(region, "Test", bps)) for bps in (700, 725))
    )
    assert (await tables.rate_for(region)).rate_bps in (700, 725)
    await tables.put_tax_region(TaxRegionRecord(region, "Test", 888))
    assert await tables.rate_for(region) == TaxRate(region, 888)


async def test_a_shipping_method_id_is_taken_once_and_methods_read_back_whole(
    tables: PostgresPricingTables,
) -> None:
    free = ShippingMethod("a-std", "Standard", 599, "USD", frozenset({"US", "CA"}), 7500)
    never = ShippingMethod("b-exp", "Express", 1999, "USD", frozenset({"US"}))
    inserted = await asyncio.gather(*(tables.insert_shipping_method(free) for _ in range(4)))
    assert sorted(inserted) == [False, False, False, True]
    assert await tables.insert_shipping_method(never) is True
    assert await tables.shipping_methods() == [free, never]


# ---------------------------------------------------------------- the catalog (inventory)


def usd(amount: int) -> common_pb2.Money:
    return common_pb2.Money(amount_minor=amount, currency="USD")


async def product(stub: Stub, sku: str, name: str, price: int = 1000) -> None:
    await stub.CreateProduct(
        pb.CreateProductRequest(
            product=pb.Product(sku=sku, name=name, price=usd(price), returnable_days=30)
        )
    )


async def test_search_by_name_fragment_or_sku_prefix_pages_through_every_match_once(
    stub: Stub,
) -> None:
    prefix = unique("SRCH").upper()
    skus = [f"{prefix}-{n:02d}" for n in range(7)]
    for n, sku in enumerate(skus):
        await product(stub, sku, f"Blue Widget {n}" if n % 2 else f"Red gadget {n}")
    await product(stub, unique("OTHER").upper(), f"Plain {prefix.lower()} mention")

    async def every(query: str, limit: int) -> list[str]:
        found: list[str] = []
        token = ""
        pages = 0
        while True:
            reply = await stub.ListProducts(
                pb.ListProductsRequest(query=query, limit=limit, page_token=token)
            )
            found += [p.sku for p in reply.products]
            pages += 1
            assert len(reply.products) <= limit
            token = reply.next_page_token
            if not token:
                return found
            assert pages < 50

    by_prefix = await every(prefix, 3)
    assert [s for s in by_prefix if s in skus] == sorted(skus)
    assert len(by_prefix) == len(set(by_prefix))
    # Case-insensitive name fragments; another product naming the prefix in
    # its name is found by name, not lost.
    widgets = await every("bLuE wIdGeT", 2)
    assert set(skus[1::2]) <= set(widgets)
    assert not set(skus[0::2]) & set(widgets)
    # A product created while paging is never listed twice.
    first = await stub.ListProducts(pb.ListProductsRequest(query=prefix, limit=3))
    await product(stub, f"{prefix}-00A", "Inserted")
    rest = await stub.ListProducts(
        pb.ListProductsRequest(query=prefix, limit=50, page_token=first.next_page_token)
    )
    listed = [p.sku for p in first.products] + [p.sku for p in rest.products]
    assert len(listed) == len(set(listed))
    assert set(skus) <= set(listed)


async def test_a_bad_page_token_is_invalid(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.ListProducts(pb.ListProductsRequest(page_token="not-a-cursor"))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_channel_price_applies_to_its_channel_only_until_deleted(stub: Stub) -> None:
    sku = unique("CHAN").upper()
    await product(stub, sku, "Channel priced", 2000)
    market = Channel.MARKETPLACE.to_proto()
    await stub.SetChannelPrice(pb.SetChannelPriceRequest(sku=sku, channel=market, price=usd(1800)))

    async def price(channel: common_pb2.Channel) -> int:
        reply = await stub.GetProducts(pb.GetProductsRequest(skus=[sku], channel=channel))
        return reply.products[0].price.amount_minor

    web = Channel.WEB.to_proto()
    assert (await price(market), await price(web), await price(common_pb2.CHANNEL_UNSPECIFIED)) == (
        1800,
        2000,
        2000,
    )
    listed = await stub.ListProducts(pb.ListProductsRequest(query=sku, channel=market))
    assert [p.price.amount_minor for p in listed.products] == [1800]
    # A new base price leaves the channel's own price alone.
    await stub.UpdateProduct(pb.UpdateProductRequest(sku=sku, price=usd(2100)))
    assert (await price(market), await price(web)) == (1800, 2100)
    await stub.DeleteChannelPrice(pb.DeleteChannelPriceRequest(sku=sku, channel=market))
    assert await price(market) == 2100
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.SetChannelPrice(
            pb.SetChannelPriceRequest(sku=unique("NOPE"), channel=market, price=usd(1))
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_concurrent_updates_of_different_fields_all_stick(stub: Stub) -> None:
    """PATCH name, price, returnable days and active at once: none is lost;
    concurrent prices leave one of them, never a mix of currency and amount."""
    sku = unique("PATCH").upper()
    await product(stub, sku, "Before", 1000)
    updates = [
        pb.UpdateProductRequest(sku=sku, name="After"),
        pb.UpdateProductRequest(sku=sku, returnable_days=60),
        pb.UpdateProductRequest(sku=sku, active=False),
        *(pb.UpdateProductRequest(sku=sku, price=usd(1000 + n)) for n in range(1, 9)),
    ]
    await asyncio.gather(*(stub.UpdateProduct(u) for u in updates))
    (final,) = (await stub.GetProducts(pb.GetProductsRequest(skus=[sku]))).products
    assert (final.name, final.returnable_days, final.inactive) == ("After", 60, True)
    assert 1001 <= final.price.amount_minor <= 1008 and final.price.currency == "USD"


async def test_updates_refuse_unknown_products_and_bad_fields(stub: Stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.UpdateProduct(pb.UpdateProductRequest(sku=unique("NOPE"), name="x"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    sku = unique("BAD").upper()
    await product(stub, sku, "Fine")
    for bad in (
        pb.UpdateProductRequest(sku=sku, price=usd(0)),
        pb.UpdateProductRequest(sku=sku, name=""),
        pb.UpdateProductRequest(sku=sku, returnable_days=-1),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.UpdateProduct(bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    (kept,) = (await stub.GetProducts(pb.GetProductsRequest(skus=[sku]))).products
    assert (kept.name, kept.price.amount_minor) == ("Fine", 1000)
