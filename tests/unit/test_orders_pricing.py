"""The one pricing function (services/orders/domain/pricing.py): table tests
and properties."""

from __future__ import annotations

import ast
import inspect
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omni.words import Channel, FulfillmentType, PromotionKind
from services.common.errors import BusinessRuleViolation, InvalidArgument
from services.orders.domain import pricing
from services.orders.domain.pricing import (
    Basket,
    BasketLine,
    CatalogItem,
    PaidLine,
    Promotion,
    ShippingMethod,
    TaxRate,
)

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
OPEN = NOW - timedelta(days=1)
CLOSE = NOW + timedelta(days=1)
NO_TAX = TaxRate("", 0, found=False)


def catalog(*items: tuple[str, int], currency: str = "USD") -> dict[str, CatalogItem]:
    return {sku: CatalogItem(sku, price, currency) for sku, price in items}


def basket(
    *lines: tuple[str, int],
    channel: Channel = Channel.WEB,
    codes: list[str] | None = None,
    ship: bool = False,
) -> Basket:
    return Basket(
        channel,
        FulfillmentType.SHIP if ship else FulfillmentType.PICKUP,
        [BasketLine(sku, quantity) for sku, quantity in lines],
        codes or [],
    )


def promo(pid: str, kind: PromotionKind, value: int, **kw: object) -> Promotion:
    base: dict[str, object] = {"starts_at": OPEN, "ends_at": CLOSE, "currency": "USD"}
    base.update(kw)
    return Promotion(pid, pid, kind, value, **base)  # type: ignore[arg-type]


def parts_add_up(priced: pricing.PricedBasket) -> None:
    t = priced.totals
    assert t.subtotal_minor == sum(line.subtotal_minor for line in priced.lines)
    assert t.discount_minor == sum(line.discount_minor for line in priced.lines)
    assert t.tax_minor == sum(line.tax_minor for line in priced.lines) + t.shipping_tax_minor
    assert t.total_minor == sum(line.total_minor for line in priced.lines) + (
        t.shipping_minor + t.shipping_tax_minor
    )
    assert sum(p.discount_minor for p in priced.promotions_applied) == t.discount_minor


# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 2, 2), (7, 2, 4), (15, 10, 2), (25, 10, 2), (26, 10, 3), (0, 3, 0), (1, 3, 0), (2, 3, 1)],
)
def test_half_even(numerator: int, denominator: int, expected: int) -> None:
    assert pricing.half_even(numerator, denominator) == expected


def test_shares_add_up_and_follow_weights() -> None:
    assert pricing.shares(100, [1, 1, 1]) == [33, 34, 33]
    assert sum(pricing.shares(1, [1] * 7)) == 1
    assert pricing.shares(10, [0, 0]) == [0, 0]


def test_no_float_anywhere_in_the_module() -> None:
    tree = ast.parse(inspect.getsource(pricing))
    for node in ast.walk(tree):
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float))
        assert not isinstance(node, ast.Div), "true division would produce a float"
        assert not (isinstance(node, ast.Name) and node.id == "float")


# ---------------------------------------------------------------- table tests


def test_plain_basket_is_quantity_times_price() -> None:
    priced = pricing.price_basket(
        basket(("A", 2), ("B", 1)), catalog(("A", 1299), ("B", 500)), [], NO_TAX, None, NOW
    )
    assert priced.totals.total_minor == 3098
    assert priced.tax_rule == "no tax region: 0"
    parts_add_up(priced)


def test_best_automatic_promotion_per_line_plus_one_code_stacks() -> None:
    promotions = [
        promo("p10", PromotionKind.PERCENT_OFF, 10),
        promo("p25a", PromotionKind.PERCENT_OFF, 25, skus=frozenset({"A"})),
        promo("code5", PromotionKind.AMOUNT_OFF, 500, code="SAVE5"),
    ]
    priced = pricing.price_basket(
        basket(("A", 1), ("B", 1), codes=["save5"]),
        catalog(("A", 10000), ("B", 10000)),
        promotions,
        NO_TAX,
        None,
        NOW,
    )
    a, b = priced.lines
    # A: 25 % (better than 10 %) = 2500; B: 10 % = 1000; then 500 off shared 7500:9000.
    assert a.discount_minor == 2500 + 227
    assert b.discount_minor == 1000 + 273
    assert {p.promotion_id for p in priced.promotions_applied} == {"p10", "p25a", "code5"}
    assert priced.totals.total_minor == 20000 - 3500 - 500
    parts_add_up(priced)


