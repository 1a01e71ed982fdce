"""Placing an order: what a valid request is, and what it costs.

Whether the tenders can pay the total is the order's rule (workflows/order/rules.py);
this module checks only the request's shape and asks that rule.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

from omni.words import Channel, FulfillmentType, TenderType
from services.common.errors import BusinessRuleViolation, InvalidArgument
from services.common.money import Money
from services.common.validation import Violations
from services.orders.domain import till
from services.orders.domain.pricing import PricedBasket
from services.orders.domain.records import Address

# Its home is domain/tenders.py (the till's rules read it too); callers import it here.
from services.orders.domain.tenders import RequestedTender as RequestedTender
from workflows.order import rules

MAX_LINE_QUANTITY = 1000
MAX_LINES = 200


def new_order_id() -> str:
    return "ord_" + secrets.token_urlsafe(15)


@dataclass(frozen=True)
class RequestedLine:
    sku: str
    quantity: int


@dataclass(frozen=True)
class OrderRequest:
    customer_id: str
    # None: a word the request does not name (or none at all).
    channel: Channel | None
    lines: list[RequestedLine]
    fulfillment_type: FulfillmentType | None
    location_id: str
    address: Address | None
    tenders: list[RequestedTender]
    associate_id: str = ""
    store_id: str = ""
    referral_associate_id: str = ""
    coupon_codes: list[str] = field(default_factory=list)
    # For ship: the shipping method's id ("" when exactly one fits).
    shipping_method: str = ""
    # An exchange's replacement (issue 11): the return it replaces goods of.
    exchange_for: str = ""


@dataclass(frozen=True)
class CatalogPrice:
    sku: str
    price: Money
    returnable_days: int


@dataclass(frozen=True)
class Catalog:
    """What the catalog answered for the order's SKUs."""

    prices: dict[str, CatalogPrice]
    # SKUs the catalog does not have.
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PricedLine:
    sku: str
    quantity: int
    unit_price_minor: int
    returnable_days: int


@dataclass(frozen=True)
class PricedOrder:
    lines: list[PricedLine]
    total: Money
    # The pricing function's answer (services/orders/domain/pricing.py), line
    # for line with `lines`; None only where no pricing tables are wired.
    basket: PricedBasket | None = None


def priced_order(basket: PricedBasket) -> PricedOrder:
    """The order's price from the one pricing function: total is what is authorized."""
    return PricedOrder(
        lines=[
            PricedLine(line.sku, line.quantity, line.unit_price_minor, line.returnable_days)
            for line in basket.lines
        ],
        total=Money(basket.totals.total_minor, basket.totals.currency),
        basket=basket,
    )


def merge_lines(lines: list[RequestedLine]) -> list[RequestedLine]:
    """Repeated SKUs become one line (first position kept, quantities summed)."""
    totals: dict[str, int] = {}
    for line in lines:
        totals[line.sku] = totals.get(line.sku, 0) + line.quantity
    return [RequestedLine(sku, quantity) for sku, quantity in totals.items()]


def validate_order_request(request: OrderRequest) -> OrderRequest:
    """Raises InvalidArgument naming every bad field; returns it with lines merged."""
    bad = Violations()
    till_sale = request.fulfillment_type == FulfillmentType.CARRY_OUT
    if not till_sale:
        # A till sale may be a walk-in (issue 14).
        bad.require("customer_id", request.customer_id)
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
    _check_fulfillment(request, bad)
    if till_sale:
        till.check_tenders(request.tenders, bad)
    else:
        _check_tenders(request.tenders, bad)
    bad.raise_if_any()
    merged = merge_lines(request.lines)
    for index, line in enumerate(merged):
        if line.quantity > MAX_LINE_QUANTITY:
            bad.add(f"lines[{index}].quantity", f"{line.sku} totals more than {MAX_LINE_QUANTITY}")
    bad.raise_if_any()
    return replace(request, lines=merged)


