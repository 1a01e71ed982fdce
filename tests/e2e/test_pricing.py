"""Selling economics end to end through the gateway (issue 13): the catalog
every channel reads, prices that change, coupons, tax at two regions, free
shipping over a threshold, a return refunding the discounted price plus tax,
and quote = charge for random baskets.

Promotions, tax regions and shipping methods are global tables: each test
scopes its promotions to its own SKUs and uses its own region codes and
shipping countries, so tests never price each other's baskets."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stack.harness import StackProcess
from tests.e2e.api import Caller, money, token, unique
from tests.e2e.test_journeys import (
    _wait_for_return_status,
    associate_caller,
    customer_caller,
    make_customer,
    make_product,
    receive_stock,
)

LAT, LON = 41.8781, -87.6298
CARD = [{"type": "card", "token": "tok_approve"}]


@pytest.fixture
def admin(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("admin"))


@pytest.fixture
def guest(stack: StackProcess) -> Caller:
    return Caller(stack.gateway_url, token("guest", channel="web"))


def region_code() -> str:
    """A tax region of this test only ("US" + four letters)."""
    return "US-" + "".join(random.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4))


def country_code() -> str:
    """A shipping country of this test only (two letters no real order uses)."""
    return "Q" + random.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def make_store(admin: Caller, tax_region: str, lat: float = LAT, lon: float = LON) -> str:
    location_id = unique("LOC")
    response = admin.post(
        "/v1/locations",
        {
            "location_id": location_id,
            "name": f"Store {location_id}",
            "kind": "store",
            "lat": lat,
            "lon": lon,
            "pickup_enabled": True,
            "ship_from_enabled": True,
            "daily_order_capacity": 1000,
            "tax_region": tax_region,
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["tax_region"] == tax_region
    return location_id


def put_rate(admin: Caller, region: str, rate_bps: int) -> None:
    response = admin.put(f"/v1/tax-regions/{region}", {"name": region, "rate_bps": rate_bps})
    assert response.status_code == 200, response.text


def promotion(admin: Caller, **fields: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    body = {
        "name": unique("promo"),
        "kind": "percent_off",
        "value": 10,
        "starts_at": (now - timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
        **fields,
    }
    response = admin.post("/v1/promotions", body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def pickup(store: str) -> dict[str, Any]:
    return {"type": "pickup", "location_id": store}


def ship_to(country: str, region: str, method: str | None = None) -> dict[str, Any]:
    fulfillment: dict[str, Any] = {
        "type": "ship",
        "address": {
            "line1": "1 Test St",
            "city": "Testville",
            "postal_code": "60601",
            "country": country,
            "region": region,
            "lat": LAT + 0.01,
            "lon": LON + 0.01,
        },
    }
    if method is not None:
        fulfillment["shipping_method"] = method
    return fulfillment


def quote(
    caller: Caller,
    lines: list[tuple[str, int]],
    fulfillment: dict[str, Any],
    codes: list[str] | None = None,
) -> Any:
    return caller.post(
        "/v1/quotes",
        {
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "fulfillment": fulfillment,
            "coupon_codes": codes or [],
        },
    )


def place(
    customer: Caller,
    customer_id: str,
    lines: list[tuple[str, int]],
    fulfillment: dict[str, Any],
    codes: list[str] | None = None,
) -> Any:
    return customer.post(
        "/v1/orders",
        {
            "customer_id": customer_id,
            "lines": [{"sku": s, "quantity": q} for s, q in lines],
            "fulfillment": fulfillment,
            "coupon_codes": codes or [],
            "payment": {"tenders": CARD},
        },
    )


def authorized(order: dict[str, Any]) -> int:
    return sum(p["authorized"]["amount_minor"] for p in order["payments"])


def parts_add_up(totals: dict[str, Any]) -> None:
    t = {k: v["amount_minor"] for k, v in totals.items()}
    assert t["total"] == t["subtotal"] - t["discount"] + t["shipping"] + t["tax"]


# ---------------------------------------------------------------- catalog


def test_only_an_admin_changes_the_catalog_and_each_channel_reads_its_price(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    sku = make_product(admin, 1000)
    customer = customer_caller(stack, make_customer(guest))
    for caller in (customer, guest):
        assert (
            caller.post(
                "/v1/products", {"sku": unique("X"), "name": "x", "price": money(1)}
            ).status_code
            == 403
        )
        patched = _patch(caller, f"/v1/products/{sku}", {"price": money(1)})
        assert patched.status_code == 403, patched.text
    assert _patch(admin, "/v1/products/NOPE-404", {"name": "x"}).status_code == 404
    assert _patch(admin, f"/v1/products/{sku}", {"price": money(0)}).status_code == 400

    market = Caller(stack.gateway_url, token("customer", customer_id="C-M", channel="marketplace"))
    put = admin.put(f"/v1/products/{sku}/prices/marketplace", {"price": money(1150)})
    assert put.status_code == 200, put.text
    wrong = admin.put(f"/v1/products/{sku}/prices/marketplace", {"price": money(1150, "EUR")})
    assert wrong.status_code == 400, wrong.text
    assert guest.get(f"/v1/products/{sku}").json()["price"] == money(1000)
    assert market.get(f"/v1/products/{sku}").json()["price"] == money(1150)
    listed = guest.get("/v1/products", query=sku[:8], limit=200).json()
    assert sku in [p["sku"] for p in listed["items"]]
    found = guest.get("/v1/products", query=sku).json()["items"]
    assert [(p["sku"], p["price"], p["active"]) for p in found] == [(sku, money(1000), True)]
    assert guest.get("/v1/products", cursor="garbage!").status_code == 400
    deleted = _delete(admin, f"/v1/products/{sku}/prices/marketplace")
    assert deleted.status_code == 200, deleted.text
    assert market.get(f"/v1/products/{sku}").json()["price"] == money(1000)


def test_an_inactive_product_cannot_be_ordered_but_its_orders_still_read(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    region = region_code()
    store = make_store(admin, region)
    sku = make_product(admin, 700)
    receive_stock(admin, store, sku, 5)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    first = place(customer, customer_id, [(sku, 1)], pickup(store))
    assert first.status_code == 201, first.text
    off = _patch(admin, f"/v1/products/{sku}", {"active": False})
    assert off.status_code == 200 and off.json()["active"] is False
    refused = place(customer, customer_id, [(sku, 1)], pickup(store))
    assert refused.status_code == 422, refused.text
    assert refused.json()["reason"] == "PRODUCT_INACTIVE"
    assert quote(customer, [(sku, 1)], pickup(store)).status_code == 422
    order_id = first.json()["order_id"]
    assert customer.get(f"/v1/orders/{order_id}").json()["lines"][0]["unit_price"] == money(700)


def test_a_price_change_applies_to_the_next_order_never_to_one_placed(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_store(admin, region_code())
    sku = make_product(admin, 1000)
    receive_stock(admin, store, sku, 10)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    before = place(customer, customer_id, [(sku, 2)], pickup(store))
    assert before.status_code == 201, before.text
    assert _patch(admin, f"/v1/products/{sku}", {"price": money(1500)}).status_code == 200
    after = place(customer, customer_id, [(sku, 2)], pickup(store))
    assert after.status_code == 201, after.text
    old = customer.get(f"/v1/orders/{before.json()['order_id']}").json()
    new = customer.get(f"/v1/orders/{after.json()['order_id']}").json()
    assert (old["lines"][0]["unit_price"], old["totals"]["total"]) == (money(1000), money(2000))
    assert (new["lines"][0]["unit_price"], new["totals"]["total"]) == (money(1500), money(3000))
    assert (authorized(old), authorized(new)) == (2000, 3000)


# ---------------------------------------------------------------- coupons, tax, returns


def test_a_coupon_tax_at_two_regions_and_a_return_refunding_what_was_paid(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    high, low = region_code(), region_code()
    put_rate(admin, high, 800)
    put_rate(admin, low, 500)
    store_high, store_low = make_store(admin, high), make_store(admin, low, LAT + 0.2, LON)
    untaxed = make_store(admin, region_code(), LAT + 0.3, LON)  # a region with no rate
    sku = make_product(admin, 2500)
    receive_stock(admin, store_high, sku, 10)
    code = "E2E" + uuid.uuid4().hex[:8].upper()
    promotion(admin, code=code, value=20, skus=[sku])
    expired_code = "OLD" + uuid.uuid4().hex[:8].upper()
    now = datetime.now(UTC)
    promotion(
        admin,
        code=expired_code,
        skus=[sku],
        starts_at=(now - timedelta(days=2)).isoformat(),
        ends_at=(now - timedelta(days=1)).isoformat(),
    )
    app_code = "APP" + uuid.uuid4().hex[:8].upper()
    promotion(admin, code=app_code, skus=[sku], channels=["app"])
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)

    for bad, why in (
        (expired_code, "expired"),
        (app_code, "not valid in the web channel"),
        ("NOSUCH" + code, "unknown"),
    ):
        refused = quote(customer, [(sku, 2)], pickup(store_high), [bad])
        assert refused.status_code == 422, refused.text
        assert bad in refused.json()["detail"] and why in refused.json()["detail"]
        refused_order = place(customer, customer_id, [(sku, 2)], pickup(store_high), [bad])
        assert refused_order.status_code == 422, refused_order.text

    at_high = quote(customer, [(sku, 2)], pickup(store_high), [code.lower()]).json()
    at_low = quote(customer, [(sku, 2)], pickup(store_low), [code]).json()
    at_none = quote(customer, [(sku, 2)], pickup(untaxed), [code]).json()
    # 2 x 25.00 = 50.00, 20 % off = 40.00; 8 % = 3.20, 5 % = 2.00, none = 0.
    assert at_high["totals"]["total"] == money(4320)
    assert at_low["totals"]["total"] == money(4200)
    assert at_none["totals"]["tax"] == money(0) and "no rate" in at_none["tax_rule"]
    assert [p["code"] for p in at_high["promotions_applied"]] == [code]
    parts_add_up(at_high["totals"])

    placed = place(customer, customer_id, [(sku, 2)], pickup(store_high), [code])
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["totals"] == at_high["totals"]
    assert authorized(order) == 4320
    line = order["lines"][0]
    assert (line["discount"], line["tax"], line["total"]) == (money(1000), money(320), money(4320))

    # Collect, then return one of the two: 20.00 after discount + 1.60 tax.
    associate = associate_caller(stack, store_high)
    fulfillment_id = order["fulfillments"][0]["fulfillment_id"]
    picked = associate.post(
        f"/v1/fulfillments/{fulfillment_id}/pick", {"lines": [{"sku": sku, "quantity_picked": 2}]}
    )
    assert picked.status_code == 200, picked.text
    code_shown = customer.get(f"/v1/orders/{order['order_id']}").json()["fulfillments"][0]
    handed = associate.post(
        f"/v1/fulfillments/{fulfillment_id}/handover", {"pickup_code": code_shown["pickup_code"]}
    )
    assert handed.status_code == 200, handed.text
    done = customer.get(f"/v1/orders/{order['order_id']}").json()
    assert sum(p["captured"]["amount_minor"] for p in done["payments"]) == 4320
    # The catalog price changes after the sale: the return still refunds what was paid.
    assert _patch(admin, f"/v1/products/{sku}", {"price": money(9999)}).status_code == 200
    returned = associate.post(
        "/v1/returns",
        {
            "order_id": order["order_id"],
            "lines": [{"sku": sku, "quantity": 1, "condition": "sellable"}],
            "method": "in_store",
            "location_id": store_high,
        },
    )
    assert returned.status_code == 201, returned.text
    assert returned.json()["refund"] == money(2160)
    refunded = _wait_for_return_status(associate, returned.json()["return_id"], "refunded")
    assert sum(r["amount"]["amount_minor"] for r in refunded["refunds"]) == 2160


# ---------------------------------------------------------------- shipping


def test_free_shipping_over_the_threshold_and_a_method_must_be_named_when_several_fit(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    country, region = country_code(), "ZZ"
    store = make_store(admin, region_code())
    sku = make_product(admin, 2000)
    receive_stock(admin, store, sku, 20)
    std, fast = unique("std").lower(), unique("fast").lower()
    for method_id, price in ((std, 599), (fast, 1599)):
        made = admin.post(
            "/v1/shipping-methods",
            {
                "method_id": method_id,
                "name": method_id,
                "price": money(price),
                "free_over": money(5000),
                "countries": [country],
            },
        )
        assert made.status_code == 201, made.text
    again = admin.post(
        "/v1/shipping-methods",
        {"method_id": std, "name": "x", "price": money(1), "countries": [country]},
    )
    assert again.status_code == 409, again.text
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    unnamed = place(customer, customer_id, [(sku, 1)], ship_to(country, region))
    assert unnamed.status_code == 400, unnamed.text
    under = quote(customer, [(sku, 2)], ship_to(country, region, std)).json()
    over = quote(customer, [(sku, 3)], ship_to(country, region, std)).json()
    assert under["totals"]["shipping"] == money(599)
    assert over["totals"]["shipping"] == money(0)
    placed = place(customer, customer_id, [(sku, 2)], ship_to(country, region, std))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert order["totals"] == under["totals"]
    assert order["shipping_method"] == std
    assert authorized(order) == under["totals"]["total"]["amount_minor"]


# ---------------------------------------------------------------- quote = charge


def test_twenty_random_baskets_charge_exactly_their_quotes(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    rng = random.Random(13)
    region = region_code()
    put_rate(admin, region, 887)
    store = make_store(admin, region)
    skus = [make_product(admin, price) for price in (999, 1249, 333, 5000)]
    for sku in skus:
        receive_stock(admin, store, sku, 500)
    promotion(admin, value=15, skus=[skus[0], skus[2]])  # automatic
    promotion(admin, kind="amount_off", value=777, currency="USD", skus=[skus[1]])
    code = "RND" + uuid.uuid4().hex[:8].upper()
    promotion(admin, code=code, value=5, skus=skus)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    for index in range(20):
        lines = [(sku, rng.randint(1, 7)) for sku in rng.sample(skus, rng.randint(1, 4))]
        codes = [code] if index % 2 else []
        quoted = quote(customer, lines, pickup(store), codes)
        assert quoted.status_code == 200, quoted.text
        placed = place(customer, customer_id, lines, pickup(store), codes)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        expected = quoted.json()["totals"]
        parts_add_up(expected)
        assert order["totals"] == expected, (index, lines)
        assert authorized(order) == expected["total"]["amount_minor"], (index, lines)


def _patch(caller: Caller, path: str, body: Any) -> Any:
    import httpx

    return httpx.patch(
        caller.base_url + path,
        json=body,
        headers={"Authorization": f"Bearer {caller.bearer}"},
        timeout=60,
    )


def _delete(caller: Caller, path: str) -> Any:
    import httpx

    return httpx.delete(
        caller.base_url + path, headers={"Authorization": f"Bearer {caller.bearer}"}, timeout=60
    )


def test_a_split_shipment_with_a_promotion_charges_exactly_its_quote(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """Neither store holds both SKUs: the order ships from two, one authorization
    of the quoted total (the shipping once)."""
    country = country_code()
    region = "SP"
    put_rate(admin, f"{country}-{region}", 650)
    north = make_store(admin, region_code(), LAT + 0.05, LON)
    south = make_store(admin, region_code(), LAT - 0.05, LON)
    left, right = make_product(admin, 1899), make_product(admin, 2450)
    receive_stock(admin, north, left, 5)
    receive_stock(admin, south, right, 5)
    method = unique("split").lower()
    made = admin.post(
        "/v1/shipping-methods",
        {"method_id": method, "name": method, "price": money(895), "countries": [country]},
    )
    assert made.status_code == 201, made.text
    promotion(admin, value=25, skus=[right])
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    lines = [(left, 2), (right, 1)]
    quoted = quote(customer, lines, ship_to(country, region, method))
    assert quoted.status_code == 200, quoted.text
    expected = quoted.json()["totals"]
    assert expected["discount"] == money(612)  # 25 % of 24.50 = 6.125, half to even
    parts_add_up(expected)
    placed = place(customer, customer_id, lines, ship_to(country, region, method))
    assert placed.status_code == 201, placed.text
    order = placed.json()
    assert len({f["location_id"] for f in order["fulfillments"]}) == 2
    assert order["totals"] == expected
    assert authorized(order) == expected["total"]["amount_minor"]

    # The shipping (with its tax) is captured with the first shipment; the
    # second captures the rest; together exactly the quote.
    shipping_tax = round(895 * 650 / 10000)
    goods = expected["total"]["amount_minor"] - 895 - shipping_tax
    captured: list[int] = []
    for fulfillment in sorted(order["fulfillments"], key=lambda f: f["location_id"] != north):
        store = associate_caller(stack, fulfillment["location_id"])
        fid = fulfillment["fulfillment_id"]
        picked = store.post(
            f"/v1/fulfillments/{fid}/pick",
            {"lines": [{"sku": line["sku"], "quantity_picked": line["quantity"]}
                       for line in fulfillment["lines"]]},
        )  # fmt: skip
        assert picked.status_code == 200, picked.text
        shipped = store.post(
            f"/v1/fulfillments/{fid}/ship", {"carrier": "UPS", "tracking_number": unique("1Z")}
        )
        assert shipped.status_code == 200, shipped.text
        now = customer.get(f"/v1/orders/{order['order_id']}").json()
        captured.append(sum(p["captured"]["amount_minor"] for p in now["payments"]))
    first = captured[0]
    # North ships the two at 18.99 (no discount): their share of the goods plus all the shipping.
    left_listed, listed = 2 * 1899, 2 * 1899 + 2450
    assert first == 895 + shipping_tax + round(goods * left_listed / listed)
    assert captured[1] == expected["total"]["amount_minor"]
    assert now["status"] == "shipped"


def test_the_cart_shows_the_same_prices_a_quote_gives_and_an_ended_code_stops(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    store = make_store(admin, region_code())
    sku, other = make_product(admin, 1200), make_product(admin, 450)
    automatic = promotion(admin, value=50, skus=[sku])
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)
    put = customer.put(
        f"/v1/customers/{customer_id}/cart",
        {"lines": [{"sku": sku, "quantity": 2}, {"sku": other, "quantity": 1}]},
    )
    assert put.status_code == 200, put.text
    cart = customer.get(f"/v1/customers/{customer_id}/cart").json()
    by_sku = {line["sku"]: line for line in cart["lines"]}
    assert by_sku[sku]["unit_price"] == money(1200) and by_sku[sku]["discount"] == money(1200)
    assert cart["totals"]["total"] == money(1200 + 450)
    assert [p["promotion_id"] for p in cart["promotions_applied"]] == [automatic["promotion_id"]]
    quoted = quote(customer, [(sku, 2), (other, 1)], pickup(store)).json()
    assert quoted["totals"]["subtotal"] == cart["totals"]["subtotal"]
    assert quoted["totals"]["discount"] == cart["totals"]["discount"]

    # Ending the promotion: the next cart and quote pay full price.
    ended = admin.post(f"/v1/promotions/{automatic['promotion_id']}/end", {})
    assert ended.status_code == 200 and ended.json()["ended_at"], ended.text
    assert customer.get(f"/v1/customers/{customer_id}/cart").json()["totals"]["total"] == money(
        2850
    )
    # A customer may not manage promotions, nor see another customer's cart prices.
    assert customer.post("/v1/promotions", {"name": "x"}).status_code in (403, 400)
    assert customer.get("/v1/promotions").status_code == 403
    stranger = customer_caller(stack, make_customer(guest))
    assert stranger.get(f"/v1/customers/{customer_id}/cart").status_code in (403, 404)


def test_a_repeated_promotion_with_the_same_key_is_created_once(
    stack: StackProcess, admin: Caller
) -> None:
    now = datetime.now(UTC)
    body = {
        "name": unique("once"),
        "kind": "amount_off",
        "value": 100,
        "currency": "USD",
        "skus": [unique("NOSKU")],
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    key = str(uuid.uuid4())
    first = admin.post("/v1/promotions", body, idempotency_key=key)
    again = admin.post("/v1/promotions", body, idempotency_key=key)
    assert first.status_code == again.status_code == 201, (first.text, again.text)
    assert first.json()["promotion_id"] == again.json()["promotion_id"]
    bad = admin.post("/v1/promotions", {**body, "kind": "percent_off", "value": 101})
    assert bad.status_code == 400, bad.text
    listed = admin.get("/v1/promotions", limit=200).json()
    assert "items" in listed


def test_a_price_change_racing_placements_never_mixes_prices(
    stack: StackProcess, admin: Caller, guest: Caller
) -> None:
    """Orders placed while the price changes each charge one price, their own
    totals, to the cent; the same promotion posted twice at once is one."""
    from concurrent.futures import ThreadPoolExecutor

    store = make_store(admin, region_code())
    sku = make_product(admin, 1000)
    receive_stock(admin, store, sku, 50)
    customer_id = make_customer(guest)
    customer = customer_caller(stack, customer_id)

    def order(_: int) -> Any:
        return place(customer, customer_id, [(sku, 3)], pickup(store))

    def reprice(_: int) -> Any:
        return _patch(admin, f"/v1/products/{sku}", {"price": money(1300)})

    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(order, n) for n in range(5)] + [pool.submit(reprice, 0)]
        answers = [f.result() for f in futures]
    assert answers[-1].status_code == 200, answers[-1].text
    for placed in answers[:-1]:
        assert placed.status_code == 201, placed.text
        body = placed.json()
        unit = body["lines"][0]["unit_price"]["amount_minor"]
        assert unit in (1000, 1300)
        assert body["totals"]["total"] == money(3 * unit)
        assert authorized(body) == 3 * unit
    after = place(customer, customer_id, [(sku, 1)], pickup(store))
    assert after.json()["lines"][0]["unit_price"] == money(1300)

    now = datetime.now(UTC)
    body = {
        "name": unique("race"),
        "kind": "percent_off",
        "value": 5,
        "skus": [sku],
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=1)).isoformat(),
    }
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=2) as pool:
        both = list(pool.map(lambda _: admin.post("/v1/promotions", body, key), range(2)))
    assert [r.status_code for r in both] == [201, 201], [r.text for r in both]
    assert both[0].json()["promotion_id"] == both[1].json()["promotion_id"]
