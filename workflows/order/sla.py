"""Store clocks that act on their own (BOPIS): the pick SLA and the curbside
hand-off SLA, each read from the fulfillment's own location.

- A fulfillment still `pending` at `pick_sla_minutes` is overdue: the task
  shows `overdue: true` and a `pick_overdue` event is recorded on the order
  (what the store's task list reads). At twice the SLA it is rerouted exactly
  as if the store had rejected it (reroute.reject_fulfillment), to at most
  MAX_LOCATIONS_TRIED locations in all; after that its lines are cancelled and
  their share is never captured (voided with the authorization, or released
  by the final capture).
- A ready pickup whose customer said they arrived (the customer_arrived
  signal) and is not handed over within `curbside_sla_minutes` is overdue: a
  `curbside_overdue` event is recorded and the customer is told it is coming.

Durations are fractional minutes (a test may use a few seconds). Deterministic
workflow code: the clocks are durable timers (wait_condition timeouts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.order.policies import BEST_EFFORT_RETRY, refusal, run_activity
from workflows.order.reroute import reject_fulfillment
from workflows.order.steps import OrderJourney

with workflow.unsafe.imports_passed_through():
    from omni.words import FulfillmentStatus, NotificationKind, StoreNotificationKind
    from workflows.activities.customers import CustomerActivities
    from workflows.activities.inventory import InventoryActivities
    from workflows.contracts.activities import GetLocationInput, LocationInfo, NotificationInput
    from workflows.contracts.journeys import RejectInput
    from workflows.contracts.messages import lines_text
    from workflows.contracts.stores import StoreNotificationInput
    from workflows.order.state import Fulfillment

# Runs started before the store clocks replay with the 48-hour pick deadline.
STORE_SLAS_PATCH = "store-slas"
# Runs whose pick went overdue before the store outbox existed told no store.
PICK_OVERDUE_STORE_NOTIFICATION_PATCH = "pick-overdue-store-notification"
# The loop notes the fulfillments' shape before it awaits a store's clocks: a
# pick landing during that await used to go unseen, so the stale pick-SLA timer
# ran on and a shipment's deadline started late (by up to the pick SLA).
SHAPE_BEFORE_CLOCKS_PATCH = "store-clocks-shape-before-await"
# API.md defaults when the location says 0.
DEFAULT_PICK_SLA = timedelta(minutes=120)
DEFAULT_CURBSIDE_SLA = timedelta(minutes=10)
# Who the order's events name for what the clocks did.
SLA_ACTOR = "pick SLA"


@dataclass(frozen=True)
class StoreClocks:
    pick_sla: timedelta
    curbside_sla: timedelta


def clocks_of(location: LocationInfo | None) -> StoreClocks:
    """The location's clocks; the defaults for 0, a negative or an unknown location."""
    pick = location.pick_sla_minutes if location is not None else 0.0
    curbside = location.curbside_sla_minutes if location is not None else 0.0
    return StoreClocks(
        pick_sla=timedelta(minutes=pick) if pick > 0 else DEFAULT_PICK_SLA,
        curbside_sla=timedelta(minutes=curbside) if curbside > 0 else DEFAULT_CURBSIDE_SLA,
    )


def minutes(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 60:g}"