def test_minimum_subtotal_threshold() -> None:
    promotions = [promo("big", PromotionKind.PERCENT_OFF, 10, min_subtotal_minor=5000)]
    below = pricing.price_basket(
        basket(("A", 4)), catalog(("A", 1249)), promotions, NO_TAX, None, NOW
    )
    at = pricing.price_basket(basket(("A", 4)), catalog(("A", 1250)), promotions, NO_TAX, None, NOW)
    assert below.totals.discount_minor == 0 and not below.promotions_applied
    assert at.totals.discount_minor == 500


def test_amount_off_never_makes_a_line_negative() -> None:
    promotions = [promo("huge", PromotionKind.AMOUNT_OFF, 10**9)]
    priced = pricing.price_basket(
        basket(("A", 1)), catalog(("A", 300)), promotions, NO_TAX, None, NOW
    )
    assert priced.totals.total_minor == 0
    parts_add_up(priced)


def test_rounding_over_many_lines_is_per_line_half_even() -> None:
    # 33 lines of 1 cent at 50 % off: each line's 0.5 rounds to even (0).
    items = [(f"S{i}", 1) for i in range(33)]
    promotions = [promo("half", PromotionKind.PERCENT_OFF, 50)]
    priced = pricing.price_basket(
        basket(*[(sku, 1) for sku, _ in items]),
        catalog(*items),
        promotions,
        TaxRate("US-CA", 725),
        None,
        NOW,
    )
    assert all(line.discount_minor == 0 for line in priced.lines)
    # 3 units of 333 at 7.25 %: 72.4275 -> 72 ; 1 unit of 1: 0.0725 -> 0.
    taxed = pricing.price_basket(
        basket(("A", 3), ("B", 1)),
        catalog(("A", 333), ("B", 1)),
        [],
        TaxRate("US-CA", 725),
        None,
        NOW,
    )
    assert [line.tax_minor for line in taxed.lines] == [72, 0]
    parts_add_up(priced)
    parts_add_up(taxed)


@pytest.mark.parametrize(
    ("currency", "price", "expected_tax"), [("JPY", 1234, 123), ("BHD", 1005, 100)]
)
def test_zero_and_three_decimal_currencies(currency: str, price: int, expected_tax: int) -> None:
    shipping = ShippingMethod("std", "Standard", 700, currency, frozenset({"JP", "BH"}))
    priced = pricing.price_basket(
        basket(("A", 1), ship=True),
        catalog(("A", price), currency=currency),
        [],
        TaxRate("X", 1000),
        shipping,
        NOW,
    )
    assert priced.totals.currency == currency
    assert priced.lines[0].tax_minor == expected_tax
    assert priced.totals.shipping_minor == 700
    assert priced.totals.shipping_tax_minor == 70
    parts_add_up(priced)


def test_amount_off_in_another_currency_does_not_apply() -> None:
    promotions = [promo("usd", PromotionKind.AMOUNT_OFF, 100, currency="USD")]
    priced = pricing.price_basket(
        basket(("A", 1)), catalog(("A", 1000), currency="JPY"), promotions, NO_TAX, None, NOW
    )
    assert priced.totals.discount_minor == 0


def test_free_shipping_over_the_threshold_after_discounts() -> None:
    shipping = ShippingMethod(
        "std", "Standard", 599, "USD", frozenset({"US"}), free_over_minor=5000
    )
    promotions = [promo("p10", PromotionKind.PERCENT_OFF, 10)]
    over = pricing.price_basket(
        basket(("A", 1), ship=True),
        catalog(("A", 5600)),
        promotions,
        TaxRate("US-NY", 800),
        shipping,
        NOW,
    )
    under = pricing.price_basket(
        basket(("A", 1), ship=True),
        catalog(("A", 5500)),
        promotions,
        TaxRate("US-NY", 800),
        shipping,
        NOW,
    )
    assert over.totals.shipping_minor == 0
    assert under.totals.shipping_minor == 599
    assert under.totals.shipping_tax_minor == 48
    assert under.shipping_method == "std"
    parts_add_up(under)


def test_pickup_pays_no_shipping() -> None:
    shipping = ShippingMethod("std", "Standard", 599, "USD", frozenset({"US"}))
    priced = pricing.price_basket(basket(("A", 1)), catalog(("A", 100)), [], NO_TAX, shipping, NOW)
    assert priced.totals.shipping_minor == 0


def test_region_without_rate_is_taxed_zero_and_says_so() -> None:
    priced = pricing.price_basket(
        basket(("A", 1)), catalog(("A", 100)), [], TaxRate("US-ZZ", 0, found=False), None, NOW
    )
    assert priced.totals.tax_minor == 0
    assert priced.tax_rule == "US-ZZ: no rate, 0"


# ---------------------------------------------------------------- refusals (failure and abuse)


