"""A store's actions as the orders service checks them before it forwards them.

Only the request's shape and the kind of fulfillment are checked here; whether
the action is allowed in the fulfillment's status is the journey's to decide
(workflows/order/rules.py, enforced by its update validators). Curbside arrival
is the one action the orders service does alone (and tells the journey, which
starts the hand-off clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from omni.words import FulfillmentStatus, FulfillmentType
from services.common.errors import Conflict
from services.common.validation import Violations
from workflows.order.rules import STORE_ACTION_ONLY_FOR, StoreAction

MAX_REJECT_REASON_LENGTH = 500
MAX_ARRIVAL_NOTE_LENGTH = 500


@dataclass(frozen=True)
class PickedLine:
    sku: str
    quantity_picked: int


@dataclass(frozen=True)
class TakenLine:
    """A partial handover's line: what the customer took of one sku (the
    journey checks it against what was picked)."""

    sku: str
    quantity: int


def check_kind(action: StoreAction, fulfillment_type: FulfillmentType) -> None:
    """Some actions exist for one kind of fulfillment only (a pickup is handed over)."""
    only_for = STORE_ACTION_ONLY_FOR.get(action)
    if only_for is not None and fulfillment_type != only_for[0]:
        raise Conflict("INVALID_STATE", only_for[1])


def validate_pick(ordered: dict[str, int], picked: list[PickedLine]) -> None:
    """Every line of the fulfillment exactly once, 0..ordered picked."""
    bad = Violations()
    if not picked:
        bad.add("lines", "list every line of the fulfillment")
    seen: set[str] = set()
    for index, line in enumerate(picked):
        if line.sku not in ordered:
            bad.add(f"lines[{index}].sku", "is not in this fulfillment")
            continue
        if line.sku in seen:
            bad.add(f"lines[{index}].sku", "is listed twice")
        seen.add(line.sku)
        if not 0 <= line.quantity_picked <= ordered[line.sku]:
            bad.add(f"lines[{index}].quantity", f"must be between 0 and {ordered[line.sku]}")
    missing = sorted(set(ordered) - seen)
    if picked and missing and not bad:
        bad.add("lines", f"missing lines for {', '.join(missing)}")
    bad.raise_if_any()


def validate_reject_reason(reason: str) -> None:
    bad = Violations()
    bad.check_text("reason", reason, required=True, max_length=MAX_REJECT_REASON_LENGTH)
    bad.raise_if_any()


def check_arrival(fulfillment_type: FulfillmentType, status: FulfillmentStatus, note: str) -> None:
    """Curbside: only a pickup that is waiting for its customer, with a short note."""
    bad = Violations()
    bad.check_text("note", note, max_length=MAX_ARRIVAL_NOTE_LENGTH)
    bad.raise_if_any()
    if fulfillment_type != FulfillmentType.PICKUP:
        raise Conflict("INVALID_STATE", "only a pickup has a customer arriving")
    if status != FulfillmentStatus.READY_FOR_PICKUP:
        raise Conflict(
            "INVALID_STATE",
            f"a pickup that is {status} is not waiting for its customer",
            {"status": status},
        )
