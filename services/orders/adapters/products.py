"""The product catalog, from inventory's GetProducts."""

from __future__ import annotations

import grpc

from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.common.errors import InvalidArgument, Unavailable
from services.common.grpc_errors import describe_rpc_error
from services.common.money import Money
from services.orders.domain.placing import Catalog, CatalogPrice

INVENTORY_TIMEOUT_SECONDS = 10.0


class InventoryProducts:
    def __init__(
        self,
        stub: inventory_pb2_grpc.InventoryServiceStub,
        timeout_seconds: float = INVENTORY_TIMEOUT_SECONDS,
    ) -> None:
        self._stub = stub
        self._timeout = timeout_seconds

    async def prices(self, skus: list[str]) -> Catalog:
        """Prices and return windows; inventory's NOT_FOUND names the unknown SKUs
        (google.rpc ResourceInfo), read back here, never from the message."""
        try:
            reply = await self._stub.GetProducts(
                inventory_pb2.GetProductsRequest(skus=skus), timeout=self._timeout
            )
        except grpc.aio.AioRpcError as error:
            info = describe_rpc_error(error)
            if info.code != grpc.StatusCode.NOT_FOUND:
                raise Unavailable(f"inventory: {info.message}") from error
            if not info.missing_ids:
                raise InvalidArgument.field("lines", info.message or "unknown sku") from error
            return Catalog(prices={}, unknown=info.missing_ids)
        return Catalog(
            prices={
                product.sku: CatalogPrice(
                    product.sku,
                    Money(product.price.amount_minor, product.price.currency),
                    product.returnable_days,
                )
                for product in reply.products
            }
        )
