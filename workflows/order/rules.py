"""The order's lifecycle rules: what may happen to an order and its fulfillments
in which status, and how its tenders share the money.

The one owner of these decisions. The order workflows' update validators ask
them before they act; the orders service asks the same functions when it must
decide before the journey is asked. Pure: no I/O, no Temporal, no gRPC, so
both can import it and tests check it as tables.

A refusal comes back as a `Refusal` (the words and the status that refused);
each caller raises it its own way (an ApplicationError in the workflow, a
Conflict in the orders service), both with the reason INVALID_STATE.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from omni.words import FulfillmentStatus, FulfillmentType, OrderStatus, TenderType

# ---------------------------------------------------------------- statuses

# The placement has been answered and the order has not ended: store work and
# cancels are possible (each rule below narrows it).
LIVE_ORDER_STATUSES = frozenset(
    {
        OrderStatus.PLACED,
        OrderStatus.IN_FULFILLMENT,
        OrderStatus.READY_FOR_PICKUP,
        OrderStatus.PARTIALLY_SHIPPED,
    }
)
# Nothing more happens to the order.
FINAL_ORDER_STATUSES = frozenset(
    {
        OrderStatus.REJECTED,
        OrderStatus.SHIPPED,
        OrderStatus.COMPLETED,
        OrderStatus.CANCELLED,
    }
)
# Work the location still has to do (or the customer still has to collect).
OPEN_FULFILLMENT_STATUSES = frozenset(
    {
        FulfillmentStatus.PENDING,
        FulfillmentStatus.PICKING,
        FulfillmentStatus.READY_FOR_PICKUP,
    }
)
# The goods left the store: collected or shipped.
DELIVERED_FULFILLMENT_STATUSES = frozenset({FulfillmentStatus.PICKED_UP, FulfillmentStatus.SHIPPED})
# A shipment may be cancelled until everything shipped, a pickup until
# everything is collected (what was delivered is kept and paid for).
CANCELLABLE_ORDER_STATUSES: dict[FulfillmentType, frozenset[OrderStatus]] = {
    FulfillmentType.PICKUP: frozenset(
        {OrderStatus.PLACED, OrderStatus.IN_FULFILLMENT, OrderStatus.READY_FOR_PICKUP}
    ),
    # After a partial shipment, what has not shipped (issue 11).
    FulfillmentType.SHIP: frozenset(
        {OrderStatus.PLACED, OrderStatus.IN_FULFILLMENT, OrderStatus.PARTIALLY_SHIPPED}
    ),
}
# Something of these orders reached the customer.
RETURNABLE_ORDER_STATUSES = frozenset(
    {OrderStatus.PARTIALLY_SHIPPED, OrderStatus.SHIPPED, OrderStatus.COMPLETED}
)


def is_live(order_status: str) -> bool:
    return order_status in LIVE_ORDER_STATUSES


def is_final(order_status: str) -> bool:
    return order_status in FINAL_ORDER_STATUSES


def is_open(fulfillment_status: str) -> bool:
    return fulfillment_status in OPEN_FULFILLMENT_STATUSES


def is_delivered(fulfillment_status: str) -> bool:
    return fulfillment_status in DELIVERED_FULFILLMENT_STATUSES


# ---------------------------------------------------------------- store actions


class StoreAction(StrEnum):
    """What a store does to one fulfillment (the words of the refusals)."""

    PICK = "pick"
    REJECT = "reject"
    HAND_OVER = "hand over"
    SHIP = "ship"
    NEW_PICKUP_CODE = "issue a new pickup code for"


# The fulfillment statuses each action starts from. A ship fulfillment that is
# picked stays PICKING until it ships, so it may still be rejected.
STORE_ACTION_FROM: dict[StoreAction, frozenset[FulfillmentStatus]] = {
    StoreAction.PICK: frozenset({FulfillmentStatus.PENDING}),
    StoreAction.REJECT: frozenset({FulfillmentStatus.PENDING, FulfillmentStatus.PICKING}),
    StoreAction.HAND_OVER: frozenset({FulfillmentStatus.READY_FOR_PICKUP}),
    StoreAction.SHIP: frozenset({FulfillmentStatus.PICKING}),
    StoreAction.NEW_PICKUP_CODE: frozenset({FulfillmentStatus.READY_FOR_PICKUP}),
}
# Actions only one kind of fulfillment has.
STORE_ACTION_ONLY_FOR: dict[StoreAction, tuple[FulfillmentType, str]] = {
    StoreAction.HAND_OVER: (FulfillmentType.PICKUP, "only a pickup is handed over"),
    StoreAction.NEW_PICKUP_CODE: (FulfillmentType.PICKUP, "only a pickup has a pickup code"),
    StoreAction.SHIP: (FulfillmentType.SHIP, "only a ship fulfillment is shipped"),
}


@dataclass(frozen=True)
class Refusal:
    """Why an action is refused, and the status (order's or fulfillment's) that refused it."""

    message: str
    status: str = ""


def order_refusal(action: StoreAction, order_status: str) -> Refusal | None:
    """None when the order takes store work at all: placed and not ended."""
    if is_live(order_status):
        return None
    return Refusal(f"cannot {action} an order that is {order_status}", order_status)


def store_action_refusal(
    action: StoreAction,
    *,
    order_status: str,
    fulfillment_type: str,
    fulfillment_status: str,
    fulfillment_id: str = "",
) -> Refusal | None:
    """None when the store may do `action` to the fulfillment now."""
    only_for = STORE_ACTION_ONLY_FOR.get(action)
    if only_for is not None and fulfillment_type != only_for[0]:
        return Refusal(only_for[1])
    refused = order_refusal(action, order_status)
    if refused is not None:
        return refused
    if fulfillment_status not in STORE_ACTION_FROM[action]:
        which = f"fulfillment {fulfillment_id}" if fulfillment_id else "a fulfillment"
        return Refusal(f"cannot {action} {which}: it is {fulfillment_status}", fulfillment_status)
    return None


# Wrong pickup codes a ready pickup takes; then it is locked (the right code
# refused too) until the customer asks for a new code (API.md, Store work).
PICKUP_CODE_ATTEMPTS = 5


def pickup_locked(wrong_codes: int) -> str | None:
    """Why a handover is refused before its code is even compared; None when it is not."""
    if wrong_codes >= PICKUP_CODE_ATTEMPTS:
        return (
            f"locked after {PICKUP_CODE_ATTEMPTS} wrong pickup codes:"
            " the customer must ask for a new code"
        )
    return None


class PickedLine(Protocol):
    @property
    def sku(self) -> str: ...
    @property
    def quantity(self) -> int: ...


def pick_problem(ordered: dict[str, int], picked: Sequence[PickedLine]) -> str | None:
    """What is wrong with a pick of a fulfillment that ordered `ordered` (sku ->
    quantity); None when it may be taken. A sku left out was not found on the
    shelf (picked 0); picking nothing at all is a reject, not a pick."""
    seen: set[str] = set()
    for line in picked:
        if line.sku not in ordered:
            return f"{line.sku} is not in this fulfillment"
        if line.sku in seen:
            return f"{line.sku} is listed twice"
        seen.add(line.sku)
        if line.quantity < 0:
            return f"{line.sku}: quantity must not be negative"
        if line.quantity > ordered[line.sku]:
            return f"{line.sku}: picked {line.quantity}, ordered {ordered[line.sku]}"
    if sum(line.quantity for line in picked) == 0:
        return "nothing was picked; reject the fulfillment instead"
    return None


def handover_problem(picked: dict[str, int], taken: Sequence[PickedLine]) -> str | None:
    """What is wrong with a partial handover of a pickup that holds `picked`
    (sku -> quantity picked); None when it may be taken. A sku left out was
    not taken (refused, or found damaged at the counter); taking nothing at
    all is a cancel, not a handover."""
    seen: set[str] = set()
    for line in taken:
        if picked.get(line.sku, 0) <= 0:
            return f"{line.sku} was not picked for this pickup"
        if line.sku in seen:
            return f"{line.sku} is listed twice"
        seen.add(line.sku)
        if line.quantity < 0:
            return f"{line.sku}: quantity must not be negative"
        if line.quantity > picked[line.sku]:
            return f"{line.sku}: taken {line.quantity}, picked {picked[line.sku]}"
    if sum(line.quantity for line in taken) == 0:
        return "nothing was taken; cancel the order instead"
    return None


# ---------------------------------------------------------------- cancel, return


def cancel_refusal(fulfillment_type: str, order_status: str) -> Refusal | None:
    """None when the customer (or the pickup window) may still cancel the order."""
    kind = FulfillmentType.parse(fulfillment_type)
    if kind is not None and order_status in CANCELLABLE_ORDER_STATUSES[kind]:
        return None
    return Refusal(f"cannot cancel an order that is {order_status}", order_status)


@dataclass(frozen=True)
class LineCancelProblem:
    """Why a line cancel is refused: `conflict` when the units exist but are
    no longer cancellable (handed over or shipped: 409), else the request
    asks for what the order never had (422)."""

    message: str
    conflict: bool = False


def line_cancel_problem(
    still_ordered: dict[str, int], cancellable: dict[str, int], lines: Sequence[PickedLine]
) -> LineCancelProblem | None:
    """What is wrong with cancelling `lines` (sku, quantity) of an order that
    still has `still_ordered` units per sku (ordered less cancelled before),
    of which `cancellable` are in fulfillments not yet handed over or shipped;
    None when they may all be cancelled."""
    if not lines:
        return LineCancelProblem("name at least one line to cancel")
    seen: set[str] = set()
    for line in lines:
        if line.sku not in still_ordered:
            return LineCancelProblem(f"{line.sku} is not in this order")
        if line.sku in seen:
            return LineCancelProblem(f"{line.sku} is listed twice")
        seen.add(line.sku)
        if line.quantity <= 0:
            return LineCancelProblem(f"{line.sku}: quantity must be positive")
        if line.quantity > still_ordered[line.sku]:
            return LineCancelProblem(
                f"{line.sku}: cancelling {line.quantity}, the order has"
                f" {still_ordered[line.sku]} left"
            )
        if line.quantity > cancellable.get(line.sku, 0):
            return LineCancelProblem(
                f"{line.sku}: only {cancellable.get(line.sku, 0)} not yet handed over"
                " or shipped can be cancelled",
                conflict=True,
            )
    return None


def cancelled_share(paid_upto: Sequence[int], already: int, units: int) -> int | None:
    """What `units` more cancelled units of a line give back after `already`
    were cancelled: the difference of its cumulative paid shares (never more
    than the line cost; every unit cancelled gives back exactly what it cost).
    None when the line carries no shares (priced before pricing)."""
    if not paid_upto:
        return None
    last = len(paid_upto) - 1
    start = min(max(already, 0), last)
    end = min(start + max(units, 0), last)
    return paid_upto[end] - paid_upto[start]


def address_change_refusal(
    fulfillment_type: str,
    order_status: str,
    fulfillment_statuses: Iterable[str],
    *,
    per_shipment: bool = True,
) -> Refusal | None:
    """None while a shipment's address may change: before it is picked. Per
    shipment (a split order, or one a short pick split): while some shipment
    is still pending and none has shipped — a picked one keeps going, the
    pending ones are sourced again. Without `per_shipment` (runs started
    before split orders could change address): only while every fulfillment
    is pending, or ended without shipping."""
    if fulfillment_type != FulfillmentType.SHIP:
        return Refusal("only a shipment has a shipping address")
    allowed = (
        (OrderStatus.PLACED, OrderStatus.IN_FULFILLMENT) if per_shipment else (OrderStatus.PLACED,)
    )
    if order_status not in allowed:
        return Refusal(
            f"cannot change the address of an order that is {order_status}", order_status
        )
    statuses = list(fulfillment_statuses)
    if per_shipment:
        if FulfillmentStatus.SHIPPED in statuses:
            # One address per order: a parcel on its way keeps the one it has.
            return Refusal(
                "cannot change the address once a shipment is shipped", FulfillmentStatus.SHIPPED
            )
        if FulfillmentStatus.PENDING not in statuses:
            return Refusal(
                "cannot change the address once every shipment is picked",
                FulfillmentStatus.PICKING,
            )
        return None
    for status in statuses:
        if status not in (
            FulfillmentStatus.PENDING,
            FulfillmentStatus.REROUTED,
            FulfillmentStatus.CANCELLED,
        ):
            return Refusal(f"cannot change the address once a shipment is {status}", status)
    return None


def may_return(order_status: str, fulfillment_statuses: Iterable[str]) -> bool:
    """Something of the order reached the customer: its status says so, or one
    of its fulfillments was collected or shipped."""
    return order_status in RETURNABLE_ORDER_STATUSES or any(
        is_delivered(status) for status in fulfillment_statuses
    )


# ---------------------------------------------------------------- tenders


class Tendered(Protocol):
    """A tender as the customer gave it: a gift card with the amount it pays
    (0: whatever is left), a card (covers the remainder)."""

    @property
    def type(self) -> str: ...
    @property
    def amount_minor(self) -> int: ...


def tender_amounts(tenders: Sequence[Tendered], total_minor: int) -> list[int]:
    """What each tender is authorized for, in the tenders' order: gift cards pay
    their amount (never more than is left; one without an amount pays what is
    left), then the card pays the rest. 0: the tender is not needed."""
    remaining = total_minor
    amounts = [0] * len(tenders)
    for index, tender in enumerate(tenders):
        if tender.type == TenderType.GIFT_CARD:
            amount = min(tender.amount_minor or remaining, remaining)
            amounts[index] = amount
            remaining -= amount
    for index, tender in enumerate(tenders):
        if tender.type == TenderType.CARD:
            amounts[index] = remaining
            remaining = 0
    return amounts


def tender_problem(tenders: Sequence[Tendered], total_minor: int) -> str | None:
    """Why the tenders cannot pay `total_minor`; None when they can (a lone gift
    card without an amount pays the whole total)."""
    if (
        len(tenders) == 1
        and tenders[0].type == TenderType.GIFT_CARD
        and tenders[0].amount_minor == 0
    ):
        return None
    gift_total = sum(t.amount_minor for t in tenders if t.type == TenderType.GIFT_CARD)
    if gift_total > total_minor:
        return "gift card amounts exceed the order total"
    if not any(t.type == TenderType.CARD for t in tenders) and gift_total != total_minor:
        return "gift card amounts must cover the total when no card is given"
    return None


def gift_cards_first(tender_types: Sequence[str]) -> list[int]:
    """The positions of the tenders in the order money is taken from them
    (capture) or given back to them (refund): gift cards first, the card last,
    each kind in the order given."""
    cards = (TenderType.CARD, TenderType.CARD_PRESENT)
    return sorted(range(len(tender_types)), key=lambda i: (tender_types[i] in cards, i))


def capture_amounts(authorized: Sequence[tuple[str, int]], amount_minor: int) -> list[int]:
    """How `amount_minor` is captured from tenders authorized for (tender type,
    authorized amount), in the tenders' order: gift cards first, each up to
    what it holds. 0: nothing to capture (the authorization is voided)."""
    amounts = [0] * len(authorized)
    left = amount_minor
    for index in gift_cards_first([tender_type for tender_type, _ in authorized]):
        amounts[index] = min(left, authorized[index][1])
        left -= amounts[index]
    return amounts
