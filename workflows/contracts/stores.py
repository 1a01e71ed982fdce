"""What the journeys tell a store (the store outbox, issue 11)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StoreNotificationInput:
    """One message to a store's associates; sent once per notification_id."""

    notification_id: str
    store_id: str
    # A StoreNotificationKind word ("pick_overdue").
    kind: str
    reference_id: str
    details: dict[str, str] = field(default_factory=dict)
