"""A lost database connection is UNAVAILABLE (retryable), never INTERNAL
(issue 10: the fault suite's PostgreSQL restart made services answer
INTERNAL, which the journeys rightly do not retry, so journeys failed).

Every service's ErrorInterceptor guards each method; these call a guarded
method that raises what SQLAlchemy and asyncpg raise when PostgreSQL goes
away (or is restarting) and check the status the caller gets."""

from __future__ import annotations

from typing import Any

import asyncpg.exceptions
import grpc
import pytest
import sqlalchemy.exc

from services.common.grpc_errors import ErrorInterceptor, is_connection_lost


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""

    async def abort(self, code: grpc.StatusCode, details: str, **_: Any) -> None:
        self.code, self.details = code, details
        raise Aborted


def _wrapped_by_sqlalchemy(cause: BaseException, kind: type[sqlalchemy.exc.DBAPIError]) -> Any:
    """How SQLAlchemy raises a driver error: the DBAPI error as .orig, the
    driver's own exception as its __cause__."""
    orig = Exception(str(cause))
    orig.__cause__ = cause
    return kind("SELECT 1", {}, orig)


def _invalidated() -> sqlalchemy.exc.DBAPIError:
    error = sqlalchemy.exc.DBAPIError("SELECT 1", {}, Exception("server closed the connection"))
    error.connection_invalidated = True
    return error


LOST: list[tuple[str, BaseException]] = [
    ("operational", sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("gone"))),
    ("interface", sqlalchemy.exc.InterfaceError("SELECT 1", {}, Exception("closed"))),
    ("invalidated", _invalidated()),
    ("asyncpg does not exist", asyncpg.exceptions.ConnectionDoesNotExistError("gone")),
    ("asyncpg connection", asyncpg.exceptions.ConnectionFailureError("refused")),
    ("admin shutdown", asyncpg.exceptions.AdminShutdownError("terminating connection")),
    ("starting up", asyncpg.exceptions.CannotConnectNowError("the database is starting up")),
    (
        "wrapped admin shutdown",
        _wrapped_by_sqlalchemy(
            asyncpg.exceptions.AdminShutdownError("terminating"), sqlalchemy.exc.DBAPIError
        ),
    ),
    ("os", OSError(111, "Connection refused")),
    ("connection reset", ConnectionResetError("reset by peer")),
]

NOT_LOST: list[tuple[str, BaseException]] = [
    ("bug", ValueError("a bug")),
    ("key error", KeyError("x")),
    (
        "constraint",
        sqlalchemy.exc.IntegrityError("INSERT", {}, Exception("duplicate key")),
    ),
    (
        "wrapped unique violation",
        _wrapped_by_sqlalchemy(
            asyncpg.exceptions.UniqueViolationError("dup"), sqlalchemy.exc.DBAPIError
        ),
    ),
]


async def _status_for(error: BaseException) -> tuple[grpc.StatusCode | None, str]:
    async def behavior(request: Any, context: Any) -> Any:
        raise error

    guarded = ErrorInterceptor().wrap_unary("/omni.test.v1.Test/Do", behavior)
    context = FakeContext()
    with pytest.raises(Aborted):
        await guarded(object(), context)
    return context.code, context.details


@pytest.mark.parametrize(("name", "error"), LOST, ids=[name for name, _ in LOST])
async def test_a_lost_database_connection_is_unavailable(name: str, error: BaseException) -> None:
    assert is_connection_lost(error)
    code, details = await _status_for(error)
    assert code == grpc.StatusCode.UNAVAILABLE
    # Nothing of the driver's message (hosts, SQL) reaches the caller.
    assert "SELECT" not in details and "terminating" not in details


@pytest.mark.parametrize(("name", "error"), NOT_LOST, ids=[name for name, _ in NOT_LOST])
async def test_any_other_unexpected_error_stays_internal(name: str, error: BaseException) -> None:
    assert not is_connection_lost(error)
    code, details = await _status_for(error)
    assert (code, details) == (grpc.StatusCode.INTERNAL, "internal error")


async def test_a_stream_that_loses_its_connection_is_unavailable() -> None:
    async def behavior(request: Any, context: Any) -> Any:
        yield 1
        raise asyncpg.exceptions.ConnectionDoesNotExistError("gone")

    guarded = ErrorInterceptor().wrap_stream("/omni.test.v1.Test/List", behavior)
    context = FakeContext()
    seen = []
    with pytest.raises(Aborted):
        async for item in guarded(object(), context):
            seen.append(item)
    assert seen == [1] and context.code == grpc.StatusCode.UNAVAILABLE
