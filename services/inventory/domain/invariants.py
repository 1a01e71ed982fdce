"""Stock invariants: on hand is the ledger's sum, reserved the active holds', nothing negative."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

RULE_ON_HAND_NOT_LEDGER_SUM = "ON_HAND_NOT_LEDGER_SUM"
RULE_RESERVED_NOT_ACTIVE_HOLDS = "RESERVED_NOT_ACTIVE_HOLDS"
RULE_NEGATIVE_ON_HAND = "NEGATIVE_ON_HAND"
RULE_NEGATIVE_RESERVED = "NEGATIVE_RESERVED"
RULE_RESERVED_ABOVE_ON_HAND = "RESERVED_ABOVE_ON_HAND"


@dataclass(frozen=True)
class StockAudit:
    """One stock row next to what the ledger and the active holds say it must be."""

    location_id: str
    sku: str
    on_hand: int
    reserved: int
    ledger_sum: int
    active_holds: int


@dataclass(frozen=True)
class InvariantViolation:
    location_id: str
    sku: str
    rule: str
    actual: int
    expected: int


def invariant_violations(audits: Iterable[StockAudit]) -> list[InvariantViolation]:
    """Every broken rule of every row; empty when the stock is healthy."""
    found: list[InvariantViolation] = []
    for row in audits:
        checks = (
            (
                RULE_ON_HAND_NOT_LEDGER_SUM,
                row.on_hand != row.ledger_sum,
                row.on_hand,
                row.ledger_sum,
            ),
            (
                RULE_RESERVED_NOT_ACTIVE_HOLDS,
                row.reserved != row.active_holds,
                row.reserved,
                row.active_holds,
            ),
            (RULE_NEGATIVE_ON_HAND, row.on_hand < 0, row.on_hand, 0),
            (RULE_NEGATIVE_RESERVED, row.reserved < 0, row.reserved, 0),
            # Available would be negative: more held than there is.
            (RULE_RESERVED_ABOVE_ON_HAND, row.reserved > row.on_hand, row.reserved, row.on_hand),
        )
        found.extend(
            InvariantViolation(row.location_id, row.sku, rule, actual, expected)
            for rule, broken, actual, expected in checks
            if broken
        )
    return found
