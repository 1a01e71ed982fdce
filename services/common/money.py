"""Money in integer minor units of an ISO 4217 currency: never a float.

One `Money` for every service; the mapping modules turn it into
`omni.common.v1.Money` and back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.common.errors import InvalidArgument

_CURRENCY = re.compile(r"^[A-Z]{3}$")

# Minor-unit exponents that differ from the usual 2 (ISO 4217).
_EXPONENTS = {
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
    "PYG": 0, "RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}  # fmt: skip


def minor_unit_exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has (JPY 0, USD 2, BHD 3)."""
    return _EXPONENTS.get(currency, 2)


def is_currency_code(currency: str) -> bool:
    return bool(_CURRENCY.match(currency))


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor + other.amount_minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.amount_minor - other.amount_minor, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def formatted(self) -> str:
        """'12.50 USD', '1200 JPY', '1.250 BHD': integer arithmetic only."""
        exponent = minor_unit_exponent(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        units, minor = divmod(abs(self.amount_minor), 10**exponent)
        if exponent == 0:
            return f"{sign}{units} {self.currency}"
        return f"{sign}{units}.{minor:0{exponent}d} {self.currency}"


def validate_money(money: Money, field: str, *, allow_zero: bool = False) -> Money:
    """Amounts are positive (or, when allowed, zero) minor units in an ISO 4217 currency."""
    if money.amount_minor < 0 or (money.amount_minor == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "greater than zero"
        raise InvalidArgument.field(f"{field}.amount_minor", f"must be {bound}")
    if not is_currency_code(money.currency):
        raise InvalidArgument.field(f"{field}.currency", "must be a 3-letter ISO 4217 code")
    return money
