"""Messages to a store's associates (the store outbox, issue 11): what each
kind says. No I/O. The customers service keeps this outbox beside the
customers' one: one place for every message the platform sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omni.words import StoreNotificationKind
from services.common.validation import Violations

MAX_BODY_LENGTH = 1000
MAX_ID_LENGTH = 200


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "-"


# kind -> (subject, body template over the details)
STORE_TEMPLATES: dict[StoreNotificationKind, tuple[str, str]] = {
    StoreNotificationKind.PICK_OVERDUE: (
        "A pick is overdue",
        "{fulfillment_id} of order {order_id} was not picked within the {sla_minutes}-minute"
        " pick SLA. Items: {lines}. Pick it now, or it moves to another location at twice"
        " the SLA.",
    ),
}


@dataclass(frozen=True)
class StoreNotification:
    notification_id: str
    store_id: str
    kind: StoreNotificationKind
    subject: str
    body: str
    reference_id: str = ""
    created_at: datetime | None = None


def compose_store_notification(
    notification_id: str,
    store_id: str,
    kind: StoreNotificationKind | None,
    reference_id: str,
    details: dict[str, str],
) -> StoreNotification:
    """The message, or InvalidArgument naming each wrong field."""
    violations = Violations()
    if not notification_id or len(notification_id) > MAX_ID_LENGTH:
        violations.add("notification_id", f"must be 1 to {MAX_ID_LENGTH} characters")
    violations.check_id("store_id", store_id)
    if kind is None:
        violations.add("kind", "must be one of " + ", ".join(StoreNotificationKind))
    violations.check_text("reference_id", reference_id, max_length=MAX_ID_LENGTH)
    violations.raise_if_any()
    assert kind is not None
    subject, template = STORE_TEMPLATES[kind]
    return StoreNotification(
        notification_id=notification_id,
        store_id=store_id,
        kind=kind,
        subject=subject,
        body=template.format_map(_Blank(details))[:MAX_BODY_LENGTH],
        reference_id=reference_id,
    )
