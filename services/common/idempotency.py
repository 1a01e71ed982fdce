"""The one idempotency helper: a repeated key returns the first result,
refusals included, in every service.

`run_once` owns the unit of work. It claims the key (a concurrent repeat
blocks on the key's unique index until the first commits, then reads what it
stored), runs the work under a savepoint, and stores either the response or,
when the work was refused (BusinessRuleViolation, Conflict), the refusal, so
a repeat answers the same refusal without doing the work again. Anything
else (Unavailable, a bug) rolls the key back with the work, so a retry with
the same key tries again. A key reused with other parameters is refused,
everywhere the same: FAILED_PRECONDITION `IDEMPOTENCY_KEY_REUSED`.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from google.protobuf.message import Message
from sqlalchemy import (
    Column,
    DateTime,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.common.errors import BusinessRuleViolation, Conflict, DomainError, InvalidArgument
from services.common.plain_session import SqlSession, Transactional

ResponseT = TypeVar("ResponseT", bound=Message)

MAX_KEY_LENGTH = 200
KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
Refusal = BusinessRuleViolation | Conflict


class RefusedAfterChanges(Exception):
    """Raised by work that must keep what it changed and still refuse
    (an authorization marked expired because it could not be renewed)."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.message)
        self.refusal = refusal


def idempotency_table(metadata: MetaData) -> Table:
    """The key table; each service adds it to its own metadata and migrations."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("response", LargeBinary, nullable=True),
        Column("failure", JSONB, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def request_fingerprint(request: Message) -> str:
    """Hash of the request without its key: same parameters, same hash."""
    copy = type(request)()
    copy.CopyFrom(request)
    if "idempotency_key" in copy.DESCRIPTOR.fields_by_name:
        copy.ClearField("idempotency_key")
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()


def validate_key(key: str) -> None:
    if not key:
        raise InvalidArgument.field("idempotency_key", "is required")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument.field("idempotency_key", f"is longer than {MAX_KEY_LENGTH}")


def key_reused() -> BusinessRuleViolation:
    return BusinessRuleViolation(
        KEY_REUSED, "idempotency key was already used with different parameters"
    )


def _failure_record(refusal: Refusal) -> dict[str, Any]:
    return {
        "kind": "conflict" if isinstance(refusal, Conflict) else "business",
        "reason": refusal.reason,
        "message": refusal.message,
        "metadata": refusal.metadata,
    }


def _refusal_from_record(record: dict[str, Any]) -> DomainError:
    error_type = Conflict if record["kind"] == "conflict" else BusinessRuleViolation
    return error_type(record["reason"], record["message"], dict(record["metadata"]))


@dataclass(frozen=True)
class _KeyStatements:
    """A key table's statements, built once with bound parameters: building one
    per call and walking it for its cache key cost as much as executing it."""

    claim: Any
    earlier: Any
    answer: Any
    refuse: Any


@functools.cache
def _statements(table: Table) -> _KeyStatements:
    by_key = table.c.key == bindparam("the_key")
    return _KeyStatements(
        claim=insert(table)
        .values(key=bindparam("the_key"), request_hash=bindparam("new_hash"))
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key),
        earlier=select(table.c.request_hash, table.c.response, table.c.failure).where(by_key),
        answer=table.update().where(by_key).values(response=bindparam("new_response")),
        refuse=table.update().where(by_key).values(failure=bindparam("new_failure")),
    )


async def run_once(
    database: Transactional,
    table: Table,
    key: str,
    request: Message,
    response_type: type[ResponseT],
    work: Callable[[Any], Awaitable[ResponseT]],
) -> ResponseT:
    """Runs `work` in one transaction the first time `key` is seen; afterwards
    returns its response or raises its refusal again. `database` is the
    service's Database (work gets an AsyncSession) or a PlainDatabase (work
    gets a PlainSession: services/common/plain_session.py)."""
    validate_key(key)
    fingerprint = request_fingerprint(request)
    statements = _statements(table)
    refusal: Refusal | None = None
    session: SqlSession
    async with database.transaction() as session:
        inserted = await session.execute(
            statements.claim, {"the_key": key, "new_hash": fingerprint}
        )
        if inserted.first() is None:
            earlier = (await session.execute(statements.earlier, {"the_key": key})).one()
            if earlier.request_hash != fingerprint:
                raise key_reused()
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
            await session.execute(
                statements.answer,
                {"the_key": key, "new_response": response.SerializeToString()},
            )
            return response
        await session.execute(
            statements.refuse, {"the_key": key, "new_failure": _failure_record(refusal)}
        )
    # Committed: the key now answers this refusal to every repeat.
    raise refusal
