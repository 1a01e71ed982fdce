"""A customer's history: orders and returns across channels, the timeline of
their milestones, and where a newest-first page of either stopped. No I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from omni.words import ActivityKind, Channel, TimelineEventKind
from services.common.errors import InvalidArgument
from services.common.money import Money
from services.common.paging import decode_cursor
from services.common.validation import Violations
from services.customers.domain.customers import MAX_TEXT_LENGTH

MAX_SUMMARY_LENGTH = 500


@dataclass(frozen=True)
class Activity:
    kind: ActivityKind
    reference_id: str
    channel: Channel | None = None
    # The order's or return's status as its owner words it; never interpreted here.
    status: str = ""
    order_id: str = ""
    occurred_at: datetime | None = None


def validate_activity(activity: Activity) -> Activity:
    violations = Violations()
    violations.require("activity.reference_id", activity.reference_id)
    for name in ("reference_id", "status", "order_id"):
        if len(getattr(activity, name)) > MAX_TEXT_LENGTH:
            violations.add(f"activity.{name}", f"is longer than {MAX_TEXT_LENGTH}")
    violations.raise_if_any()
    return activity


@dataclass(frozen=True)
class TimelineEvent:
    event_id: str
    kind: TimelineEventKind
    reference_id: str
    order_id: str = ""
    channel: Channel | None = None
    summary: str = ""
    at: datetime | None = None
    amount_minor: int = 0
    currency: str = ""
    details: dict[str, str] = field(default_factory=dict)

    @property
    def amount(self) -> Money:
        return Money(self.amount_minor, self.currency)


def validate_timeline_event(event: TimelineEvent) -> TimelineEvent:
    violations = Violations()
    violations.require("event.event_id", event.event_id)
    violations.require("event.reference_id", event.reference_id)
    for name in ("event_id", "reference_id", "order_id"):
        if len(getattr(event, name)) > MAX_TEXT_LENGTH:
            violations.add(f"event.{name}", f"is longer than {MAX_TEXT_LENGTH}")
    if len(event.summary) > MAX_SUMMARY_LENGTH:
        violations.add("event.summary", f"is longer than {MAX_SUMMARY_LENGTH}")
    if event.amount_minor < 0:
        violations.add("event.amount_minor", "must not be negative")
    violations.raise_if_any()
    return event


@dataclass(frozen=True)
class HistoryKey:
    """Where a newest-first page of a customer's history stopped: the last
    row's time and its sequence number (the tie-break between equal times)."""

    at: datetime
    seq: int

    def cursor_key(self) -> tuple[str, int]:
        return (self.at.isoformat(), self.seq)

    @classmethod
    def from_cursor(cls, token: str) -> HistoryKey | None:
        """The key an opaque `page_token` holds; None for the first page."""
        key = decode_cursor(token, arity=2, field="page_token")
        if key is None:
            return None
        at, seq = key
        if isinstance(at, str) and isinstance(seq, int) and not isinstance(seq, bool):
            try:
                return cls(datetime.fromisoformat(at), seq)
            except ValueError:
                pass
        raise InvalidArgument.field("page_token", "is not a cursor this service issued")