@pytest.mark.parametrize(
    ("promotion", "channel", "why"),
    [
        (None, Channel.WEB, "unknown"),
        (
            promo("old", PromotionKind.PERCENT_OFF, 10, code="C", ends_at=NOW),
            Channel.WEB,
            "expired",
        ),
        (
            promo("ended", PromotionKind.PERCENT_OFF, 10, code="C", ended_at=NOW),
            Channel.WEB,
            "expired",
        ),
        (
            promo("soon", PromotionKind.PERCENT_OFF, 10, code="C", starts_at=CLOSE),
            Channel.WEB,
            "not yet valid",
        ),
        (
            promo(
                "app", PromotionKind.PERCENT_OFF, 10, code="C", channels=frozenset({Channel.APP})
            ),
            Channel.WEB,
            "not valid in the web channel",
        ),
    ],
)
def test_a_bad_code_is_refused_naming_it(
    promotion: Promotion | None, channel: Channel, why: str
) -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        pricing.price_basket(
            basket(("A", 1), channel=channel, codes=["c"]),
            catalog(("A", 100)),
            [promotion] if promotion else [],
            NO_TAX,
            None,
            NOW,
        )
    assert refused.value.reason == "COUPON_NOT_APPLICABLE"
    assert refused.value.metadata == {"code": "C", "why": why}
    assert "C" in refused.value.message


def test_two_codes_are_refused() -> None:
    promotions = [
        promo("a", PromotionKind.PERCENT_OFF, 10, code="A"),
        promo("b", PromotionKind.PERCENT_OFF, 10, code="B"),
    ]
    with pytest.raises(InvalidArgument):
        pricing.price_basket(
            basket(("A", 1), codes=["A", "B"]), catalog(("A", 100)), promotions, NO_TAX, None, NOW
        )


def test_an_automatic_promotion_cannot_be_named_as_a_code() -> None:
    with pytest.raises(BusinessRuleViolation):
        pricing.price_basket(
            basket(("A", 1), codes=["p10"]),
            catalog(("A", 100)),
            [promo("p10", PromotionKind.PERCENT_OFF, 10)],
            NO_TAX,
            None,
            NOW,
        )


def test_inactive_unknown_and_mixed_currency_lines_are_refused() -> None:
    items = {"A": CatalogItem("A", 100, "USD", active=False)}
    with pytest.raises(BusinessRuleViolation) as inactive:
        pricing.price_basket(basket(("A", 1)), items, [], NO_TAX, None, NOW)
    assert inactive.value.reason == "PRODUCT_INACTIVE"
    with pytest.raises(InvalidArgument):
        pricing.price_basket(basket(("Z", 1)), catalog(("A", 1)), [], NO_TAX, None, NOW)
    mixed = {"A": CatalogItem("A", 1, "USD"), "B": CatalogItem("B", 1, "EUR")}
    with pytest.raises(BusinessRuleViolation):
        pricing.price_basket(basket(("A", 1), ("B", 1)), mixed, [], NO_TAX, None, NOW)


def test_choose_shipping_method() -> None:
    std = ShippingMethod("std", "Standard", 500, "USD", frozenset({"US"}))
    fast = ShippingMethod("fast", "Express", 1500, "USD", frozenset({"US"}))
    eu = ShippingMethod("eu", "EU", 900, "EUR", frozenset({"DE"}))
    assert pricing.choose_shipping_method([std, eu], "", "us") == std
    assert pricing.choose_shipping_method([std, fast], "fast", "US") == fast
    with pytest.raises(InvalidArgument):  # none named, two fit: 400
        pricing.choose_shipping_method([std, fast], "", "US")
    with pytest.raises(InvalidArgument):  # unknown
        pricing.choose_shipping_method([std], "teleport", "US")
    with pytest.raises(BusinessRuleViolation):  # does not ship there
        pricing.choose_shipping_method([std, eu], "eu", "US")
    assert pricing.choose_shipping_method([eu], "", "US") is None  # none set up there: free


def test_refunds_of_a_discounted_taxed_line() -> None:
    line = PaidLine("A", 3, subtotal_minor=3000, discount_minor=1000, tax_minor=145)
    steps = [pricing.refund_for_units(line, done, 1) for done in range(3)]
    assert sum(steps) == 2145
    assert pricing.refund_for_units(line, 3, 1) == 0  # nothing left to refund
    whole = pricing.refund_for_return([line], {}, {"A": 3}, shipping_with_tax_minor=648)
    part = pricing.refund_for_return([line], {}, {"A": 2}, shipping_with_tax_minor=648)
    assert whole == 2145 + 648
    assert part == 1430


# ---------------------------------------------------------------- properties

SKUS = [f"S{i}" for i in range(6)]
CURRENCIES = ["USD", "JPY", "BHD"]


