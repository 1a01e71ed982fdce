"""One fulfillment of a split shipment: a child workflow of ShipFromStoreWorkflow.

Started by the parent (id `order-<id>-f<n>`, shipment_workflow_id) for each
location a split order ships from, at placement and when a reroute or an
address change moves a split order's lines later (workflows/order/children.py).
It owns that location's stock:

hold (or confirm the hold the orders service took) -> tell the parent
  (shipment_held: the reservation, or the refusal) -> wait for the parent's
  settle_shipment -> commit what shipped (the rest of the hold goes back) or
  release it all -> ShipmentResult

The money stays with the parent (one authorization per tender for the order):
it captures each shipment's share when it ships and tells the child to commit.
Parent-close policy REQUEST_CANCEL (docs/architecture.md): a parent that is
terminated or times out cancels its children, and a child cancelled before it
was settled releases its hold, so no stock stays held for an order that is
gone. Every stock step carries the same reservation id the parent would use
(`order-<id>/F<n>/reserve/<location>`), so a retried step is a repeat.
"""

from __future__ import annotations

import asyncio

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.order.policies import (
    PERSISTENT_RETRY,
    PLACEMENT_RETRY,
    refusal,
    refused_for_good,
    run_activity,
)
from workflows.order.saga import until_done

with workflow.unsafe.imports_passed_through():
    from omni.words import ReservationStatus
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import (
        CommitReservationInput,
        ConfirmReservationInput,
        ReleaseReservationInput,
        ReservationInfo,
        ReserveStockInput,
        SkuQty,
    )
    from workflows.contracts.journeys import (
        SETTLE_SHIPMENT_SIGNAL,
        SHIPMENT_HELD_SIGNAL,
        SHIPMENT_WORKFLOW,
        SettleShipmentInput,
        ShipmentHeld,
        ShipmentInput,
        ShipmentResult,
        order_workflow_id,
    )
    from workflows.order.state import fulfillment_step

COMMITTED = "committed"
RELEASED = "released"
REFUSED = "refused"


def shipment_reservation_id(order_id: str, number: int, location_id: str) -> str:
    """The hold's id: the one the parent's own hold of fulfillment `number` has."""
    step = fulfillment_step(number, f"reserve/{location_id}")
    return f"{order_workflow_id(order_id)}/{step}"


@workflow.defn(name=SHIPMENT_WORKFLOW)
class ShipmentWorkflow:
    @workflow.init
    def __init__(self, shipment: ShipmentInput) -> None:
        self.shipment = shipment
        self.settle: SettleShipmentInput | None = None

    @workflow.signal(name=SETTLE_SHIPMENT_SIGNAL)
    def settle_shipment(self, request: SettleShipmentInput) -> None:
        """The first word counts: a repeated settle changes nothing."""
        if self.settle is None:
            self.settle = request

    @workflow.run
    async def run(self, shipment: ShipmentInput) -> ShipmentResult:
        held = await self._hold()
        await self._tell_parent(held)
        if held.reason:
            return ShipmentResult(shipment.number, REFUSED)
        try:
            await workflow.wait_condition(lambda: self.settle is not None)
        except asyncio.CancelledError:
            # The parent is gone (REQUEST_CANCEL): nothing will ship from here.
            # Activities started after the cancel still run.
            await self._release(held.reservation_id)
            raise
        assert self.settle is not None
        if self.settle.release or not self.settle.commit:
            await self._release(held.reservation_id)
            return ShipmentResult(shipment.number, RELEASED, held.reservation_id)
        committing = CommitReservationInput(
            reservation_id=held.reservation_id, lines=list(self.settle.commit)
        )
        await until_done(
            f"commit {shipment.order_id}-F{shipment.number}",
            lambda: run_activity(InventoryActivities.commit_reservation, committing),
        )
        return ShipmentResult(shipment.number, COMMITTED, held.reservation_id)

    async def _hold(self) -> ShipmentHeld:
        """Takes (or confirms) this location's hold; the refusal when it cannot."""
        shipment = self.shipment
        reservation_id = shipment_reservation_id(
            shipment.order_id, shipment.number, shipment.location_id
        )
        if shipment.reservation_id:
            confirmed: ReservationInfo = await until_done(
                f"confirm {shipment.reservation_id}",
                lambda: run_activity(
                    InventoryActivities.confirm_reservation,
                    ConfirmReservationInput(reservation_id=shipment.reservation_id),
                ),
            )
            if confirmed.status == ReservationStatus.ACTIVE:
                return ShipmentHeld(shipment.number, shipment.reservation_id)
            # The orders service's hold ran out first: take it again.
        try:
            await run_activity(
                InventoryActivities.reserve_stock,
                ReserveStockInput(
                    reservation_id=reservation_id,
                    order_id=shipment.order_id,
                    location_id=shipment.location_id,
                    lines=[SkuQty(line.sku, line.quantity) for line in shipment.lines],
                    channel=shipment.channel,
                ),
                retry=PERSISTENT_RETRY if shipment.persistent else PLACEMENT_RETRY,
            )
        except ActivityError as error:
            reason, message, _ = refusal(error)
            if not refused_for_good(error):
                # The answer was lost: a hold may exist; give it back.
                await self._release(reservation_id)
            return ShipmentHeld(shipment.number, reason=reason, message=message)
        return ShipmentHeld(shipment.number, reservation_id)

    async def _release(self, reservation_id: str) -> None:
        releasing = ReleaseReservationInput(reservation_id=reservation_id)
        await until_done(
            f"release {reservation_id}",
            lambda: run_activity(InventoryActivities.release_reservation, releasing),
        )

    async def _tell_parent(self, held: ShipmentHeld) -> None:
        parent = workflow.info().parent
        if parent is None:
            return
        await workflow.get_external_workflow_handle(parent.workflow_id).signal(
            SHIPMENT_HELD_SIGNAL, held
        )
