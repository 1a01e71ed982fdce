"""The associates registry and staff credit (issue 14), as pure rules.

An associate is registered by an admin with a home store; their tokens are
accepted, and sales credited to them, only while they are active. An order
is credited to the associate who placed it (a till sale, an endless-aisle
order), else to the referral an online order carries. A store's staff sales
add up, per associate and channel, the credited orders placed in a period
(gross) and take off the refunds, in that period, of returns of orders
credited to them (net): the credit follows the sale whichever channel the
return comes back through.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from omni.words import Channel
from services.common.errors import AlreadyExists, BusinessRuleViolation
from services.common.validation import Violations

MAX_NAME = 200

# The refusal a placement gets for a referral or placing associate who is
# not an active associate of the registry (422 at the gateway).
UNKNOWN_ASSOCIATE = "UNKNOWN_ASSOCIATE"


@dataclass(frozen=True)
class Associate:
    associate_id: str
    name: str
    store_id: str
    active: bool = True
    created_at: datetime | None = None
    deactivated_at: datetime | None = None


def validate_new(associate: Associate) -> Associate:
    """A registration as asked: id and home store are ids, the name is text."""
    bad = Violations()
    bad.check_id("associate_id", associate.associate_id)
    bad.check_id("store_id", associate.store_id)
    bad.check_text("name", associate.name, required=True, max_length=MAX_NAME)
    bad.raise_if_any()
    return Associate(associate.associate_id, associate.name.strip(), associate.store_id)


def same_registration(existing: Associate, wanted: Associate) -> Associate:
    """Registering again: the same name and store answer the record; anything
    else is ALREADY_EXISTS (an id names one person)."""
    if existing.name != wanted.name or existing.store_id != wanted.store_id:
        raise AlreadyExists(
            f"associate {wanted.associate_id} is already registered"
            f" as {existing.name!r} at {existing.store_id}"
        )
    return existing


def credited_associate(associate_id: str, referral_associate_id: str) -> str:
    """Who a sale is credited to: the associate who placed it, else the referral."""
    return associate_id or referral_associate_id


def unknown_associate(field_name: str, associate_id: str) -> BusinessRuleViolation:
    return BusinessRuleViolation(
        UNKNOWN_ASSOCIATE,
        f"{field_name} {associate_id} is not an active associate",
        {"field": field_name, "associate_id": associate_id},
    )


# ---------------------------------------------------------------- staff sales


@dataclass(frozen=True)
class CreditedOrder:
    """A credited order placed in the period (cancelled orders are not given)."""

    associate_id: str
    channel: Channel
    total_minor: int
    currency: str = "USD"


@dataclass(frozen=True)
class CreditedRefund:
    """A refund in the period of a return of an order credited to `associate_id`,
    in the order's channel."""

    associate_id: str
    channel: Channel
    refund_minor: int
    currency: str = "USD"


@dataclass
class Figures:
    orders_credited: int = 0
    gross_minor: int = 0
    returned_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.gross_minor - self.returned_minor


@dataclass
class StaffSales:
    associate: Associate
    total: Figures = field(default_factory=Figures)
    channels: dict[Channel, Figures] = field(default_factory=dict)

    def _in(self, channel: Channel) -> Figures:
        return self.channels.setdefault(channel, Figures())


def report_currency(orders: list[CreditedOrder], default: str = "USD") -> str:
    """A store sells in one currency: the one most of its credited orders are in."""
    counts: dict[str, int] = {}
    for order in orders:
        counts[order.currency] = counts.get(order.currency, 0) + 1
    return max(sorted(counts), key=lambda c: counts[c]) if counts else default


def staff_sales(
    associates: Iterable[Associate],
    orders: Iterable[CreditedOrder],
    refunds: Iterable[CreditedRefund],
    currency: str = "USD",
) -> list[StaffSales]:
    """Per associate (every one given, in id order, zero figures included):
    orders credited and gross, returns taken off, by channel and in all; only
    figures in `currency` are added up."""
    sales = {
        a.associate_id: StaffSales(a) for a in sorted(associates, key=lambda a: a.associate_id)
    }
    for order in orders:
        found = sales.get(order.associate_id)
        if found is None or order.currency != currency:
            continue
        for figures in (found.total, found._in(order.channel)):
            figures.orders_credited += 1
            figures.gross_minor += order.total_minor
    for refund in refunds:
        found = sales.get(refund.associate_id)
        if found is None or refund.currency != currency:
            continue
        for figures in (found.total, found._in(refund.channel)):
            figures.returned_minor += refund.refund_minor
    return list(sales.values())
