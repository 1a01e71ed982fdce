"""Pricing: the one function that prices a basket — quotes, carts, orders,
line cancels and returns all come here.

Everything is integer minor units; no float is ever involved.

Rounding rule (documented, and the same everywhere): every amount that is a
share or a percentage is rounded per line, half to even (banker's rounding,
`half_even`), and every total is the sum of its lines' already-rounded parts.
So the parts always add up: total = subtotal - discount + shipping + tax,
to the minor unit, and no cent is lost or invented.

- A line's subtotal is quantity x the catalog's unit price for the channel.
- Promotions: for each line the best automatic promotion (the largest
  discount; ties to the smaller promotion id) applies, then at most one
  coupon code on what is left. A percent promotion takes `value`% of the
  line; an amount promotion takes `value` minor units off the lines it
  applies to together, shared across them in proportion to their subtotals
  (cumulative half-even shares, so the shares add up to the amount). A line
  is never discounted below zero.
- Tax: each line's tax is its rate (basis points) of the line after
  discount; shipping is taxed at the same rate (the address's region for
  ship, the store's for pickup). A region without a rate is taxed 0, and the
  rule that applied is recorded.
- Shipping: the method's price, 0 when the lines after discounts reach its
  `free_over`.
- Refunds: k units of a line refund the cumulative half-even share of what
  the line cost (after discount, with its tax), so refunding every unit, in
  any steps, refunds exactly what was paid and never more.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from omni.words import Channel, FulfillmentType, PromotionKind
from services.common.errors import BusinessRuleViolation, InvalidArgument

BPS = 10_000
MAX_PERCENT = 100


# ---------------------------------------------------------------- integer arithmetic


def half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even (denominator > 0)."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def shares(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` split in proportion to `weights` by cumulative half-even
    rounding: the shares always add up to `amount` (all zero when the weights
    sum to zero)."""
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    out: list[int] = []
    running = 0
    before = 0
    for weight in weights:
        running += weight
        upto = half_even(amount * running, total)
        out.append(upto - before)
        before = upto
    return out


def unit_share(paid: int, quantity: int, already: int, units: int) -> int:
    """What `units` of a line of `quantity` units that cost `paid` are worth,
    after `already` units were taken before (cumulative half-even shares)."""
    if quantity <= 0 or units <= 0:
        return 0
    start = min(max(already, 0), quantity)
    end = min(start + units, quantity)
    return half_even(paid * end, quantity) - half_even(paid * start, quantity)


# ---------------------------------------------------------------- inputs


@dataclass(frozen=True)
class CatalogItem:
    """The catalog's answer for one sku in the basket's channel."""

    sku: str
    unit_price_minor: int
    currency: str
    returnable_days: int = 30
    active: bool = True


@dataclass(frozen=True)
class BasketLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class Promotion:
    promotion_id: str
    name: str
    kind: PromotionKind
    # PERCENT_OFF: whole percent 1..100; AMOUNT_OFF: minor units of `currency`.
    value: int
    starts_at: datetime
    ends_at: datetime
    currency: str = ""
    skus: frozenset[str] = frozenset()
    channels: frozenset[Channel] = frozenset()
    code: str = ""
    min_subtotal_minor: int = 0
    min_subtotal_currency: str = ""
    ended_at: datetime | None = None

    def live_at(self, now: datetime) -> bool:
        if self.ended_at is not None and self.ended_at <= now:
            return False
        return self.starts_at <= now < self.ends_at

    def for_channel(self, channel: Channel) -> bool:
        return not self.channels or channel in self.channels

    def covers(self, sku: str) -> bool:
        return not self.skus or sku in self.skus


@dataclass(frozen=True)
class TaxRate:
    """The rate a basket is taxed at; `found` False: the region has no rate (0)."""

    region: str
    rate_bps: int
    found: bool = True

    @property
    def rule(self) -> str:
        if not self.region:
            return "no tax region: 0"
        if not self.found:
            return f"{self.region}: no rate, 0"
        return f"{self.region} {self.rate_bps} bps"


@dataclass(frozen=True)
class ShippingMethod:
    method_id: str
    name: str
    price_minor: int
    currency: str
    countries: frozenset[str]
    free_over_minor: int | None = None


@dataclass(frozen=True)
class Basket:
    channel: Channel
    fulfillment_type: FulfillmentType
    lines: list[BasketLine]
    coupon_codes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price_minor: int
    subtotal_minor: int
    discount_minor: int
    tax_minor: int
    returnable_days: int
    promotion_ids: tuple[str, ...] = ()

    @property
    def total_minor(self) -> int:
        """What the line costs: after its discount, with its tax."""
        return self.subtotal_minor - self.discount_minor + self.tax_minor


@dataclass(frozen=True)
class Totals:
    subtotal_minor: int
    discount_minor: int
    shipping_minor: int
    # Lines' tax plus shipping_tax_minor.
    tax_minor: int
    shipping_tax_minor: int
    currency: str

    @property
    def total_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.shipping_minor + self.tax_minor


@dataclass(frozen=True)
class AppliedPromotion:
    promotion_id: str
    name: str
    code: str
    discount_minor: int


@dataclass(frozen=True)
class PricedBasket:
    lines: list[PricedLine]
    totals: Totals
    promotions_applied: list[AppliedPromotion]
    tax_rule: str
    shipping_method: str = ""


# ---------------------------------------------------------------- refusals


def coupon_refused(code: str, why: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        "COUPON_NOT_APPLICABLE", f"coupon {code} is {why}", {"code": code, "why": why}
    )


def normalize_code(code: str) -> str:
    return code.strip().upper()


# ---------------------------------------------------------------- shipping choice


def choose_shipping_method(
    methods: Iterable[ShippingMethod], named: str, country: str
) -> ShippingMethod | None:
    """The method a ship basket names, or the only one that ships to `country`;
    None (no charge) when none is named and none ships there — a retailer that
    has set up no shipping methods ships free."""
    methods = list(methods)
    fitting = sorted(
        (m for m in methods if country.upper() in m.countries), key=lambda m: m.method_id
    )
    if named:
        for method in methods:
            if method.method_id == named:
                if country.upper() not in method.countries:
                    raise BusinessRuleViolation(
                        "SHIPPING_METHOD_NOT_AVAILABLE",
                        f"shipping method {named} does not ship to {country}",
                        {"shipping_method": named, "country": country},
                    )
                return method
        raise InvalidArgument.field(
            "fulfillment.shipping_method", f"unknown shipping method {named}"
        )
    if len(fitting) == 1:
        return fitting[0]
    if not fitting:
        return None
    raise InvalidArgument.field(
        "fulfillment.shipping_method",
        "is required: " + ", ".join(m.method_id for m in fitting) + " ship there",
    )


# ---------------------------------------------------------------- the function


def _catalog_lines(
    lines: Sequence[BasketLine], catalog: dict[str, CatalogItem]
) -> tuple[list[CatalogItem], str]:
    items: list[CatalogItem] = []
    for index, line in enumerate(lines):
        item = catalog.get(line.sku)
        if item is None:
            raise InvalidArgument.field(f"lines[{index}].sku", f"unknown sku {line.sku}")
        if not item.active:
            raise BusinessRuleViolation(
                "PRODUCT_INACTIVE", f"{line.sku} is no longer sold", {"sku": line.sku}
            )
        items.append(item)
    currencies = {item.currency for item in items}
    if len(currencies) != 1:
        raise BusinessRuleViolation(
            "MIXED_CURRENCY",
            "all items of an order must be priced in one currency",
            {"currencies": ",".join(sorted(currencies))},
        )
    return items, currencies.pop()


def _eligible(
    promotion: Promotion, basket: Basket, currency: str, subtotal: int, now: datetime
) -> bool:
    if not promotion.live_at(now) or not promotion.for_channel(basket.channel):
        return False
    if promotion.kind == PromotionKind.AMOUNT_OFF and promotion.currency != currency:
        return False
    if promotion.min_subtotal_minor:
        if promotion.min_subtotal_currency not in ("", currency):
            return False
        if subtotal < promotion.min_subtotal_minor:
            return False
    return True


def _discounts(promotion: Promotion, skus: Sequence[str], bases: Sequence[int]) -> list[int]:
    """What `promotion` takes off each line, given what is left of each line."""
    covered = [base if promotion.covers(sku) else 0 for sku, base in zip(skus, bases, strict=True)]
    if promotion.kind == PromotionKind.PERCENT_OFF:
        percent = min(max(promotion.value, 0), MAX_PERCENT)
        return [half_even(base * percent, MAX_PERCENT) for base in covered]
    amount = min(max(promotion.value, 0), sum(covered))
    return shares(amount, covered)


def _check_code(
    code: str,
    promotions: Sequence[Promotion],
    basket: Basket,
    currency: str,
    subtotal: int,
    now: datetime,
) -> Promotion:
    matching = [p for p in promotions if p.code and normalize_code(p.code) == code]
    if not matching:
        raise coupon_refused(code, "unknown")
    live = [p for p in matching if p.live_at(now)]
    if not live:
        raise coupon_refused(
            code, "expired" if any(p.starts_at <= now for p in matching) else "not yet valid"
        )
    for_channel = [p for p in live if p.for_channel(basket.channel)]
    if not for_channel:
        raise coupon_refused(code, f"not valid in the {basket.channel} channel")
    usable = [p for p in for_channel if _eligible(p, basket, currency, subtotal, now)]
    if not usable:
        raise coupon_refused(code, "not valid for this basket (minimum or currency)")
    return min(usable, key=lambda p: p.promotion_id)


