"""What a failed inventory or payments call means to a placement the orders
service takes itself: the same split the journey's activities make
(workflows/activities/rpc.py), so the caller gets the same answer either way."""

from __future__ import annotations

import grpc

from services.common.errors import BusinessRuleViolation, Unavailable
from services.common.grpc_errors import describe_rpc_error

# The call may or may not have happened (or may succeed later): unknown outcome.
AMBIGUOUS_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.CANCELLED,
    }
)


def refusal_of(service: str, error: grpc.aio.AioRpcError) -> Unavailable | BusinessRuleViolation:
    """Unavailable when the outcome is unknown; else the service's refusal
    (its ErrorInfo reason, or the status code's name) with its particulars."""
    info = describe_rpc_error(error)
    if info.code in AMBIGUOUS_CODES:
        return Unavailable(f"{service}: {info.message or info.code.name}")
    details: dict[str, str] = dict(info.metadata)
    for violation in info.violations:
        details[f"field:{violation.field}"] = violation.message
    return BusinessRuleViolation(info.reason or info.code.name, info.message, details)