@dataclass
class StoreWatch:
    """What the clocks know: when each fulfillment started waiting for its
    pick, when its customer arrived, and which clocks already ran out."""

    # fulfillment id -> when the customer said they arrived (first time).
    arrivals: dict[str, datetime] = field(default_factory=dict)
    pending_since: dict[str, datetime] = field(default_factory=dict)
    # Ship-from-store: when each fulfillment was first seen picked, and the
    # deadline to ship it that the watch runs with.
    picking_since: dict[str, datetime] = field(default_factory=dict)
    ship_deadline: timedelta | None = None
    clocks: dict[str, StoreClocks] = field(default_factory=dict)
    curbside_told: set[str] = field(default_factory=set)

    def ship_deadline_of(self, fulfillment_id: str) -> timedelta:
        return self.ship_deadline or timedelta(0)

    def arrived(self, fulfillment_id: str) -> None:
        """The signal's handler: the first arrival starts the hand-off clock."""
        self.arrivals.setdefault(fulfillment_id, workflow.now())

    async def clocks_at(self, location_id: str) -> StoreClocks:
        """The location's clocks, looked up once per location."""
        if location_id not in self.clocks:
            try:
                location: LocationInfo | None = await run_activity(
                    InventoryActivities.get_location, GetLocationInput(location_id=location_id)
                )
            except ActivityError as error:
                workflow.logger.warning("store clocks of %s: %s", location_id, refusal(error)[0])
                location = None
            self.clocks[location_id] = clocks_of(location)
        return self.clocks[location_id]


async def watch_store_work(
    journey: OrderJourney,
    watch: StoreWatch,
    done: Callable[[], bool],
    ship_deadline: timedelta | None = None,
) -> None:
    """Until `done()` or the order ends: runs the store clocks, and finishes
    what handlers deferred (as wait_with_deadlines did). With `ship_deadline`
    (ship-from-store), a shipment picked and not shipped by then goes to the
    next location as a reject would (wait_with_deadlines' "not shipped")."""

    watch.ship_deadline = ship_deadline

    def shape() -> tuple[tuple[str, str, bool], ...]:
        return tuple(
            (f.fulfillment_id, f.status or "", f.fulfillment_id in watch.arrivals)
            for f in journey.fulfillments
        )

    while not (done() or journey.finished):
        if journey.has_leftovers:
            await journey.finish_leftovers()
            continue
        seen = shape()
        due: list[tuple[datetime, str, Fulfillment]] = []
        for fulfillment in journey.open_fulfillments():
            fid = fulfillment.fulfillment_id
            if fulfillment.status == FulfillmentStatus.PENDING:
                # The first fulfillment has waited since the order was placed
                # (the run's start); a rerouted one since this loop first saw it.
                first = fulfillment.number == 1
                started = watch.pending_since.setdefault(
                    fid, workflow.info().start_time if first else workflow.now()
                )
                sla = (await watch.clocks_at(fulfillment.location_id)).pick_sla
                if not fulfillment.overdue:
                    due.append((started + sla, "pick_overdue", fulfillment))
                due.append((started + 2 * sla, "pick_late", fulfillment))
            elif fulfillment.status == FulfillmentStatus.PICKING and ship_deadline is not None:
                picked_at = watch.picking_since.setdefault(fid, workflow.now())
                due.append((picked_at + ship_deadline, "ship_late", fulfillment))
            elif (
                fulfillment.status == FulfillmentStatus.READY_FOR_PICKUP
                and fid in watch.arrivals
                and fid not in watch.curbside_told
            ):
                sla = (await watch.clocks_at(fulfillment.location_id)).curbside_sla
                due.append((watch.arrivals[fid] + sla, "curbside_overdue", fulfillment))
        now = workflow.now()
        late = [(what, f) for at, what, f in sorted(due, key=lambda d: d[0]) if at <= now]
        if late:
            async with journey.lock:
                for what, fulfillment in late:
                    if done() or journey.finished or not fulfillment.is_open:
                        continue
                    await _ran_out(journey, watch, what, fulfillment)
            continue
        before = seen if workflow.patched(SHAPE_BEFORE_CLOCKS_PATCH) else shape()
        timeout = min((at for at, _, _ in due), default=None)
        try:
            await workflow.wait_condition(
                lambda before=before: (  # type: ignore[misc]
                    done() or journey.finished or journey.has_leftovers or shape() != before
                ),
                timeout=None if timeout is None else timeout - now,
            )
        except TimeoutError:
            pass


