"""Idempotency keys for payments: a repeat returns the first result, refusals included.

Like services.common.idempotency.run_once, the key row is inserted in the same
transaction as the work, so a concurrent repeat waits on it. Payments go
further: when the work is refused (a decline, an insufficient balance, a
state that does not allow it), the work's changes are rolled back to a
savepoint and the refusal is stored under the key, so a repeat answers the
same refusal without asking the provider again. Transient failures
(Unavailable, anything unexpected) roll the key back too, so a retry with the
same key tries again. A key reused with other parameters is refused with
FAILED_PRECONDITION IDEMPOTENCY_KEY_REUSED. Keys are never purged here, which
keeps them well past the 24 hours promised.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.db import Database
from services.common.errors import BusinessRuleViolation, Conflict, DomainError
from services.common.idempotency import request_fingerprint, validate_key
from services.payments import store

ResponseT = TypeVar("ResponseT", bound=Message)

KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
Refusal = BusinessRuleViolation | Conflict


class RefusedAfterChanges(Exception):
    """Raised by work that must keep what it changed and still refuse
    (an authorization marked expired because it could not be renewed)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def _key_reused() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        KEY_REUSED, "idempotency key was already used with different parameters"
    )


def _failure_record(refusal: Refusal) -> dict[str, Any]:
    kind = "conflict" if isinstance(refusal, Conflict) else "business"
    return {
        "kind": kind,
        "reason": refusal.reason,
        "message": refusal.message,
        "metadata": refusal.metadata,
    }


def _refusal_from_record(record: dict[str, Any]) -> DomainError:
    error_type = Conflict if record["kind"] == "conflict" else BusinessRuleViolation
    return error_type(record["reason"], record["message"], dict(record["metadata"]))


async def run_once(
    database: Database,
    key: str,
    request: Message,
    response_type: type[ResponseT],
    work: Callable[[AsyncSession], Awaitable[ResponseT]],
) -> ResponseT:
    """Runs `work` in one transaction the first time `key` is seen; afterwards
    returns its response or raises its refusal again."""
    validate_key(key)
    fingerprint = request_fingerprint(request)
    refusal: Refusal | None = None
    async with database.transaction() as session:
        earlier = await store.claim_key(session, key, fingerprint)
        if earlier is not None:
            if earlier.request_hash != fingerprint:
                raise _key_reused()
            if earlier.failure is not None:
                raise _refusal_from_record(earlier.failure)
            return response_type.FromString(earlier.response)
        savepoint = await session.begin_nested()
        try:
            response = await work(session)
        except RefusedAfterChanges as kept:
            await savepoint.commit()
            refusal = kept.refusal
        except (BusinessRuleViolation, Conflict) as refused:
            await savepoint.rollback()
            refusal = refused
        else:
            await savepoint.commit()
            await store.settle_key(session, key, response=response.SerializeToString())
            return response
        await store.settle_key(session, key, failure=_failure_record(refusal))
    # Committed: the key now answers this refusal to every repeat.
    raise refusal
