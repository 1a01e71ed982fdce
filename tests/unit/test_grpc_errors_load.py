"""Load is not an outage (issue 15): a service whose connection pool is
exhausted answers RESOURCE_EXHAUSTED (the gateway's 429 + Retry-After), not
INTERNAL or UNAVAILABLE (a 503: "dependency down", API.md). And the error
table costs the processes that never touch SQLAlchemy nothing: the worker
and the gateway's clients import it without loading SQLAlchemy (~26 MB RSS)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import grpc
import pytest
import sqlalchemy.exc

from services.common.grpc_errors import ErrorInterceptor, is_connection_lost
from services.gateway.problems import problem_from_rpc_error
from tests.unit.gateway_fakes import rpc_error


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""

    async def abort(self, code: grpc.StatusCode, details: str, **_: Any) -> None:
        self.code, self.details = code, details
        raise Aborted


async def test_an_exhausted_pool_is_resource_exhausted_and_the_gateway_says_429() -> None:
    error = sqlalchemy.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached")

    async def behavior(request: Any, context: Any) -> Any:
        raise error

    guarded = ErrorInterceptor().wrap_unary("/omni.test.v1.Test/Do", behavior)
    context = FakeContext()
    with pytest.raises(Aborted):
        await guarded(object(), context)
    assert context.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "QueuePool" not in context.details
    assert not is_connection_lost(error)

    answered = grpc.aio.AioRpcError(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.aio.Metadata(),
        grpc.aio.Metadata(),
        details=context.details,
    )
    problem = problem_from_rpc_error(answered)
    assert problem.status == 429 and problem.headers["Retry-After"]


def test_a_down_dependency_stays_503() -> None:
    from services.common.errors import Unavailable

    problem = problem_from_rpc_error(rpc_error(Unavailable("inventory is down")))
    assert problem.status == 503 and problem.headers["Retry-After"]


@pytest.mark.parametrize("module", ["services.common.grpc_errors", "workflows.worker"])
def test_importing_does_not_load_sqlalchemy(module: str) -> None:
    code = (
        f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith('sqlalchemy')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout
