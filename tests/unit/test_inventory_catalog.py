"""The catalog's updates, channel prices and listing (issue 13), on the
in-memory store: refusals first, then what a channel sees."""

from __future__ import annotations

import pytest

from omni.words import Channel
from services.common.errors import InvalidArgument, NotFound
from services.common.money import Money
from services.inventory import use_cases
from services.inventory.domain import Product, ProductChanges
from services.inventory.use_cases import Inventory
from tests.unit.inventory_fakes import FakeStore, inventory_on


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def inventory(store: FakeStore) -> Inventory:
    return inventory_on(store)


async def product(inventory: Inventory, sku: str = "TEE", name: str = "Blue tee") -> Product:
    return await use_cases.create_product(inventory, Product(sku, name, Money(1000, "USD"), 30))


async def test_an_update_of_an_unknown_sku_is_not_found_by_id(inventory: Inventory) -> None:
    with pytest.raises(NotFound) as missing:
        await use_cases.update_product(inventory, "NOPE", ProductChanges(name="x"))
    assert missing.value.ids == ["NOPE"]
    with pytest.raises(NotFound):
        await use_cases.set_channel_price(inventory, "NOPE", Channel.WEB, Money(1, "USD"))


async def test_bad_updates_name_each_field_and_change_nothing(
    inventory: Inventory, store: FakeStore
) -> None:
    await product(inventory)
    with pytest.raises(InvalidArgument) as bad:
        await use_cases.update_product(
            inventory, "TEE", ProductChanges(name=" ", price=Money(0, "usd"), returnable_days=-1)
        )
    fields = {v.field for v in bad.value.violations}
    assert fields == {
        "product.name",
        "product.price.amount_minor",
        "product.price.currency",
        "product.returnable_days",
    }
    assert store.state.products["TEE"].price == Money(1000, "USD")


async def test_a_card_number_as_a_name_is_refused(inventory: Inventory) -> None:
    await product(inventory)
    with pytest.raises(InvalidArgument):
        await use_cases.update_product(inventory, "TEE", ProductChanges(name="4111111111111111"))


async def test_a_channel_price_in_another_currency_or_channel_is_refused(
    inventory: Inventory,
) -> None:
    await product(inventory)
    with pytest.raises(InvalidArgument) as bad:
        await use_cases.set_channel_price(inventory, "TEE", None, Money(900, "EUR"))
    assert {v.field for v in bad.value.violations} == {"channel", "price.currency"}
    await use_cases.set_channel_price(inventory, "TEE", Channel.MARKETPLACE, Money(1100, "USD"))
    with pytest.raises(InvalidArgument):  # the product cannot leave the channel price's currency
        await use_cases.update_product(inventory, "TEE", ProductChanges(price=Money(900, "EUR")))


async def test_each_channel_sees_its_own_price_or_the_products(inventory: Inventory) -> None:
    await product(inventory)
    await use_cases.set_channel_price(inventory, "TEE", Channel.MARKETPLACE, Money(1150, "USD"))
    [web] = await use_cases.get_products(inventory, ["TEE"], Channel.WEB)
    [market] = await use_cases.get_products(inventory, ["TEE"], Channel.MARKETPLACE)
    assert (web.price, market.price) == (Money(1000, "USD"), Money(1150, "USD"))
    changed = await use_cases.update_product(
        inventory, "TEE", ProductChanges(price=Money(1200, "USD"), active=False)
    )
    assert changed.price == Money(1200, "USD") and not changed.active
    [market] = await use_cases.get_products(inventory, ["TEE"], Channel.MARKETPLACE)
    assert market.price == Money(1150, "USD") and not market.active
    await use_cases.delete_channel_price(inventory, "TEE", Channel.MARKETPLACE)
    [market] = await use_cases.get_products(inventory, ["TEE"], Channel.MARKETPLACE)
    assert market.price == Money(1200, "USD")
    # Deleting again is harmless.
    await use_cases.delete_channel_price(inventory, "TEE", Channel.MARKETPLACE)


async def test_listing_searches_name_or_sku_prefix_in_pages(inventory: Inventory) -> None:
    for index in range(5):
        await product(inventory, f"TEE-{index}", f"Tee number {index}")
    await product(inventory, "MUG-1", "Coffee mug")
    await product(inventory, "XTEE", "Mug with a tee print")
    first = await use_cases.list_products(inventory, "TEE", None, 2, "")
    assert [p.sku for p in first.items] == ["TEE-0", "TEE-1"]
    seen = [p.sku for p in first.items]
    cursor = first.next_cursor
    while cursor:
        page = await use_cases.list_products(inventory, "TEE", None, 2, cursor)
        seen += [p.sku for p in page.items]
        cursor = page.next_cursor
    assert seen == ["TEE-0", "TEE-1", "TEE-2", "TEE-3", "TEE-4", "XTEE"]
    mugs = await use_cases.list_products(inventory, "mug", None, 0, "")
    assert [p.sku for p in mugs.items] == ["MUG-1", "XTEE"]
    with pytest.raises(InvalidArgument):
        await use_cases.list_products(inventory, "", None, 0, "not-a-cursor!")
    with pytest.raises(InvalidArgument):
        await use_cases.list_products(inventory, "", None, 500, "")