def price_basket(
    basket: Basket,
    catalog: dict[str, CatalogItem],
    promotions: Sequence[Promotion],
    tax: TaxRate,
    shipping: ShippingMethod | None,
    now: datetime,
) -> PricedBasket:
    """Prices every line and the totals; raises naming a bad sku or coupon."""
    codes = list(dict.fromkeys(normalize_code(c) for c in basket.coupon_codes if c.strip()))
    if len(codes) > 1:
        raise InvalidArgument.field("coupon_codes", "at most one coupon code per basket")
    items, currency = _catalog_lines(basket.lines, catalog)
    skus = [line.sku for line in basket.lines]
    subtotals = [
        item.unit_price_minor * line.quantity
        for line, item in zip(basket.lines, items, strict=True)
    ]
    subtotal = sum(subtotals)

    # Best automatic promotion per line.
    automatic = sorted(
        (p for p in promotions if not p.code and _eligible(p, basket, currency, subtotal, now)),
        key=lambda p: p.promotion_id,
    )
    best: list[tuple[int, Promotion | None]] = [(0, None)] * len(skus)
    for promotion in automatic:
        for index, off in enumerate(_discounts(promotion, skus, subtotals)):
            if off > best[index][0]:
                best[index] = (off, promotion)
    discounts = [min(off, sub) for (off, _), sub in zip(best, subtotals, strict=True)]
    applied: dict[str, list[int]] = {}
    names: dict[str, Promotion] = {}
    line_promotions: list[list[str]] = [[] for _ in skus]
    for index, (off, chosen) in enumerate(best):
        if chosen is not None and off > 0:
            applied.setdefault(chosen.promotion_id, [0] * len(skus))[index] = discounts[index]
            names[chosen.promotion_id] = chosen
            line_promotions[index].append(chosen.promotion_id)

    # At most one code, on what the automatic ones left.
    if codes:
        coupon = _check_code(codes[0], promotions, basket, currency, subtotal, now)
        left = [sub - off for sub, off in zip(subtotals, discounts, strict=True)]
        extra = [
            min(off, rest) for off, rest in zip(_discounts(coupon, skus, left), left, strict=True)
        ]
        applied[coupon.promotion_id] = extra
        names[coupon.promotion_id] = coupon
        for index, off in enumerate(extra):
            discounts[index] += off
            if off > 0:
                line_promotions[index].append(coupon.promotion_id)

    rate = max(tax.rate_bps, 0)
    lines = [
        PricedLine(
            sku=line.sku,
            quantity=line.quantity,
            unit_price_minor=item.unit_price_minor,
            subtotal_minor=sub,
            discount_minor=off,
            tax_minor=half_even((sub - off) * rate, BPS),
            returnable_days=item.returnable_days,
            promotion_ids=tuple(line_promotions[index]),
        )
        for index, (line, item, sub, off) in enumerate(
            zip(basket.lines, items, subtotals, discounts, strict=True)
        )
    ]
    discount = sum(discounts)
    shipping_minor = 0
    method_id = ""
    if basket.fulfillment_type == FulfillmentType.SHIP and shipping is not None:
        method_id = shipping.method_id
        if shipping.currency != currency:
            raise BusinessRuleViolation(
                "MIXED_CURRENCY",
                f"shipping method {shipping.method_id} is priced in {shipping.currency}",
                {"currencies": ",".join(sorted({currency, shipping.currency}))},
            )
        free = (
            shipping.free_over_minor is not None and subtotal - discount >= shipping.free_over_minor
        )
        shipping_minor = 0 if free else shipping.price_minor
    shipping_tax = half_even(shipping_minor * rate, BPS)
    totals = Totals(
        subtotal_minor=subtotal,
        discount_minor=discount,
        shipping_minor=shipping_minor,
        tax_minor=sum(line.tax_minor for line in lines) + shipping_tax,
        shipping_tax_minor=shipping_tax,
        currency=currency,
    )
    promotions_applied = [
        AppliedPromotion(pid, names[pid].name, names[pid].code, sum(per_line))
        for pid, per_line in sorted(applied.items())
        if sum(per_line) > 0
    ]
    return PricedBasket(lines, totals, promotions_applied, tax.rule, method_id)


# ---------------------------------------------------------------- refunds


@dataclass(frozen=True)
class PaidLine:
    """What an order recorded for one line at placement."""

    sku: str
    quantity: int
    subtotal_minor: int
    discount_minor: int
    tax_minor: int

    @property
    def paid_minor(self) -> int:
        return self.subtotal_minor - self.discount_minor + self.tax_minor


def refund_for_units(line: PaidLine, already_refunded_units: int, units: int) -> int:
    """What `units` more of the line give back: their share of the line after
    discount, plus their share of its tax (never more than the line cost)."""
    return unit_share(line.paid_minor, line.quantity, already_refunded_units, units)


def refund_for_return(
    paid: Sequence[PaidLine],
    already: dict[str, int],
    returning: dict[str, int],
    shipping_with_tax_minor: int,
) -> int:
    """A return's refund: each line's share for the units returned, plus
    shipping (and its tax) only when this return brings the whole order back."""
    refund = 0
    whole = True
    for line in paid:
        before = already.get(line.sku, 0)
        units = returning.get(line.sku, 0)
        refund += refund_for_units(line, before, units)
        if before + units < line.quantity:
            whole = False
    if whole and any(returning.values()):
        refund += shipping_with_tax_minor
    return refund


def paid_upto(line: PaidLine) -> list[int]:
    """What the first k units of the line cost, k = 0..quantity (cumulative
    half-even shares of what it paid): any k units' share is a difference,
    never more than the line cost, and all of them cost exactly the line. A
    line cancel gives back paid_upto[already + k] - paid_upto[already]."""
    return [unit_share(line.paid_minor, line.quantity, 0, k) for k in range(line.quantity + 1)]
