"""Card numbers never enter Omni: spot anything that looks like one."""

from __future__ import annotations

import re

_DIGIT_RUN = re.compile(r"\d[\d \-]{11,}\d")


def passes_luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def looks_like_card_number(value: str) -> bool:
    """True when `value` holds 13-19 digits (spaces or dashes allowed) passing Luhn."""
    for match in _DIGIT_RUN.finditer(value):
        digits = re.sub(r"[ \-]", "", match.group())
        if 13 <= len(digits) <= 19 and passes_luhn(digits):
            return True
    return False
