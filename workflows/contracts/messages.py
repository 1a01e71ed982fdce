"""What a message to the customer says about the lines it concerns (issue 14):
the journeys put it in their milestones' `lines` detail, the customers
service's templates print it. Pure and deterministic (workflow code uses it)."""

from __future__ import annotations

from collections.abc import Iterable

# A message stays short: a basket of many lines is cut, saying how many more.
MAX_LINES_LISTED = 10


def lines_text(lines: Iterable[tuple[str, int]]) -> str:
    """ "2 x SKU-MUG, 1 x SKU-CAP" for the lines with a quantity, in order."""
    listed = [f"{quantity} x {sku}" for sku, quantity in lines if quantity > 0]
    if len(listed) > MAX_LINES_LISTED:
        more = len(listed) - MAX_LINES_LISTED
        listed = [*listed[:MAX_LINES_LISTED], f"and {more} more"]
    return ", ".join(listed)
