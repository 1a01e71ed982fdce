"""One paging scheme: opaque cursors over a keyset, the same in every service.

A cursor is the sort key of the last row a page returned, as URL-safe base64
of JSON. Callers hand it back unchanged; a cursor that does not decode is an
InvalidArgument on `cursor` (field name configurable), never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.common.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

Scalar = str | int | float | bool | None
RowT = TypeVar("RowT")


def encode_cursor(key: Sequence[Scalar]) -> str:
    raw = json.dumps(list(key), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str, *, arity: int, field: str = "cursor") -> list[Scalar] | None:
    """The key a cursor holds (`arity` values), None for an empty token."""
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidArgument.field(field, "is not a cursor this service issued") from None
    if not isinstance(key, list) or len(key) != arity:
        raise InvalidArgument.field(field, "is not a cursor this service issued")
    return key


def page_size(requested: int, *, field: str = "page_size") -> int:
    """The requested size, DEFAULT_PAGE_SIZE for 0; refused outside 0..MAX_PAGE_SIZE."""
    if requested < 0 or requested > MAX_PAGE_SIZE:
        raise InvalidArgument.field(field, f"must be between 1 and {MAX_PAGE_SIZE}")
    return requested or DEFAULT_PAGE_SIZE


@dataclass(frozen=True)
class Page(Generic[RowT]):
    items: list[RowT]
    next_cursor: str


def cut_page(
    rows: Sequence[RowT], limit: int, key_of: Callable[[RowT], Sequence[Scalar]]
) -> Page[RowT]:
    """Given up to limit+1 rows, the page and the cursor after its last row."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return Page(items, "")
    return Page(items, encode_cursor(key_of(items[-1])))
