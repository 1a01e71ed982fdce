"""The carrier port: what Omni asks of a parcel carrier, and the development
carrier that stands in for one (as services/payments/adapters/dev_provider.py
stands in for a payment provider).

Two questions: a prepaid label for a mail return (the orders service asks it
when a mail return is made, API.md "A mail return's answer carries label"),
and where a shipment is (the delivery journey, workflows/delivery, asks it
until the carrier says delivered). Both are idempotent by what they are asked
about: the same return gets the same label, the same parcel the same answer.

The development carrier keeps no books: a label's reference is derived from
the return id, and a parcel is delivered `delivery_seconds` after it shipped
(CARRIER_DELIVERY_SECONDS; a day by default, a few seconds in tests). A
tracking number starting with "LOST" is never delivered.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

DEV_CARRIER = "omni-dev-carrier"
DEFAULT_DELIVERY_SECONDS = 86_400.0
# How often a parcel not yet delivered is asked about again, at most.
MAX_CHECK_SECONDS = 6 * 3600.0


@dataclass(frozen=True)
class Label:
    carrier: str
    reference: str


@dataclass(frozen=True)
class ParcelStatus:
    """None delivered_at: still on its way; ask again after check_again_seconds."""

    delivered_at: datetime | None
    check_again_seconds: float


class Carrier(Protocol):
    def return_label(self, return_id: str) -> Label: ...

    def parcel_status(
        self, carrier: str, tracking_number: str, shipped_at: datetime, now: datetime
    ) -> ParcelStatus: ...


@dataclass(frozen=True)
class DevCarrier:
    """The development carrier (no I/O, deterministic)."""

    delivery_seconds: float = DEFAULT_DELIVERY_SECONDS

    def return_label(self, return_id: str) -> Label:
        digest = hashlib.sha256(f"return-label/{return_id}".encode()).hexdigest()[:12]
        return Label(carrier=DEV_CARRIER, reference=f"DEVRET-{digest.upper()}")

    def parcel_status(
        self, carrier: str, tracking_number: str, shipped_at: datetime, now: datetime
    ) -> ParcelStatus:
        if tracking_number.upper().startswith("LOST"):
            return ParcelStatus(None, MAX_CHECK_SECONDS)
        due = shipped_at + timedelta(seconds=max(self.delivery_seconds, 0.0))
        if now >= due:
            return ParcelStatus(due, 0.0)
        left = (due - now).total_seconds()
        return ParcelStatus(None, min(max(left, 0.001), MAX_CHECK_SECONDS))


def carrier_from_settings(name: str, delivery_seconds: float) -> Carrier:
    """CARRIER=dev (the only one so far) with its delivery delay."""
    if name != "dev":
        raise ValueError(f"CARRIER must be dev (the development carrier): {name!r}")
    return DevCarrier(delivery_seconds=delivery_seconds)
