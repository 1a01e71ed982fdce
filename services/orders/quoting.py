"""Pricing use cases: quotes, the placement's price, and the admin's pricing
tables (promotions, tax regions, shipping methods).

Every price comes from one call, `price_basket` below, which gathers the
inputs (the catalog's prices for the channel from inventory; promotions, the
tax rate and shipping methods from the orders database) and hands them to the
pure services/orders/domain/pricing.py. A quote and an order placed with the
same basket, channel, fulfillment and codes are priced by the same call, so
the order charges exactly the quote.

Quotes and carts read their inputs through a `QuoteCache` (a second or so of
catalog prices, promotions, tax rates and shipping methods, measured by
`python -m bench quote`); placement never does: an order is always priced
from inventory and the orders database as they are at that moment, so a price
or promotion change can never reach an order late. A write of a promotion, tax
region or shipping method through this service empties the cache's copies of
that table at once (a read that raced the write is not kept); a catalog change
in inventory, or a write through another orders replica, reaches quotes within
the cache's `seconds`.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from omni.words import Channel, FulfillmentType, PromotionKind
from services.common.errors import AlreadyExists, NotFound
from services.common.money import is_currency_code
from services.common.paging import Page, cut_page, decode_cursor, page_size
from services.common.validation import Violations
from services.orders.domain import pricing
from services.orders.domain.placing import (
    MAX_LINE_QUANTITY,
    MAX_LINES,
    OrderRequest,
    PricedOrder,
    RequestedLine,
    merge_lines,
    priced_order,
)
from services.orders.domain.pricing import (
    CatalogItem,
    PricedBasket,
    Promotion,
    ShippingMethod,
    TaxRate,
)
from services.orders.domain.records import Address, TaxRegionRecord

MAX_NAME = 200
MAX_CODE = 64


# ---------------------------------------------------------------- what pricing runs against


class Catalog(Protocol):
    """Inventory's catalog (adapters/catalog.py over gRPC)."""

    async def items(self, skus: list[str], channel: Channel) -> dict[str, CatalogItem]:
        """Prices for the channel; InvalidArgument naming an unknown sku."""
        ...

    async def tax_region_of(self, location_id: str) -> str:
        """The location's tax region ("" none); NotFound for an unknown location."""
        ...

    async def items_at(
        self, skus: list[str], channel: Channel, location_id: str
    ) -> tuple[dict[str, CatalogItem], str]:
        """`items` and `tax_region_of(location_id)` in one read (an order
        taxed where the store is: one inventory call, not two)."""
        ...


class TaxProvider(Protocol):
    """Where a tax rate comes from. The default is the orders database's table
    (store/pricing.py); a retailer plugs in Avalara or the like here."""

    async def rate_for(self, region: str) -> TaxRate: ...


class PricingTables(Protocol):
    """Promotions, tax regions and shipping methods (store/pricing.py)."""

    async def insert_promotion(self, promotion: Promotion) -> Promotion: ...
    async def list_promotions(self, after_id: str | None, limit: int) -> list[Promotion]: ...
    async def end_promotion(self, promotion_id: str, at: datetime) -> Promotion | None: ...
    async def promotions_for(
        self, now: datetime, code: str, starting_by: datetime | None = None
    ) -> list[Promotion]:
        """Automatic promotions live at `now` (or, with `starting_by`, live at
        some moment from now to then), and every promotion with `code`."""
        ...

    async def put_tax_region(self, region: TaxRegionRecord) -> TaxRegionRecord: ...
    async def insert_shipping_method(self, method: ShippingMethod) -> bool: ...
    async def shipping_methods(self) -> list[ShippingMethod]: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


QUOTE_CACHE_SECONDS = 1.0
QUOTE_CACHE_ENTRIES = 4096
_T = TypeVar("_T")
_MISSING: Any = object()


class QuoteCache:
    """Pricing inputs kept for `seconds`, for quotes and carts only (see the
    module's first comment). Keys are tuples whose first word names the table
    ("item", "region", "promotions", "tax", "methods"); at most `entries` are
    kept (oldest dropped), so random coupon codes cannot grow it."""

    def __init__(
        self,
        seconds: float = QUOTE_CACHE_SECONDS,
        entries: int = QUOTE_CACHE_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self._entries = entries
        self._clock = clock
        self._kept: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        # Bumped by every invalidation: a read that started before one is not kept.
        self._generation: dict[str, int] = {}

    def generation(self, table: str) -> int:
        return self._generation.get(table, 0)

    def get(self, key: tuple[Hashable, ...]) -> Any:
        found = self._kept.get(key)
        if found is None:
            return _MISSING
        if found[0] <= self._clock():
            del self._kept[key]
            return _MISSING
        return found[1]

    def put(self, key: tuple[Hashable, ...], value: object, generation: int) -> None:
        if self.seconds <= 0 or generation != self.generation(str(key[0])):
            return
        self._kept[key] = (self._clock() + self.seconds, value)
        self._kept.move_to_end(key)
        while len(self._kept) > self._entries:
            self._kept.popitem(last=False)

    def invalidate(self, table: str) -> None:
        self._generation[table] = self.generation(table) + 1
        for key in [k for k in self._kept if isinstance(k, tuple) and k[0] == table]:
            del self._kept[key]

    async def through(self, key: tuple[Hashable, ...], load: Callable[[], Awaitable[_T]]) -> _T:
        found = self.get(key)
        if found is not _MISSING:
            return found
        generation = self.generation(str(key[0]))
        value = await load()
        self.put(key, value, generation)
        return value


@dataclass(frozen=True)
class Pricing:
    catalog: Catalog
    tables: PricingTables
    tax: TaxProvider
    now: Callable[[], datetime] = field(default=_utc_now)
    # None: every quote reads its inputs fresh (placement always does).
    cache: QuoteCache | None = None

    def invalidate(self, table: str) -> None:
        if self.cache is not None:
            self.cache.invalidate(table)


class _Inputs:
    """Where one pricing reads its inputs: through the cache for a quote or a
    cart, straight from the sources for an order."""

    def __init__(self, deps: Pricing, cached: bool) -> None:
        self._deps = deps
        self._cache = deps.cache if cached else None

    async def items(self, skus: list[str], channel: Channel) -> dict[str, CatalogItem]:
        cache = self._cache
        if cache is None:
            return await self._deps.catalog.items(skus, channel)
        found: dict[str, CatalogItem] = {}
        for sku in skus:
            item = cache.get(("item", sku, channel))
            if item is not _MISSING:
                found[sku] = item
        missing = [sku for sku in skus if sku not in found]
        if missing:
            generation = cache.generation("item")
            read = await self._deps.catalog.items(missing, channel)
            for sku, item in read.items():
                cache.put(("item", sku, channel), item, generation)
            found.update(read)
        return found

    async def tax_region_of(self, location_id: str) -> str:
        load = lambda: self._deps.catalog.tax_region_of(location_id)  # noqa: E731
        if self._cache is None:
            return await load()
        return await self._cache.through(("region", location_id), load)

    async def items_and_region(
        self, skus: list[str], channel: Channel, location_id: str
    ) -> tuple[dict[str, CatalogItem], str]:
        """Straight from the source: one catalog read for both; through the
        cache each is kept (and read) on its own."""
        if self._cache is None:
            return await self._deps.catalog.items_at(skus, channel, location_id)
        items, region = await asyncio.gather(
            self.items(skus, channel), self.tax_region_of(location_id)
        )
        return items, region

    async def promotions_for(self, now: datetime, code: str) -> list[Promotion]:
        cache = self._cache
        if cache is None:
            return await self._deps.tables.promotions_for(now, code)
        # Kept for `seconds`: also the automatic ones starting within them (the
        # pricing function looks at each promotion's window itself).
        until = now + timedelta(seconds=cache.seconds)
        return await cache.through(
            ("promotions", code),
            lambda: self._deps.tables.promotions_for(now, code, starting_by=until),
        )

    async def rate_for(self, region: str) -> TaxRate:
        load = lambda: self._deps.tax.rate_for(region)  # noqa: E731
        if self._cache is None:
            return await load()
        return await self._cache.through(("tax", region), load)

    async def shipping_methods(self) -> list[ShippingMethod]:
        load = self._deps.tables.shipping_methods
        if self._cache is None:
            return await load()
        return await self._cache.through(("methods",), load)


# ---------------------------------------------------------------- the basket


@dataclass(frozen=True)
class BasketRequest:
    channel: Channel | None
    lines: list[RequestedLine]
    fulfillment_type: FulfillmentType | None
    location_id: str = ""
    address: Address | None = None
    coupon_codes: list[str] = field(default_factory=list)
    shipping_method: str = ""
    customer_id: str = ""


def basket_of(order: OrderRequest) -> BasketRequest:
    """The basket an order request prices (the same fields a quote takes)."""
    return BasketRequest(
        channel=order.channel,
        lines=order.lines,
        fulfillment_type=order.fulfillment_type,
        location_id=order.location_id,
        address=order.address,
        coupon_codes=order.coupon_codes,
        shipping_method=order.shipping_method,
        customer_id=order.customer_id,
    )


def tax_region_of_address(address: Address) -> str:
    """ "US-CA" from country and region; the country alone without a region."""
    country = address.country.strip().upper()
    region = address.region.strip().upper()
    return f"{country}-{region}" if region else country


def validate_basket(request: BasketRequest) -> BasketRequest:
    """InvalidArgument naming every bad field; the basket with repeated skus merged."""
    bad = Violations()
    if not isinstance(request.channel, Channel):
        bad.add("channel", "must be one of " + ", ".join(Channel))
    if not request.lines:
        bad.add("lines", "at least one line is required")
    if len(request.lines) > MAX_LINES:
        bad.add("lines", f"at most {MAX_LINES} lines")
    for index, line in enumerate(request.lines):
        bad.require(f"lines[{index}].sku", line.sku)
        if not 1 <= line.quantity <= MAX_LINE_QUANTITY:
            bad.add(f"lines[{index}].quantity", f"must be between 1 and {MAX_LINE_QUANTITY}")
    if request.fulfillment_type in (FulfillmentType.PICKUP, FulfillmentType.CARRY_OUT):
        bad.require("fulfillment.location_id", request.location_id)
    elif request.fulfillment_type == FulfillmentType.SHIP:
        if request.address is None or not request.address.country:
            bad.add("fulfillment.address.country", "is required for ship")
    elif request.fulfillment_type is not None:
        bad.add("fulfillment.type", "must be pickup, ship or carry_out")
    for index, code in enumerate(request.coupon_codes):
        bad.check_text(f"coupon_codes[{index}]", code, required=True, max_length=MAX_CODE)
    bad.raise_if_any()
    merged = merge_lines(request.lines)
    for index, line in enumerate(merged):
        if line.quantity > MAX_LINE_QUANTITY:
            bad.add(f"lines[{index}].quantity", f"{line.sku} totals more than {MAX_LINE_QUANTITY}")
    bad.raise_if_any()
    return BasketRequest(
        request.channel,
        merged,
        request.fulfillment_type,
        request.location_id,
        request.address,
        request.coupon_codes,
        request.shipping_method,
        request.customer_id,
    )


async def price_basket(
    deps: Pricing, request: BasketRequest, *, cached: bool = True
) -> PricedBasket:
    """The one price of a basket: quotes, carts and orders all come here. A
    basket without a fulfillment (a cart) is priced without tax or shipping.
    `cached=False` (placement) reads every input from its source."""
    request = validate_basket(request)
    inputs = _Inputs(deps, cached)
    channel = request.channel
    assert isinstance(channel, Channel)
    now = deps.now()
    codes = [pricing.normalize_code(code) for code in request.coupon_codes if code.strip()]
    ship = request.fulfillment_type == FulfillmentType.SHIP

    skus = [line.sku for line in request.lines]
    # Collected or carried out: taxed where the store is, whose region comes
    # with the products (one read). Shipped: where it goes. A cart without a
    # fulfillment yet: goods and discounts; no tax or shipping.
    at_store = request.fulfillment_type in (FulfillmentType.PICKUP, FulfillmentType.CARRY_OUT)

    async def items_and_rate() -> tuple[dict[str, CatalogItem], TaxRate]:
        if at_store:
            items, region = await inputs.items_and_region(skus, channel, request.location_id)
            return items, await inputs.rate_for(region)
        region = ""
        if ship:
            assert request.address is not None
            region = tax_region_of_address(request.address)
        items, rate = await asyncio.gather(inputs.items(skus, channel), inputs.rate_for(region))
        return items, rate

    async def methods() -> list[ShippingMethod]:
        return await inputs.shipping_methods() if ship else []

    # The inputs are independent reads: ask for them at once.
    (items, tax_rate), promotions, shipping_methods = await asyncio.gather(
        items_and_rate(),
        inputs.promotions_for(now, codes[0] if len(codes) == 1 else ""),
        methods(),
    )
    shipping: ShippingMethod | None = None
    if ship:
        assert request.address is not None
        shipping = pricing.choose_shipping_method(
            shipping_methods, request.shipping_method, request.address.country
        )
    basket = pricing.Basket(
        channel,
        request.fulfillment_type or FulfillmentType.PICKUP,
        [pricing.BasketLine(line.sku, line.quantity) for line in request.lines],
        codes,
    )
    return pricing.price_basket(basket, items, promotions, tax_rate, shipping, now)


async def price_placement(deps: Pricing, order: OrderRequest) -> PricedOrder:
    """What an order costs (its total is what is authorized), by price_basket
    from fresh inputs: never a cached price."""
    return priced_order(await price_basket(deps, basket_of(order), cached=False))


# ---------------------------------------------------------------- promotions


def promotion_id_for(idempotency_key: str) -> str:
    """A key names the same promotion on every retry; without one, a fresh id."""
    if not idempotency_key:
        return "promo_" + secrets.token_urlsafe(12)
    return "promo_" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def validate_promotion(promotion: Promotion) -> Promotion:
    bad = Violations()
    bad.check_text("promotion.name", promotion.name, required=True, max_length=MAX_NAME)
    if not isinstance(promotion.kind, PromotionKind):
        bad.add("promotion.kind", "must be percent_off or amount_off")
    elif promotion.kind == PromotionKind.PERCENT_OFF and not 1 <= promotion.value <= 100:
        bad.add("promotion.value", "a percent_off value is a whole percent, 1 to 100")
    elif promotion.kind == PromotionKind.AMOUNT_OFF:
        if promotion.value <= 0:
            bad.add("promotion.value", "an amount_off value is minor units, more than 0")
        if not is_currency_code(promotion.currency):
            bad.add("promotion.currency", "is required for amount_off (ISO 4217)")
    if promotion.ends_at <= promotion.starts_at:
        bad.add("promotion.ends_at", "must be after starts_at")
    for index, sku in enumerate(sorted(promotion.skus)):
        bad.check_id(f"promotion.skus[{index}]", sku)
    if promotion.code:
        bad.check_text("promotion.code", promotion.code, max_length=MAX_CODE)
        if not promotion.code.strip().replace("-", "").replace("_", "").isalnum():
            bad.add("promotion.code", "letters, digits, - and _ only")
    if promotion.min_subtotal_minor < 0:
        bad.add("promotion.min_subtotal.amount_minor", "must not be negative")
    if promotion.min_subtotal_minor and not is_currency_code(promotion.min_subtotal_currency):
        bad.add("promotion.min_subtotal.currency", "must be a 3-letter ISO 4217 code")
    bad.raise_if_any()
    return Promotion(
        promotion.promotion_id,
        promotion.name.strip(),
        promotion.kind,
        promotion.value,
        promotion.starts_at,
        promotion.ends_at,
        currency=promotion.currency if promotion.kind == PromotionKind.AMOUNT_OFF else "",
        skus=promotion.skus,
        channels=promotion.channels,
        code=pricing.normalize_code(promotion.code),
        min_subtotal_minor=promotion.min_subtotal_minor,
        min_subtotal_currency=promotion.min_subtotal_currency
        if promotion.min_subtotal_minor
        else "",
    )


async def create_promotion(deps: Pricing, promotion: Promotion) -> Promotion:
    """Stored once per id: a repeat with the same idempotency key returns the first."""
    try:
        return await deps.tables.insert_promotion(validate_promotion(promotion))
    finally:
        deps.invalidate("promotions")


async def list_promotions(deps: Pricing, limit: int, page_token: str) -> Page[Promotion]:
    size = page_size(limit, field="limit")
    after = decode_cursor(page_token, arity=1, field="page_token")
    found = await deps.tables.list_promotions(str(after[0]) if after else None, size + 1)
    return cut_page(found, size, lambda p: [p.promotion_id])


async def end_promotion(deps: Pricing, promotion_id: str) -> Promotion:
    bad = Violations()
    bad.require("promotion_id", promotion_id)
    bad.raise_if_any()
    try:
        ended = await deps.tables.end_promotion(promotion_id, deps.now())
    finally:
        deps.invalidate("promotions")
    if ended is None:
        raise NotFound(
            f"promotion {promotion_id} not found", resource_type="promotion", ids=[promotion_id]
        )
    return ended


# ---------------------------------------------------------------- tax and shipping


def _check_region_code(bad: Violations, field_name: str, region: str) -> None:
    parts = region.split("-")
    if not (1 <= len(parts) <= 2 and all(p.isalnum() and p.isupper() for p in parts)):
        bad.add(field_name, 'must be a country, or country-region, upper case ("US-CA")')
    elif len(parts[0]) != 2 or len(region) > 32:
        bad.add(field_name, "must start with an ISO 3166-1 alpha-2 country")


async def put_tax_region(deps: Pricing, region: TaxRegionRecord) -> TaxRegionRecord:
    bad = Violations()
    _check_region_code(bad, "tax_region.region", region.region)
    bad.check_text("tax_region.name", region.name, required=True, max_length=MAX_NAME)
    if not 0 <= region.rate_bps <= pricing.BPS:
        bad.add("tax_region.rate_bps", "must be between 0 and 10000")
    bad.raise_if_any()
    try:
        return await deps.tables.put_tax_region(region)
    finally:
        deps.invalidate("tax")


async def create_shipping_method(deps: Pricing, method: ShippingMethod) -> ShippingMethod:
    bad = Violations()
    bad.check_id("shipping_method.method_id", method.method_id)
    bad.check_text("shipping_method.name", method.name, required=True, max_length=MAX_NAME)
    if method.price_minor < 0:
        bad.add("shipping_method.price.amount_minor", "must not be negative")
    if not is_currency_code(method.currency):
        bad.add("shipping_method.price.currency", "must be a 3-letter ISO 4217 code")
    if method.free_over_minor is not None and method.free_over_minor < 0:
        bad.add("shipping_method.free_over.amount_minor", "must not be negative")
    if not method.countries:
        bad.add("shipping_method.countries", "at least one country")
    for country in sorted(method.countries):
        if len(country) != 2 or not country.isalpha() or not country.isupper():
            bad.add("shipping_method.countries", f"{country!r} is not an ISO 3166-1 alpha-2 code")
    bad.raise_if_any()
    try:
        inserted = await deps.tables.insert_shipping_method(method)
    finally:
        deps.invalidate("methods")
    if not inserted:
        raise AlreadyExists(f"shipping method {method.method_id} already exists")
    return method


async def list_shipping_methods(deps: Pricing) -> list[ShippingMethod]:
    return await deps.tables.shipping_methods()


__all__ = [
    "BasketRequest",
    "Catalog",
    "Pricing",
    "PricingTables",
    "QuoteCache",
    "TaxProvider",
    "create_promotion",
    "create_shipping_method",
    "end_promotion",
    "list_promotions",
    "list_shipping_methods",
    "price_basket",
    "price_placement",
    "put_tax_region",
]
