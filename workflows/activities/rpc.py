"""How an activity reports a failed gRPC call to Temporal.

Transient failures stay retryable; a business refusal (FAILED_PRECONDITION
with an ErrorInfo reason), bad input or a missing thing becomes a
non-retryable ApplicationError whose type is the reason, with the reason's
metadata as its one detail, so the workflow can decide and explain.

And who an activity's calls say is calling: `workflow_caller`, the workflow
identity the worker's channels sign on every RPC.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

import grpc
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.grpc_errors import describe_rpc_error
from services.common.identity import CallerIdentity, workflow_identity

T = TypeVar("T")

# Worth another attempt: the call may not have happened, or may succeed later.
RETRYABLE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)

# Deadline for one RPC; the activity's start_to_close_timeout is longer.
RPC_TIMEOUT_SECONDS = 20.0


def to_application_error(error: grpc.aio.AioRpcError) -> ApplicationError:
    info = describe_rpc_error(error)
    if info.code in RETRYABLE_CODES:
        return ApplicationError(info.message or info.code.name, type=info.code.name)
    details: dict[str, str] = dict(info.metadata)
    for violation in info.violations:
        details[f"field:{violation.field}"] = violation.message
    return ApplicationError(
        info.message or info.code.name,
        details,
        type=info.reason or info.code.name,
        non_retryable=True,
    )


async def call(rpc: Awaitable[T]) -> T:
    try:
        return await rpc
    except grpc.aio.AioRpcError as error:
        raise to_application_error(error) from None


def workflow_caller(_method: str) -> CallerIdentity:
    """Who the worker's channels say is calling: the workflow whose activity
    runs now (services/common/identity.py signs it on every RPC)."""
    return workflow_identity(activity.info().workflow_id or "" if activity.in_activity() else "")
