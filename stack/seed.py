"""The demo data `omni up` loads once: stores, a warehouse, products, stock,
customers, the tax regions the locations sit in and the shipping methods."""

from __future__ import annotations

import grpc

from omni.common.v1 import common_pb2
from omni.customers.v1 import customers_pb2, customers_pb2_grpc
from omni.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from omni.orders.v1 import orders_pb2, orders_pb2_grpc
from omni.words import LocationKind, StockMovementReason
from services.common.channels import channel_credentials, tls_from_env
from services.common.identity import CallerIdentity, Role, identified_sync_channel

# Seeding writes locations, the catalog and stock: an admin's work.
SEED_CALLER = CallerIdentity(sub="omni-seed", role=Role.ADMIN)

# (location_id, name, kind, lat, lon, pickup, ship_from, tax_region)
DEMO_LOCATIONS = [
    ("S1", "Downtown Store", "store", 40.7128, -74.0060, True, True, "US-NY"),
    ("S2", "Midtown Store", "store", 40.7549, -73.9840, True, True, "US-NY"),
    ("S3", "Brooklyn Store", "store", 40.6782, -73.9442, True, False, "US-NY"),
    ("W1", "Newark Warehouse", "warehouse", 40.7357, -74.1724, False, True, "US-NJ"),
]
# (region, name, rate in basis points): the locations' regions and a neighbour
# the demo ships to. A region without a row is taxed at 0 (and the order says so).
DEMO_TAX_REGIONS = [
    ("US-NY", "New York", 888),
    ("US-NJ", "New Jersey", 663),
    ("US-CT", "Connecticut", 635),
]
# (method_id, name, price in cents, free over in cents or None, countries)
DEMO_SHIPPING_METHODS = [
    ("standard", "Standard (3-5 days)", 599, 7500, ["US"]),
    ("express", "Express (next day)", 1999, None, ["US"]),
]
# (sku, name, price in cents, returnable days)
DEMO_PRODUCTS = [
    ("SKU-TSHIRT", "Organic cotton T-shirt", 1999, 30),
    ("SKU-MUG", "Stoneware mug", 1250, 30),
    ("SKU-HOODIE", "Fleece hoodie", 4900, 60),
    ("SKU-CAP", "Baseball cap", 1500, 30),
]
# on hand per (location, sku)
DEMO_STOCK = {
    "S1": {"SKU-TSHIRT": 20, "SKU-MUG": 10, "SKU-HOODIE": 5, "SKU-CAP": 8},
    "S2": {"SKU-TSHIRT": 12, "SKU-MUG": 4, "SKU-HOODIE": 6},
    "S3": {"SKU-TSHIRT": 6, "SKU-CAP": 10},
    "W1": {"SKU-TSHIRT": 200, "SKU-MUG": 150, "SKU-HOODIE": 80, "SKU-CAP": 120},
}
DEMO_CUSTOMERS = [
    ("Ada Lovelace", "ada@example.com", "+12125550101"),
    ("Grace Hopper", "grace@example.com", "+12125550102"),
]


def _ignore_exists(call: grpc.RpcError) -> None:
    if call.code() != grpc.StatusCode.ALREADY_EXISTS:
        raise call


def _channel(address: str, identity_key: bytes) -> grpc.Channel:
    tls = tls_from_env()
    plain = (
        grpc.insecure_channel(address)
        if tls is None
        else grpc.secure_channel(address, channel_credentials(tls))
    )
    return identified_sync_channel(plain, SEED_CALLER, identity_key)


def seed_demo(addresses: dict[str, str], identity_key: bytes) -> None:
    """Loads the demo data as SEED_CALLER; safe to run again (creates are
    matched, keys reused)."""
    with _channel(addresses["inventory"], identity_key) as channel:
        inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
        for location_id, name, kind, lat, lon, pickup, ship, region in DEMO_LOCATIONS:
            location = inventory_pb2.Location(
                location_id=location_id,
                name=name,
                kind=LocationKind(kind).to_proto(),
                point=common_pb2.GeoPoint(lat=lat, lon=lon),
                pickup_enabled=pickup,
                ship_from_enabled=ship,
                daily_order_capacity=100,
                pickup_window_hours=72,
                pick_sla_minutes=120,
                tax_region=region,
            )
            try:
                inventory.CreateLocation(inventory_pb2.CreateLocationRequest(location=location))
            except grpc.RpcError as error:
                _ignore_exists(error)
        for sku, name, cents, days in DEMO_PRODUCTS:
            product = inventory_pb2.Product(
                sku=sku,
                name=name,
                price=common_pb2.Money(amount_minor=cents, currency="USD"),
                returnable_days=days,
            )
            try:
                inventory.CreateProduct(inventory_pb2.CreateProductRequest(product=product))
            except grpc.RpcError as error:
                _ignore_exists(error)
        for location_id, stock in DEMO_STOCK.items():
            for sku, quantity in stock.items():
                inventory.AdjustStock(
                    inventory_pb2.AdjustStockRequest(
                        idempotency_key=f"seed/{location_id}/{sku}",
                        location_id=location_id,
                        sku=sku,
                        delta=quantity,
                        reason=StockMovementReason.RECEIPT.to_proto(),
                        actor="omni-seed",
                        reference="demo",
                    )
                )
    with _channel(addresses["orders"], identity_key) as channel:
        orders = orders_pb2_grpc.OrdersServiceStub(channel)
        for region, region_name, rate_bps in DEMO_TAX_REGIONS:
            # A put: running the seed again leaves the same rate.
            orders.PutTaxRegion(
                orders_pb2.PutTaxRegionRequest(
                    tax_region=orders_pb2.TaxRegion(
                        region=region, name=region_name, rate_bps=rate_bps
                    )
                )
            )
        for method_id, method_name, price, free_over, countries in DEMO_SHIPPING_METHODS:
            method = orders_pb2.ShippingMethod(
                method_id=method_id,
                name=method_name,
                price=common_pb2.Money(amount_minor=price, currency="USD"),
                countries=countries,
            )
            if free_over is not None:
                method.free_over.CopyFrom(common_pb2.Money(amount_minor=free_over, currency="USD"))
            try:
                orders.CreateShippingMethod(
                    orders_pb2.CreateShippingMethodRequest(shipping_method=method)
                )
            except grpc.RpcError as error:
                _ignore_exists(error)
    with _channel(addresses["customers"], identity_key) as channel:
        customers = customers_pb2_grpc.CustomersServiceStub(channel)
        for name, email, phone in DEMO_CUSTOMERS:
            customers.CreateCustomer(
                customers_pb2.CreateCustomerRequest(name=name, email=email, phone=phone)
            )
