"""How the journeys call their activities: a timeout and a retry policy for
each activity, and how a failure that no retry will change is read back.

Every activity call of the order, return and cart workflows goes through
`run_activity`, which takes the activity's own entry in ACTIVITY_POLICIES:
- `start_to_close`: one attempt (an RPC deadline is 20 s; the slow test token 3 s);
- `schedule_to_close`: every attempt together, so no call waits without a limit;
- `heartbeat`: none of today's activities runs long (one RPC each); an entry
  that does sets it and the activity heartbeats;
- its retry policy: UNAVAILABLE, DEADLINE_EXCEEDED (and the other transient
  codes: RESOURCE_EXHAUSTED, CANCELLED, a timeout) are retried; a business
  refusal and INVALID_ARGUMENT, NOT_FOUND, INTERNAL, UNKNOWN are not, and the
  caller handles them (NON_RETRYABLE).
A step narrows the limit by what waits on it: a caller at placement
(PLACEMENT_RETRY) or at a store action (ANSWER_RETRY) gets an answer within
ANSWER_WITHIN; nobody (PERSISTENT_RETRY: records, captures, compensations) gets
the activity's own schedule_to_close, and `saga.until_done` keeps trying after
that, raising NeedsAttention; a convenience (BEST_EFFORT_RETRY) a few tries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from temporalio import activity as temporal_activity
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.order.visibility import activity_summary

# Long enough for the payment provider's deliberately slow test token (3 s).
ACTIVITY_TIMEOUT = timedelta(seconds=30)

# Refusals that no retry can change; activities already mark them
# non-retryable, this list is the second lock on the door.
BUSINESS_ERRORS = [
    "INSUFFICIENT_STOCK",
    "STORE_AT_CAPACITY",
    "PAYMENT_DECLINED",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "FAILED_PRECONDITION",
    "ABORTED",
]
# A service's own fault or an unknown answer: another attempt repeats it;
# the caller handles it (and until_done tries again later, visibly).
NON_RETRYABLE = [*BUSINESS_ERRORS, "INTERNAL", "UNKNOWN", "UNIMPLEMENTED", "PERMISSION_DENIED"]

# A caller is waiting (placement, a store action): the answer comes within this.
ANSWER_WITHIN = timedelta(seconds=20)

# Placement answers a waiting caller: a few quick tries, then reject the
# order rather than hang.
PLACEMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=5),
    maximum_attempts=6,
    non_retryable_error_types=NON_RETRYABLE,
)

# A store action answers a waiting associate (the orders service gives up
# after 30 s): bounded like placement.
ANSWER_RETRY = PLACEMENT_RETRY

# Everything after placement (records, captures, compensations) must happen
# eventually: retried within the activity's schedule_to_close, then again by
# saga.until_done.
PERSISTENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=NON_RETRYABLE,
)

# Steps the order does not depend on (the cart's checkout, a reminder): a few
# minutes of tries, then the journey goes on without them.
BEST_EFFORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=NON_RETRYABLE,
)


@dataclass(frozen=True)
class ActivityPolicy:
    start_to_close: timedelta
    schedule_to_close: timedelta
    retry: RetryPolicy = field(default_factory=lambda: PERSISTENT_RETRY)
    heartbeat: timedelta | None = None


_RPC = ActivityPolicy(start_to_close=ACTIVITY_TIMEOUT, schedule_to_close=timedelta(minutes=10))
# Money moves: the provider may be slow (3 s test token); an hour of outage
# before saga.until_done takes over and raises NeedsAttention.
_MONEY = ActivityPolicy(start_to_close=ACTIVITY_TIMEOUT, schedule_to_close=timedelta(hours=1))
# Reads that only steer a decision (a fallback exists): short.
_LOOKUP = ActivityPolicy(
    start_to_close=timedelta(seconds=20),
    schedule_to_close=timedelta(minutes=2),
    retry=BEST_EFFORT_RETRY,
)

# One entry per activity the journeys call (by its registered name).
ACTIVITY_POLICIES: dict[str, ActivityPolicy] = {
    "inventory.reserve_stock": _RPC,
    "inventory.release_reservation": _RPC,
    "inventory.commit_reservation": _RPC,
    "inventory.confirm_reservation": _RPC,
    "inventory.find_sources": _LOOKUP,
    "inventory.get_location": _LOOKUP,
    "inventory.adjust_stock": _RPC,
    "payments.authorize": _MONEY,
    "payments.capture": _MONEY,
    "payments.void": _MONEY,
    "payments.reauthorize": _MONEY,
    "payments.refund": _MONEY,
    "payments.list_payments": _RPC,
    "orders.record_order_progress": _RPC,
    "orders.record_return_progress": _RPC,
    # Authorizes (a dearer replacement's difference) and starts a journey.
    "orders.place_exchange": _MONEY,
    "customers.record_activity": _RPC,
    "customers.record_timeline_event": _RPC,
    "customers.record_order_placed": _RPC,
    "customers.send_notification": _LOOKUP,
    "customers.checkout_cart": _LOOKUP,
}
_DEFAULT = _RPC


def activity_name(activity: Any) -> str:
    definition = temporal_activity._Definition.from_callable(activity)
    return definition.name if definition and definition.name else str(activity)


def policy_of(activity: Any) -> ActivityPolicy:
    return ACTIVITY_POLICIES.get(activity_name(activity), _DEFAULT)


async def run_activity(activity: Any, argument: Any, *, retry: RetryPolicy | None = None) -> Any:
    """Runs `activity` with its own policy; `retry` says what waits on it
    (PLACEMENT_RETRY: a caller, answered within ANSWER_WITHIN). Inside an
    update handler every call is bounded the same way."""
    policy = policy_of(activity)
    within = policy.schedule_to_close
    # An update handler answers a caller: it never waits longer than that.
    answering = retry is PLACEMENT_RETRY or workflow.current_update_info() is not None
    start_to_close = min(policy.start_to_close, within)
    if answering:
        within = min(within, ANSWER_WITHIN)
        retry = retry or ANSWER_RETRY
        # Half the budget per attempt: an attempt lost with its worker (SIGKILL)
        # leaves time for a retry instead of ending the answer as a refusal.
        start_to_close = min(policy.start_to_close, within / 2)
    return await workflow.execute_activity_method(
        activity,
        argument,
        start_to_close_timeout=start_to_close,
        schedule_to_close_timeout=within,
        heartbeat_timeout=policy.heartbeat,
        retry_policy=retry or policy.retry,
        # The line the UI shows for the call (ids only).
        summary=activity_summary(activity, argument),
    )


# Local activities (placement by the orders service): short, idempotent calls
# that run in the worker inside the workflow task, so they cost the Temporal
# server no task round trip. Retried locally, then by workflow task retries.
LOCAL_ACTIVITY_TIMEOUT = timedelta(seconds=10)


async def run_local_activity(
    activity: Any, argument: Any, *, retry: RetryPolicy = PERSISTENT_RETRY
) -> Any:
    return await workflow.execute_local_activity_method(
        activity,
        argument,
        start_to_close_timeout=LOCAL_ACTIVITY_TIMEOUT,
        schedule_to_close_timeout=ANSWER_WITHIN,
        retry_policy=retry,
        # The line the UI shows for the call (ids only; visibility.py).
        summary=activity_summary(activity, argument),
    )


def refusal(error: ActivityError) -> tuple[str, str, dict[str, str]]:
    """(reason, message, details) of an activity that failed for good."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        details: dict[str, str] = {}
        if cause.details and isinstance(cause.details[0], dict):
            details = {str(k): str(v) for k, v in cause.details[0].items()}
        return cause.type or "ACTIVITY_FAILED", cause.message, details
    return "UNAVAILABLE", str(cause or error), {}


def refused_for_good(error: ActivityError) -> bool:
    """The service said no (nothing happened), as opposed to an outage."""
    return isinstance(error.cause, ApplicationError) and error.cause.non_retryable
