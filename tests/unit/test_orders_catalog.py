"""The orders service's catalog adapter (adapters/catalog.py) against a real
gRPC server answering as inventory does: products and a store's tax region in
one GetProducts, and each refusal mapped to the error pricing raises."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest

from omni.common.v1 import common_pb2
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.words import Channel
from services.common.errors import InvalidArgument, NotFound, Unavailable
from services.orders.adapters.catalog import InventoryCatalog
from tests.support.grpc_server import serving


class ScriptedCatalog(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self) -> None:
        self.asked: list[inventory_pb2.GetProductsRequest] = []

    async def GetProducts(
        self, request: inventory_pb2.GetProductsRequest, context: grpc.aio.ServicerContext
    ) -> inventory_pb2.GetProductsResponse:
        self.asked.append(request)
        unknown = [sku for sku in request.skus if sku.startswith("NOPE")]
        if unknown:
            raise NotFound("unknown sku", resource_type="product", ids=unknown)
        if request.location_id == "GONE":
            raise NotFound("unknown location", resource_type="location", ids=["GONE"])
        if request.location_id == "bad":
            raise InvalidArgument.field("location_id", "is not an id")
        if request.location_id == "down":
            raise Unavailable("database unavailable")
        reply = inventory_pb2.GetProductsResponse(
            products=[
                inventory_pb2.Product(
                    sku=sku, price=common_pb2.Money(amount_minor=500, currency="USD")
                )
                for sku in request.skus
            ]
        )
        if request.location_id:
            reply.location.location_id = request.location_id
            reply.location.tax_region = "US-NY"
        return reply


@pytest.fixture
async def served() -> AsyncIterator[tuple[InventoryCatalog, ScriptedCatalog]]:
    scripted = ScriptedCatalog()
    add = inventory_pb2_grpc.add_InventoryServiceServicer_to_server
    async with serving(add, scripted) as channel:
        yield InventoryCatalog(inventory_pb2_grpc.InventoryServiceStub(channel)), scripted


async def test_products_and_the_stores_region_come_in_one_call(
    served: tuple[InventoryCatalog, ScriptedCatalog],
) -> None:
    catalog, scripted = served
    items, region = await catalog.items_at(["TEE-1", "MUG-1"], Channel.POS, "S1")
    assert (sorted(items), items["TEE-1"].unit_price_minor, region) == (
        ["MUG-1", "TEE-1"],
        500,
        "US-NY",
    )
    assert [(list(r.skus), r.location_id) for r in scripted.asked] == [(["TEE-1", "MUG-1"], "S1")]
    # Without a location nothing more is asked.
    assert sorted(await catalog.items(["TEE-1"], Channel.WEB)) == ["TEE-1"]
    assert scripted.asked[-1].location_id == ""


async def test_an_unknown_store_is_not_found_naming_it(
    served: tuple[InventoryCatalog, ScriptedCatalog],
) -> None:
    catalog, _ = served
    with pytest.raises(NotFound) as refused:
        await catalog.items_at(["TEE-1"], Channel.WEB, "GONE")
    assert (refused.value.resource_type, refused.value.ids) == ("location", ["GONE"])


async def test_an_unknown_sku_is_named_by_its_line_even_at_a_store(
    served: tuple[InventoryCatalog, ScriptedCatalog],
) -> None:
    catalog, _ = served
    with pytest.raises(InvalidArgument) as refused:
        await catalog.items_at(["TEE-1", "NOPE-2"], Channel.WEB, "S1")
    assert [v.field for v in refused.value.violations] == ["lines[1].sku"]


async def test_a_malformed_store_id_names_the_fulfillment_field(
    served: tuple[InventoryCatalog, ScriptedCatalog],
) -> None:
    catalog, _ = served
    with pytest.raises(InvalidArgument) as refused:
        await catalog.items_at(["TEE-1"], Channel.WEB, "bad")
    assert [v.field for v in refused.value.violations] == ["fulfillment.location_id"]


async def test_inventory_down_is_unavailable_never_a_refusal(
    served: tuple[InventoryCatalog, ScriptedCatalog],
) -> None:
    catalog, _ = served
    with pytest.raises(Unavailable):
        await catalog.items_at(["TEE-1"], Channel.WEB, "down")
