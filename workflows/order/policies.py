"""How the journeys call their activities: one timeout, three retry policies,
and how a failure that no retry will change is read back.

Every activity call of the order, return and cart workflows goes through
`run_activity`; a step chooses the policy by what waits on it (a caller at
placement, nobody after it, nothing at all for a convenience).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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
    "PAYMENT_DECLINED",
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "FAILED_PRECONDITION",
    "ABORTED",
]

# Placement answers a waiting caller: give up after a few minutes of outage
# and reject the order rather than hang.
PLACEMENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=10,
    non_retryable_error_types=BUSINESS_ERRORS,
)

# Everything after placement (records, captures, compensations) must happen
# eventually: retry until the service is back.
PERSISTENT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=0,
    non_retryable_error_types=BUSINESS_ERRORS,
)

# Steps the order does not depend on (the cart's checkout, a reminder): a few
# minutes of tries, then the journey goes on without them.
BEST_EFFORT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    maximum_attempts=8,
    non_retryable_error_types=BUSINESS_ERRORS,
)


async def run_activity(
    activity: Any, argument: Any, *, retry: RetryPolicy = PERSISTENT_RETRY
) -> Any:
    return await workflow.execute_activity_method(
        activity,
        argument,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=retry,
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
        schedule_to_close_timeout=timedelta(minutes=2),
        retry_policy=retry,
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
