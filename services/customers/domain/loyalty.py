"""Loyalty points: earned by completed orders, taken back by refunds, with a
debt instead of a negative balance. No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.words import LoyaltyReason, TimelineEventKind
from services.common.money import Money, minor_unit_exponent
from services.customers.domain.customers import Customer
from services.customers.domain.history import TimelineEvent

# Completing an order earns points; a refund of returned items takes them back.
EARNING_KINDS = (TimelineEventKind.ORDER_COMPLETED, TimelineEventKind.ORDER_SHIPPED)
CLAWBACK_KINDS = (TimelineEventKind.REFUND_ISSUED,)


@dataclass(frozen=True)
class LoyaltyEntry:
    entry_id: str
    reason: LoyaltyReason
    reference_id: str
    points: int
    balance_after: int
    debt_after: int
    at: datetime | None = None


def points_for(amount: Money, points_per_unit: int) -> int:
    """`points_per_unit` points per whole currency unit, fractions dropped."""
    return amount.amount_minor // 10 ** minor_unit_exponent(amount.currency) * points_per_unit


def loyalty_change(event: TimelineEvent, points_per_unit: int) -> tuple[LoyaltyReason, int] | None:
    """(reason, signed points) the milestone means for the customer, if any."""
    points = points_for(event.amount, points_per_unit)
    if points == 0:
        return None
    if event.kind in EARNING_KINDS:
        return LoyaltyReason.ACCRUAL, points
    if event.kind in CLAWBACK_KINDS:
        return LoyaltyReason.CLAWBACK, -points
    return None


def apply_points(balance: int, debt: int, delta: int) -> tuple[int, int]:
    """(balance, debt) after `delta`: earned points pay off debt first, and a
    clawback beyond the balance becomes debt, so the balance never goes negative."""
    if delta >= 0:
        paid = min(debt, delta)
        return balance + delta - paid, debt - paid
    taken = min(balance, -delta)
    return balance - taken, debt + (-delta - taken)


def entry_for_event(
    customer: Customer, event: TimelineEvent, points_per_unit: int
) -> LoyaltyEntry | None:
    """The ledger entry a milestone makes (keyed by the event id), if it moves points."""
    change = loyalty_change(event, points_per_unit)
    if change is None:
        return None
    reason, points = change
    balance, debt = apply_points(customer.loyalty_points, customer.loyalty_debt, points)
    return LoyaltyEntry(event.event_id, reason, event.reference_id, points, balance, debt)
