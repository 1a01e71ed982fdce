"""Everything held about one customer: the answer to their right of access."""

from __future__ import annotations

from dataclasses import dataclass

from services.customers.domain.carts import Cart
from services.customers.domain.customers import Customer
from services.customers.domain.history import Activity, TimelineEvent
from services.customers.domain.loyalty import LoyaltyEntry
from services.customers.domain.merges import MergeRecord
from services.customers.domain.notifications import Notification


@dataclass(frozen=True)
class CustomerExport:
    customer: Customer
    activities: list[Activity]
    timeline: list[TimelineEvent]
    cart: Cart
    loyalty_history: list[LoyaltyEntry]
    notifications: list[Notification]
    merges: list[MergeRecord]
    # Earlier ids merged into this customer.
    aliases: list[str]
