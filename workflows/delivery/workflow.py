"""Delivery: one shipment followed until its carrier says it was delivered.

Started by the ship-from-store journey when a fulfillment ships (a child
workflow `delivery-<fulfillment_id>`, parent-close policy ABANDON: the order
journey ends when its last shipment leaves, as before; the parcel is still on
its way). It asks the carrier (carrier.track_parcel) when the carrier says to
ask again, or hears it at once from the carrier's own report (the
parcel_delivered signal), whichever comes first; then, once:

- the order gets a `delivered` event naming the fulfillment, its carrier and
  tracking number (orders.record_order_progress, status unchanged);
- the customer's timeline gets an order_delivered milestone listing what was
  delivered; the customers service sends the `delivered` message from it.

Both are keyed by ids the order journey derived, so a report heard twice, a
retried activity or a second start records nothing twice. A parcel the
carrier has not delivered within TRACK_FOR is given up on (logged, nothing
recorded). Deterministic workflow code: the waits are durable timers.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.order.policies import refusal, run_activity
from workflows.order.saga import until_done

with workflow.unsafe.imports_passed_through():
    from omni.words import TimelineEventKind
    from workflows.activities.carrier import CarrierActivities
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.orders import OrderActivities
    from workflows.contracts.activities import OrderProgress, TimelineEventInput
    from workflows.contracts.delivery import (
        DELIVERED,
        DELIVERY_WORKFLOW,
        NOT_DELIVERED,
        PARCEL_DELIVERED_SIGNAL,
        DeliveryInput,
        DeliveryResult,
        ParcelDelivered,
        ParcelReport,
        TrackParcelInput,
    )

# How long a parcel is followed before the journey gives up on it.
TRACK_FOR = timedelta(days=30)
# When the carrier gives no hint (or cannot be asked): ask again after this.
ASK_AGAIN = timedelta(hours=1)
MIN_WAIT = timedelta(seconds=1)


@workflow.defn(name=DELIVERY_WORKFLOW)
class DeliveryWorkflow:
    @workflow.init
    def __init__(self, delivery: DeliveryInput) -> None:
        self.delivery = delivery
        self.reported: ParcelDelivered | None = None

    @workflow.signal(name=PARCEL_DELIVERED_SIGNAL)
    def parcel_delivered(self, report: ParcelDelivered) -> None:
        """The carrier's own report; the first one counts."""
        if self.reported is None:
            self.reported = report

    @workflow.run
    async def run(self, delivery: DeliveryInput) -> DeliveryResult:
        shipped_at = delivery.shipped_at or workflow.info().start_time
        track_for = (
            timedelta(seconds=delivery.track_for_seconds)
            if delivery.track_for_seconds > 0
            else TRACK_FOR
        )
        give_up_at = shipped_at + track_for
        while self.reported is None:
            wait = ASK_AGAIN
            try:
                report: ParcelReport = await run_activity(
                    CarrierActivities.track_parcel,
                    TrackParcelInput(delivery.carrier, delivery.tracking_number, shipped_at),
                )
            except ActivityError as error:
                workflow.logger.warning("carrier not asked: %s", refusal(error)[0])
            else:
                if report.delivered:
                    self.parcel_delivered(ParcelDelivered(report.delivered_at))
                    break
                if report.check_again_seconds > 0:
                    wait = timedelta(seconds=report.check_again_seconds)
            left = give_up_at - workflow.now()
            if left <= timedelta(0):
                workflow.logger.warning(
                    "%s not delivered within %s; no longer followed",
                    delivery.fulfillment_id,
                    track_for,
                )
                return DeliveryResult(delivery.fulfillment_id, NOT_DELIVERED)
            try:
                await workflow.wait_condition(
                    lambda: self.reported is not None, timeout=max(min(wait, left), MIN_WAIT)
                )
            except TimeoutError:
                pass
        assert self.reported is not None
        delivered_at = self.reported.delivered_at or workflow.now()
        await self._record(delivery)
        return DeliveryResult(delivery.fulfillment_id, DELIVERED, delivered_at)

    async def _record(self, delivery: DeliveryInput) -> None:
        what = (
            f"{delivery.fulfillment_id} delivered by {delivery.carrier} {delivery.tracking_number}"
        )
        progress = OrderProgress(
            event_id=delivery.event_id,
            order_id=delivery.order_id,
            status="",
            event_type=DELIVERED,
            event_detail=what,
        )
        await until_done(
            f"record {delivery.event_id}",
            lambda: run_activity(OrderActivities.record_order_progress, progress),
        )
        milestone = TimelineEventInput(
            event_id=delivery.timeline_event_id,
            customer_id=delivery.customer_id,
            kind=TimelineEventKind.ORDER_DELIVERED,
            reference_id=delivery.order_id,
            order_id=delivery.order_id,
            channel=delivery.channel,
            summary="delivered",
            currency=delivery.currency,
            details={
                "fulfillment_id": delivery.fulfillment_id,
                "carrier": delivery.carrier,
                "tracking_number": delivery.tracking_number,
                "lines": delivery.lines_text,
            },
        )

        async def milestone_once() -> None:
            try:
                await run_activity(CustomerActivities.record_timeline_event, milestone)
            except ActivityError as error:
                reason = refusal(error)[0]
                # A customer the customers service does not know: nothing to tell.
                if reason in ("NOT_FOUND", "INVALID_ARGUMENT"):
                    workflow.logger.warning("delivered milestone skipped: %s", reason)
                    return
                raise

        await until_done(f"timeline {delivery.timeline_event_id}", milestone_once)
