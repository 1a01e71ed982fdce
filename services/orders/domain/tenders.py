"""A tender as an order request names it: the one shape placement
(domain/placing.py) and the till's rules (domain/till.py) both read."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestedTender:
    # A TenderType word ("" when the request names none); workflows/order/rules.py
    # reads it as one.
    type: str
    token: str = ""
    code: str = ""
    amount_minor: int = 0
