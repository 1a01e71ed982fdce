"""Merging a duplicate customer into a survivor: who may be merged, and what
the survivor ends up with (name, points, cart). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.words import LoyaltyReason
from services.common.errors import BusinessRuleViolation
from services.customers.domain.carts import Cart, merge_cart_lines
from services.customers.domain.customers import Customer, ensure_not_erased
from services.customers.domain.loyalty import LoyaltyEntry, apply_points

MERGE_INTO_ITSELF = "MERGE_INTO_ITSELF"
ALREADY_MERGED = "ALREADY_MERGED"


@dataclass(frozen=True)
class MergeRecord:
    """The audit record of one merge."""

    merge_id: str
    survivor_id: str
    duplicate_id: str
    actor: str
    at: datetime | None = None


def earlier_merge(
    done: MergeRecord | None, survivor_id: str, duplicate_id: str
) -> MergeRecord | None:
    """The merge already made of this pair (a repeat changes nothing); refuses
    a duplicate merged into someone else, and a customer merged into itself."""
    if done is not None:
        if done.survivor_id == survivor_id:
            return done
        raise BusinessRuleViolation(
            ALREADY_MERGED,
            f"customer {duplicate_id} was already merged into another customer",
            {"duplicate_customer_id": duplicate_id},
        )
    if survivor_id == duplicate_id:
        raise BusinessRuleViolation(
            MERGE_INTO_ITSELF,
            "a customer cannot be merged into itself",
            {"customer_id": survivor_id},
        )
    return None


@dataclass(frozen=True)
class MergePlan:
    # The survivor's name, or the duplicate's when the survivor has none.
    name: str
    # The duplicate's balance and debt moving over, when it has any.
    points: LoyaltyEntry | None
    # The survivor's cart after the merge, when the duplicate's had lines.
    cart: Cart | None


def plan_merge(
    merge_id: str, survivor: Customer, duplicate: Customer, ours: Cart, theirs: Cart
) -> MergePlan:
    ensure_not_erased(survivor)
    ensure_not_erased(duplicate)
    points = None
    if duplicate.loyalty_points or duplicate.loyalty_debt:
        balance, debt = apply_points(
            *apply_points(survivor.loyalty_points, survivor.loyalty_debt, duplicate.loyalty_points),
            -duplicate.loyalty_debt,
        )
        points = LoyaltyEntry(
            entry_id=f"merge/{merge_id}",
            reason=LoyaltyReason.MERGE,
            reference_id=duplicate.customer_id,
            points=duplicate.loyalty_points - duplicate.loyalty_debt,
            balance_after=balance,
            debt_after=debt,
        )
    cart = None
    if theirs.lines:
        cart = Cart(
            customer_id=survivor.customer_id,
            lines=merge_cart_lines(ours.lines, theirs.lines),
            channel=ours.channel or theirs.channel,
        )
    return MergePlan(name=survivor.name or duplicate.name, points=points, cart=cart)
