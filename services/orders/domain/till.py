"""Till sales (issue 14): what a till may be paid with and how a sale's total
is split over its tenders. No I/O.

A till takes gift cards (each its `amount_minor`, or the whole total when it is
the only tender), cash (the amount handed over; what is due of it is recorded,
the change is the till's business) and one card read at the till
(`card_present`, covering whatever is left). The money is taken in that order:
gift cards, then cash, then the card.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from omni.words import TenderType
from services.common.errors import InvalidArgument
from services.common.validation import Violations
from services.orders.domain.tenders import RequestedTender

TILL_TENDERS = (TenderType.GIFT_CARD, TenderType.CASH, TenderType.CARD_PRESENT)


def check_tenders(tenders: Sequence[RequestedTender], bad: Violations) -> None:
    """The shape of a till sale's tenders, every bad field named."""
    if not tenders:
        bad.add("tenders", "at least one tender is required")
        return
    counts = {kind: 0 for kind in TILL_TENDERS}
    for index, tender in enumerate(tenders):
        where = f"tenders[{index}]"
        if tender.type == TenderType.CARD_PRESENT:
            bad.require(f"{where}.token", tender.token)
            if tender.amount_minor != 0:
                bad.add(f"{where}.amount", "a card covers the remainder: give 0")
        elif tender.type == TenderType.CASH:
            if tender.amount_minor <= 0:
                bad.add(f"{where}.amount", "the cash handed over is required")
        elif tender.type == TenderType.GIFT_CARD:
            bad.require(f"{where}.code", tender.code)
            if tender.amount_minor < 0:
                bad.add(f"{where}.amount", "must not be negative")
            if tender.amount_minor == 0 and len(tenders) > 1:
                bad.add(f"{where}.amount", "is required with several tenders")
        else:
            bad.add(f"{where}.type", "a till takes cash, card_present or gift_card")
            continue
        counts[TenderType(tender.type)] += 1
    if counts[TenderType.CASH] > 1:
        bad.add("tenders", "at most one cash tender")
    if counts[TenderType.CARD_PRESENT] > 1:
        bad.add("tenders", "at most one card_present tender")


@dataclass(frozen=True)
class TenderSplit:
    """What each tender pays, in the tenders' order (0: not needed), and the
    change owed for cash handed over beyond what was due."""

    amounts: list[int]
    change_minor: int


def split(tenders: Sequence[RequestedTender], total_minor: int) -> TenderSplit:
    """Gift cards first (never more than is left; a lone one without an amount
    pays it all), then cash up to what is left, then the card for the rest."""
    remaining = total_minor
    amounts = [0] * len(tenders)
    change = 0
    for index, tender in enumerate(tenders):
        if tender.type == TenderType.GIFT_CARD:
            amounts[index] = min(tender.amount_minor or remaining, remaining)
            remaining -= amounts[index]
    for index, tender in enumerate(tenders):
        if tender.type == TenderType.CASH:
            amounts[index] = min(tender.amount_minor, remaining)
            change += tender.amount_minor - amounts[index]
            remaining -= amounts[index]
    for index, tender in enumerate(tenders):
        if tender.type == TenderType.CARD_PRESENT:
            amounts[index] = remaining
            remaining = 0
    return TenderSplit(amounts, change)


def tender_problem(tenders: Sequence[RequestedTender], total_minor: int) -> str | None:
    """Why the tenders cannot pay `total_minor`; None when they can."""
    gift_total = sum(t.amount_minor for t in tenders if t.type == TenderType.GIFT_CARD)
    if gift_total > total_minor:
        return "gift card amounts exceed the sale's total"
    if any(t.type == TenderType.CARD_PRESENT for t in tenders):
        return None
    if sum(split(tenders, total_minor).amounts) < total_minor:
        return "the tenders do not cover the total: add cash or a card_present tender"
    return None


def check_tenders_pay(tenders: Sequence[RequestedTender], total_minor: int) -> None:
    """The till's tender rule, as a field error of this request."""
    problem = tender_problem(tenders, total_minor)
    if problem is not None:
        raise InvalidArgument.field("tenders", problem)