Scenario = tuple[Basket, dict[str, CatalogItem], list[Promotion], TaxRate, ShippingMethod]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    currency = draw(st.sampled_from(CURRENCIES))
    skus = draw(st.lists(st.sampled_from(SKUS), min_size=1, max_size=6, unique=True))
    items = {sku: CatalogItem(sku, draw(st.integers(1, 10**7)), currency) for sku in skus}
    lines = [BasketLine(sku, draw(st.integers(1, 50))) for sku in skus]
    promotions = []
    for index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(list(PromotionKind)))
        value = (
            draw(st.integers(1, 100))
            if kind == PromotionKind.PERCENT_OFF
            else draw(st.integers(1, 10**6))
        )
        promotions.append(
            Promotion(
                f"p{index}",
                f"p{index}",
                kind,
                value,
                OPEN,
                CLOSE,
                currency=currency,
                skus=frozenset(draw(st.lists(st.sampled_from(SKUS), max_size=3))),
                min_subtotal_minor=draw(st.sampled_from([0, 0, 1000, 10**6])),
            )
        )
    tax = TaxRate("R", draw(st.integers(0, 2500)))
    shipping = ShippingMethod(
        "std",
        "Std",
        draw(st.integers(0, 5000)),
        currency,
        frozenset({"US"}),
        draw(st.sampled_from([None, 1, 10**5, 10**9])),
    )
    ship = draw(st.booleans())
    channel = draw(st.sampled_from(list(Channel)))
    basket = Basket(channel, FulfillmentType.SHIP if ship else FulfillmentType.PICKUP, lines)
    return basket, items, promotions, tax, shipping


@settings(max_examples=300, deadline=None)
@given(scenarios())
def test_parts_always_add_up(scenario: Scenario) -> None:
    priced = pricing.price_basket(*scenario, now=NOW)
    parts_add_up(priced)
    for line in priced.lines:
        assert 0 <= line.discount_minor <= line.subtotal_minor
        assert line.tax_minor >= 0
    assert priced.totals.total_minor >= 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.large_base_example])
@given(scenarios(), st.data())
def test_refunds_never_exceed_what_was_paid(scenario: Scenario, data: st.DataObject) -> None:
    priced = pricing.price_basket(*scenario, now=NOW)
    shipping = priced.totals.shipping_minor + priced.totals.shipping_tax_minor
    paid = [
        PaidLine(l.sku, l.quantity, l.subtotal_minor, l.discount_minor, l.tax_minor)
        for l in priced.lines  # noqa: E741
    ]
    already: dict[str, int] = {}
    refunded = 0
    # Return the order in random steps, to the end.
    while any(already.get(p.sku, 0) < p.quantity for p in paid):
        step = {
            p.sku: data.draw(st.integers(0, p.quantity - already.get(p.sku, 0)))
            for p in paid
            if already.get(p.sku, 0) < p.quantity
        }
        if not any(step.values()):  # a return takes back at least one unit: the rest
            step = {p.sku: p.quantity - already.get(p.sku, 0) for p in paid}
        refund = pricing.refund_for_return(paid, already, step, shipping)
        assert refund >= 0
        refunded += refund
        for sku, units in step.items():
            already[sku] = already.get(sku, 0) + units
        assert refunded <= priced.totals.total_minor
    assert refunded == priced.totals.total_minor


@settings(max_examples=200, deadline=None)
@given(scenarios(), st.sampled_from(list(Channel)))
def test_same_basket_same_price_in_every_channel(scenario: Scenario, other: Channel) -> None:
    basket, items, promotions, tax, shipping = scenario
    elsewhere = Basket(other, basket.fulfillment_type, basket.lines)
    assert pricing.price_basket(
        basket, items, promotions, tax, shipping, NOW
    ) == pricing.price_basket(elsewhere, items, promotions, tax, shipping, NOW)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_a_channel_scoped_promotion_prices_only_its_channel(scenario: Scenario) -> None:
    basket, items, promotions, tax, shipping = scenario
    scoped = promo("zz", PromotionKind.PERCENT_OFF, 50, channels=frozenset({Channel.MARKETPLACE}))
    inside = Basket(Channel.MARKETPLACE, basket.fulfillment_type, basket.lines)
    outside = Basket(Channel.WEB, basket.fulfillment_type, basket.lines)
    with_scoped = [*promotions, scoped]
    assert pricing.price_basket(
        outside, items, with_scoped, tax, shipping, NOW
    ) == pricing.price_basket(outside, items, promotions, tax, shipping, NOW)
    assert (
        pricing.price_basket(inside, items, with_scoped, tax, shipping, NOW).totals.discount_minor
        >= pricing.price_basket(inside, items, promotions, tax, shipping, NOW).totals.discount_minor
    )
