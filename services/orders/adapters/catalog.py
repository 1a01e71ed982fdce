"""The catalog as pricing reads it: inventory's GetProducts for a channel, and
a location's tax region (GetLocation, or with the products: one call)."""

from __future__ import annotations

import grpc

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.words import Channel
from services.common.errors import InvalidArgument, NotFound, Unavailable
from services.common.grpc_errors import RpcErrorInfo, describe_rpc_error
from services.orders.domain.pricing import CatalogItem

INVENTORY_TIMEOUT_SECONDS = 10.0


class InventoryCatalog:
    def __init__(
        self,
        stub: inventory_pb2_grpc.InventoryServiceStub,
        timeout_seconds: float = INVENTORY_TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def items(self, skus: list[str], channel: Channel) -> dict[str, CatalogItem]:
        items, _ = await self._products(skus, channel, "")
        return items

    async def items_at(
        self, skus: list[str], channel: Channel, location_id: str
    ) -> tuple[dict[str, CatalogItem], str]:
        return await self._products(skus, channel, location_id)

    async def _products(
        self, skus: list[str], channel: Channel, location_id: str
    ) -> tuple[dict[str, CatalogItem], str]:
        """GetProducts; with `location_id`, that location's tax region too."""
        try:
            reply = await self._stub.GetProducts(
                inventory_pb2.GetProductsRequest(
                    skus=skus, channel=channel.to_proto(), location_id=location_id
                ),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as error:
            info = describe_rpc_error(error)
            if location_id and _about_the_location(info):
                raise _location_refusal(info, location_id) from error
            if info.code != grpc.StatusCode.NOT_FOUND:
                raise Unavailable(f"inventory: {info.message}") from error
            missing = info.missing_ids or []
            for index, sku in enumerate(skus):
                if sku in missing or not missing:
                    raise InvalidArgument.field(
                        f"lines[{index}].sku", f"unknown sku {sku}"
                    ) from error
            raise InvalidArgument.field("lines", info.message) from error
        items = {
            p.sku: CatalogItem(
                p.sku, p.price.amount_minor, p.price.currency, p.returnable_days, not p.inactive
            )
            for p in reply.products
        }
        return items, reply.location.tax_region

    async def tax_region_of(self, location_id: str) -> str:
        try:
            reply = await self._stub.GetLocation(
                inventory_pb2.GetLocationRequest(location_id=location_id), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            raise _location_refusal(describe_rpc_error(error), location_id) from error
        return reply.location.tax_region


def _about_the_location(info: RpcErrorInfo) -> bool:
    if info.code == grpc.StatusCode.NOT_FOUND:
        return info.resource_type == "location"
    return any(v.field == "location_id" for v in info.violations)


def _location_refusal(info: RpcErrorInfo, location_id: str) -> Exception:
    if info.code == grpc.StatusCode.NOT_FOUND:
        return NotFound(
            f"location {location_id} not found", resource_type="location", ids=[location_id]
        )
    if info.code == grpc.StatusCode.INVALID_ARGUMENT:
        return InvalidArgument.field("fulfillment.location_id", info.message)
    return Unavailable(f"inventory: {info.message}")
