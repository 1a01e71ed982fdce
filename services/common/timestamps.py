"""datetime ⇄ google.protobuf.Timestamp, always in UTC; an unset stamp is 'none'."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp


def to_timestamp(at: datetime | None) -> Timestamp:
    stamp = Timestamp()
    if at is not None:
        stamp.FromDatetime(at.astimezone(UTC))
    return stamp


def from_timestamp(stamp: Timestamp) -> datetime | None:
    """None for an unset stamp (zero seconds and nanos)."""
    if stamp.seconds == 0 and stamp.nanos == 0:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def iso_or_none(stamp: Timestamp) -> str | None:
    """An RFC 3339 string for REST, or None when unset."""
    at = from_timestamp(stamp)
    return at.isoformat().replace("+00:00", "Z") if at is not None else None
