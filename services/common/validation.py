"""One validation collector: a request reports all of its mistakes at once.

Services validate at their edge (use cases, before any I/O) with `Violations`,
then `raise_if_any()` raises one InvalidArgument whose google.rpc BadRequest
details name every field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.common.errors import FieldViolation, InvalidArgument
from services.common.pan import looks_like_card_number

MAX_ID = 64
MAX_TEXT = 500
_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:/-]{1,64}$")


class Violations:
    def __init__(self) -> None:
        self.items: list[FieldViolation] = []

    def add(self, field_name: str, message: str) -> None:
        self.items.append(FieldViolation(field_name, message))

    def require(self, field_name: str, value: object) -> None:
        if not value or (isinstance(value, str) and not value.strip()):
            self.add(field_name, "is required")

    def check_id(self, field_name: str, value: str, *, required: bool = True) -> None:
        if not value:
            if required:
                self.add(field_name, "is required")
        elif not _ID_PATTERN.match(value):
            self.add(field_name, f"must be 1-{MAX_ID} letters, digits or ._:/- (no spaces)")

    def check_text(
        self, field_name: str, value: str, *, required: bool = False, max_length: int = MAX_TEXT
    ) -> None:
        if required and not value.strip():
            self.add(field_name, "is required")
        elif len(value) > max_length:
            self.add(field_name, f"must be at most {max_length} characters")
        elif looks_like_card_number(value):
            self.add(field_name, "looks like a card number; send a token")

    def check_positive(self, field_name: str, value: int) -> None:
        if value <= 0:
            self.add(field_name, "must be greater than zero")

    def check_one_of(self, field_name: str, value: str, allowed: Iterable[str]) -> None:
        options = sorted(allowed)
        if value not in options:
            self.add(field_name, "must be one of " + ", ".join(options))

    def extend(self, violations: Iterable[FieldViolation]) -> None:
        self.items.extend(violations)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        if len(self.items) == 1:
            only = self.items[0]
            raise InvalidArgument(f"{only.field}: {only.message}", list(self.items))
        raise InvalidArgument(
            "invalid request: " + "; ".join(f"{v.field}: {v.message}" for v in self.items),
            list(self.items),
        )