def _check_fulfillment(request: OrderRequest, bad: Violations) -> None:
    if not isinstance(request.fulfillment_type, FulfillmentType):
        bad.add("fulfillment.type", "must be pickup, ship or carry_out")
        return
    if request.fulfillment_type in (FulfillmentType.PICKUP, FulfillmentType.CARRY_OUT):
        if not request.location_id:
            bad.add("fulfillment.location_id", f"is required for {request.fulfillment_type}")
        return
    address = request.address
    if address is None:
        bad.add("fulfillment.address", "is required for ship")
        return
    for name in ("line1", "city", "postal_code", "country"):
        bad.require(f"fulfillment.address.{name}", getattr(address, name))
    if not -90.0 <= address.lat <= 90.0:
        bad.add("fulfillment.address.point.lat", "must be within -90..90")
    if not -180.0 <= address.lon <= 180.0:
        bad.add("fulfillment.address.point.lon", "must be within -180..180")


def check_tenders(tenders: list[RequestedTender]) -> None:
    """A new payment's tenders (issue 11), by placement's rules, every error at once."""
    bad = Violations()
    _check_tenders(tenders, bad)
    bad.raise_if_any()


def _check_tenders(tenders: list[RequestedTender], bad: Violations) -> None:
    if not tenders:
        bad.add("tenders", "at least one tender is required")
        return
    cards = 0
    for index, tender in enumerate(tenders):
        where = f"tenders[{index}]"
        if tender.type == TenderType.CARD:
            cards += 1
            bad.require(f"{where}.token", tender.token)
            if tender.amount_minor != 0:
                bad.add(f"{where}.amount", "a card covers the remainder: give 0")
        elif tender.type == TenderType.GIFT_CARD:
            bad.require(f"{where}.code", tender.code)
            if tender.amount_minor < 0:
                bad.add(f"{where}.amount", "must not be negative")
            if tender.amount_minor == 0 and len(tenders) > 1:
                bad.add(f"{where}.amount", "is required with several tenders")
        else:
            bad.add(f"{where}.type", "must be card or gift_card")
    if cards > 1:
        bad.add("tenders", "at most one card tender")


def price_order(lines: list[RequestedLine], catalog: Catalog) -> PricedOrder:
    """Captures price and return window per line; names the first SKU the catalog lacks."""
    # The SKUs the catalog said it lacks, else those it answered no price for.
    unknown = set(catalog.unknown) or {line.sku for line in lines if line.sku not in catalog.prices}
    for index, line in enumerate(lines):
        if line.sku in unknown:
            raise InvalidArgument.field(f"lines[{index}].sku", f"unknown sku {line.sku}")
    prices = [catalog.prices[line.sku] for line in lines]
    currencies = {price.price.currency for price in prices}
    if len(currencies) != 1:
        raise BusinessRuleViolation(
            "MIXED_CURRENCY",
            "all items of an order must be priced in one currency",
            {"currencies": ",".join(sorted(currencies))},
        )
    priced = [
        PricedLine(line.sku, line.quantity, price.price.amount_minor, price.returnable_days)
        for line, price in zip(lines, prices, strict=True)
    ]
    total = sum(line.unit_price_minor * line.quantity for line in priced)
    return PricedOrder(lines=priced, total=Money(total, currencies.pop()))


def check_tenders_pay(tenders: list[RequestedTender], total: Money) -> None:
    """The order's tender rule, as a field error of this request."""
    problem = rules.tender_problem(tenders, total.amount_minor)
    if problem is not None:
        raise InvalidArgument.field("tenders", problem)


def placement_refused(reason: str, message: str, details: dict[str, str]) -> BusinessRuleViolation:
    """The journey's refusal (stock, payment, no source), the same on every retry."""
    return BusinessRuleViolation(
        reason or "ORDER_REJECTED", message or "the order was not placed", dict(details)
    )
