"""customers.v1 messages → the JSON API.md shows (cart, timeline, messages, points, export)."""

from __future__ import annotations

from typing import Any

from omni.words import (
    Channel,
    ContactChannel,
    LoyaltyReason,
    NotificationKind,
    NotificationStatus,
    TimelineEventKind,
)
from services.gateway import mapping
from services.gateway.mapping import timestamp, word


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency}


def cart(value: Any) -> dict[str, Any]:
    return {
        "customer_id": value.customer_id,
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in value.lines],
        "channel": word(Channel, value.channel),
        "version": value.version,
        "updated_at": timestamp(value.updated_at),
    }


def etag(version: int) -> str:
    return f'"{version}"'


def event(value: Any) -> dict[str, Any]:
    return {
        "event_id": value.event_id,
        "kind": word(TimelineEventKind, value.kind),
        "reference_id": value.reference_id,
        "order_id": value.order_id or None,
        "channel": word(Channel, value.channel),
        "summary": value.summary,
        "amount": money(value.amount_minor, value.currency) if value.currency else None,
        "at": timestamp(value.at),
    }


def notification(value: Any) -> dict[str, Any]:
    return {
        "notification_id": value.notification_id,
        "kind": word(NotificationKind, value.kind),
        "channel": word(ContactChannel, value.channel) or None,
        "subject": value.subject,
        "body": value.body,
        "status": word(NotificationStatus, value.status),
        "marketing": value.marketing,
        "reference_id": value.reference_id or None,
        "created_at": timestamp(value.created_at),
    }


def loyalty_entry(value: Any) -> dict[str, Any]:
    return {
        "entry_id": value.entry_id,
        "reason": word(LoyaltyReason, value.reason),
        "reference_id": value.reference_id,
        "points": value.points,
        "balance_after": value.balance_after,
        "debt_after": value.debt_after,
        "at": timestamp(value.at),
    }


def customer(value: Any) -> dict[str, Any]:
    """The profile with what only the customers service knows beyond API.md's fields."""
    return {
        **mapping.customer(value),
        "loyalty_card": value.loyalty_card or None,
        "loyalty_debt": value.loyalty_debt,
        "erased": value.erased,
        "preferences": {
            "channels": [word(ContactChannel, c) for c in value.preferences.channels],
            "marketing_consent": [
                word(ContactChannel, c) for c in value.preferences.marketing_consent
            ],
        },
    }


def export(value: Any) -> dict[str, Any]:
    return {
        "customer": customer(value.customer),
        "aliases": list(value.aliases),
        "orders": [mapping.activity(a) for a in value.activities],
        "timeline": [event(e) for e in value.timeline],
        "cart": cart(value.cart),
        "loyalty_history": [loyalty_entry(e) for e in value.loyalty_history],
        "notifications": [notification(n) for n in value.notifications],
        "merges": [
            {
                "merge_id": m.merge_id,
                "survivor_customer_id": m.survivor_customer_id,
                "duplicate_customer_id": m.duplicate_customer_id,
                "actor": m.actor,
                "at": timestamp(m.at),
            }
            for m in value.merges
        ],
    }
