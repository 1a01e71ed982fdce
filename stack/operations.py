"""Operator actions that have no REST route (API.md has none for them): run
with the `omni` command against a running stack (docs/runbook.md).

`retry_refund`: a return whose refund the provider refused is `refund_failed`
and is retried by its journey every 6 h; this sends the journey's
`retry_refund` update so it is retried now, and says how it ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from omni.words import ReturnStatus as ReturnStatusWord
from workflows.contracts.journeys import RETRY_REFUND_UPDATE, ReturnStatus, return_workflow_id

# Exit statuses of `omni retry-refund`.
REFUNDED = 0
STILL_REFUND_FAILED = 1
REFUSED = 2
UNAVAILABLE = 3


@dataclass(frozen=True)
class Outcome:
    exit_status: int
    message: str


async def retry_refund(client: Client, return_id: str) -> Outcome:
    """Retries the refund of `return_id` now; answers once the attempt ended."""
    handle = client.get_workflow_handle(return_workflow_id(return_id))
    try:
        after = await handle.execute_update(RETRY_REFUND_UPDATE, result_type=ReturnStatus)
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else str(cause)
        return Outcome(REFUSED, f"return {return_id}: not retried: {reason}")
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        return Outcome(UNAVAILABLE, f"return {return_id}: no answer in time; see its history")
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return Outcome(REFUSED, f"return {return_id}: no running journey (unknown or ended)")
        return Outcome(UNAVAILABLE, f"return {return_id}: temporal: {error.message}")
    if after.status == ReturnStatusWord.REFUNDED:
        return Outcome(
            REFUNDED, f"return {return_id}: refunded ({after.refunded_minor} minor units)"
        )
    return Outcome(
        STILL_REFUND_FAILED,
        f"return {return_id}: still {after.status}: the provider refused again"
        " (the journey keeps retrying; see its history for why)",
    )