async def _ran_out(
    journey: OrderJourney, watch: StoreWatch, what: str, fulfillment: Fulfillment
) -> None:
    """One clock ran out (under the journey's lock, its state checked again)."""
    fid = fulfillment.fulfillment_id
    clocks = watch.clocks[fulfillment.location_id]
    if what == "pick_overdue" and fulfillment.status == FulfillmentStatus.PENDING:
        fulfillment.overdue = True
        await journey.record(
            fulfillment.step("pick_overdue"),
            "pick_overdue",
            f"{fid} not picked at {fulfillment.location_id} within the"
            f" {minutes(clocks.pick_sla)}-minute pick SLA",
            [fulfillment],
        )
        if workflow.patched(PICK_OVERDUE_STORE_NOTIFICATION_PATCH):
            await _tell_store(journey, fulfillment, clocks)
    elif what == "pick_late" and fulfillment.status == FulfillmentStatus.PENDING:
        await reject_fulfillment(
            journey,
            fulfillment,
            RejectInput(
                fid,
                reason=f"not picked within {minutes(2 * clocks.pick_sla)} minutes"
                f" (twice the {minutes(clocks.pick_sla)}-minute pick SLA)",
                actor=SLA_ACTOR,
            ),
        )
    elif what == "ship_late" and fulfillment.status == FulfillmentStatus.PICKING:
        hours = (watch.ship_deadline_of(fid)).total_seconds() / 3600
        await reject_fulfillment(
            journey,
            fulfillment,
            RejectInput(fid, reason=f"not shipped within {hours:g} hours", actor=SLA_ACTOR),
        )
    elif what == "curbside_overdue" and fulfillment.status == FulfillmentStatus.READY_FOR_PICKUP:
        watch.curbside_told.add(fid)
        fulfillment.overdue = True
        await journey.record(
            fulfillment.step("curbside_overdue"),
            "curbside_overdue",
            f"{fid}: the customer has waited at the curb for more than"
            f" {minutes(clocks.curbside_sla)} minutes",
            [fulfillment],
        )
        await _tell_coming(journey, fulfillment)


async def _tell_store(journey: OrderJourney, fulfillment: Fulfillment, clocks: StoreClocks) -> None:
    """The store is told its pick is overdue (the store outbox), once per
    overdue fulfillment: the clock runs out once (the fulfillment is marked
    overdue under the lock) and the message's id is the journey's own. A
    message that cannot be sent changes nothing else."""
    try:
        await run_activity(
            CustomerActivities.send_store_notification,
            StoreNotificationInput(
                notification_id=journey.key(f"store_notify/{fulfillment.step('pick_overdue')}"),
                store_id=fulfillment.location_id,
                kind=StoreNotificationKind.PICK_OVERDUE,
                reference_id=journey.order.order_id,
                details={
                    "order_id": journey.order.order_id,
                    "fulfillment_id": fulfillment.fulfillment_id,
                    "sla_minutes": minutes(clocks.pick_sla),
                    "lines": lines_text((line.sku, line.quantity) for line in fulfillment.lines),
                },
            ),
            retry=BEST_EFFORT_RETRY,
        )
    except ActivityError as error:
        workflow.logger.warning("store not told of its overdue pick: %s", refusal(error)[0])


async def _tell_coming(journey: OrderJourney, fulfillment: Fulfillment) -> None:
    """The curbside customer is told their order is coming (once; a message
    that cannot be sent changes nothing else)."""
    try:
        await run_activity(
            CustomerActivities.send_notification,
            NotificationInput(
                customer_id=journey.order.customer_id,
                notification_id=journey.key(f"notify/{fulfillment.step('curbside_coming')}"),
                kind=NotificationKind.CURBSIDE_COMING,
                reference_id=journey.order.order_id,
                details={
                    "order_id": journey.order.order_id,
                    "fulfillment_id": fulfillment.fulfillment_id,
                    "location_id": fulfillment.location_id,
                },
            ),
            retry=BEST_EFFORT_RETRY,
        )
    except ActivityError as error:
        workflow.logger.warning("curbside customer not told: %s", refusal(error)[0])
