"""For the attack suite: a body valid enough to reach the access checks for
every route that takes one, and the world's ids put into each path
(tests/security/world.py: customer A's objects, store S1, unless told)."""

from __future__ import annotations

import re
from typing import Any

USD = {"amount_minor": 1250, "currency": "USD"}
LINE = {"sku": "SKU-MUG", "quantity": 1}
RETURN_LINE = {"sku": "SKU-MUG", "quantity": 1, "condition": "sellable"}

BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/v1/associates"): {"associate_id": "A9", "name": "New Associate", "store_id": "S1"},
    ("POST", "/v1/customers"): {"email": "alice@example.com"},
    ("PUT", "/v1/customers/{customer_id}/cart"): {"lines": [LINE]},
    ("POST", "/v1/customers/{customer_id}/cart/merge"): {"lines": [LINE]},
    ("POST", "/v1/customers/{customer_id}/merge"): {"duplicate_customer_id": "C-B"},
    ("PUT", "/v1/customers/{customer_id}/preferences"): {"channels": [], "marketing_consent": []},
    ("POST", "/v1/fulfillments/{fulfillment_id}/arrived"): {"note": "red car"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/handover"): {"pickup_code": "314159"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/pick"): {
        "lines": [{"sku": "SKU-MUG", "quantity_picked": 2}]
    },
    ("POST", "/v1/fulfillments/{fulfillment_id}/reject"): {"reason": "cooler broke"},
    ("POST", "/v1/fulfillments/{fulfillment_id}/ship"): {
        "carrier": "UPS",
        "tracking_number": "1Z999",
    },
    ("POST", "/v1/gift-cards"): {"initial_balance": USD},
    ("POST", "/v1/inventory/adjustments"): {
        "location_id": "S1",
        "sku": "SKU-MUG",
        "delta": -1,
        "reason": "damage",
    },
    ("PUT", "/v1/inventory/safety-stock"): {
        "location_id": "S1",
        "sku": "SKU-MUG",
        "channel": "web",
        "quantity": 1,
    },
    ("POST", "/v1/locations"): {
        "location_id": "S9",
        "name": "Store 9",
        "kind": "store",
        "lat": 40.0,
        "lon": -75.0,
    },
    ("PATCH", "/v1/locations/{location_id}"): {"name": "Store 1 renamed"},
    ("POST", "/v1/orders"): {
        "lines": [LINE],
        "fulfillment": {"type": "pickup", "location_id": "S1"},
        "payment": {"tenders": [{"type": "card", "token": "tok_approve"}]},
        "customer_id": "C-A",
    },
    ("POST", "/v1/orders/{order_id}/cancel"): {"reason": "changed my mind"},
    ("POST", "/v1/orders/{order_id}/lines/cancel"): {"lines": [LINE]},
    ("PUT", "/v1/orders/{order_id}/shipping-address"): {
        "line1": "1 Main St",
        "city": "Springfield",
        "postal_code": "12345",
        "country": "US",
        "lat": 40.0,
        "lon": -75.0,
    },
    ("POST", "/v1/orders/{order_id}/payment"): {
        "tenders": [{"type": "card", "token": "tok_approve"}]
    },
    ("POST", "/v1/products"): {"sku": "SKU-NEW", "name": "New", "price": USD},
    ("PATCH", "/v1/products/{sku}"): {"name": "Mug"},
    ("PUT", "/v1/products/{sku}/prices/{channel}"): {"price": USD},
    ("POST", "/v1/promotions"): {
        "name": "Spring",
        "kind": "percent_off",
        "value": 10,
        "starts_at": "2026-01-01T00:00:00Z",
        "ends_at": "2027-01-01T00:00:00Z",
    },
    ("POST", "/v1/quotes"): {
        "channel": "web",
        "lines": [LINE],
        "fulfillment": {"type": "pickup", "location_id": "S1"},
    },
    ("POST", "/v1/returns"): {
        "order_id": "O-A",
        "lines": [RETURN_LINE],
        "method": "in_store",
        "location_id": "S1",
        # An exchange (issue 11): its replacement's lines and fulfillment.
        "exchange": {"lines": [LINE], "fulfillment": {"type": "pickup", "location_id": "S1"}},
    },
    ("POST", "/v1/returns/{return_id}/receive"): {"location_id": "S1", "lines": [RETURN_LINE]},
    ("POST", "/v1/shipping-methods"): {
        "method_id": "ground",
        "name": "Ground",
        "price": USD,
        "countries": ["US"],
    },
    ("PUT", "/v1/tax-regions/{region}"): {"name": "California", "rate_bps": 725},
}

# Path parameters: customer A's objects at store S1.
PARAMS: dict[str, str] = {
    "customer_id": "C-A",
    "order_id": "O-A",
    "fulfillment_id": "F-A",
    "return_id": "R-A",
    "store_id": "S1",
    "location_id": "S1",
    "code": "GC-A",
    "sku": "SKU-MUG",
    "channel": "marketplace",
    "promotion_id": "P1",
    "region": "US-CA",
    "associate_id": "A1",
}

QUERIES: dict[str, str] = {
    "/v1/dev/provider/operations": "reference=O-A",
    "/v1/reports/staff-sales": "store_id=S1&from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z",
    "/v1/availability": "skus=SKU-MUG",
    "/v1/associates": "store_id=S1",
    "/v1/customers": "email=alice@example.com",
}


def concrete(path: str, **params: str) -> str:
    """`path` with the world's ids (or `params`) put in, plus its query."""
    values = {**PARAMS, **params}
    filled = re.sub(r"\{([^}]+)\}", lambda m: values.get(m.group(1), "X1"), path)
    query = QUERIES.get(path)
    return f"{filled}?{query}" if query else filled
