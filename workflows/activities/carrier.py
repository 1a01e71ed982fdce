"""Carrier activities: the delivery journey asks the carrier where a parcel is."""

from __future__ import annotations

from datetime import UTC, datetime

from temporalio import activity

from services.common.carrier import Carrier
from workflows.contracts.delivery import ParcelReport, TrackParcelInput


class CarrierActivities:
    def __init__(self, carrier: Carrier) -> None:
        self._carrier = carrier

    @activity.defn(name="carrier.track_parcel")
    async def track_parcel(self, request: TrackParcelInput) -> ParcelReport:
        status = self._carrier.parcel_status(
            request.carrier, request.tracking_number, request.shipped_at, datetime.now(UTC)
        )
        return ParcelReport(
            delivered=status.delivered_at is not None,
            delivered_at=status.delivered_at,
            check_again_seconds=status.check_again_seconds,
        )
