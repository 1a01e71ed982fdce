"""The real stack for the fault suite: `omni up` with OMNI_RESTART, so a child
that a scenario kills is started again instead of stopping everything."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.harness import StackProcess, stack_env, start_stack, stop_stack, token
from stack.temporal import temporal_binary
from tests.faults.invariants import Checker

AMBIGUOUS_AFTER_SECONDS = 2


@pytest.fixture(scope="session")
def stack() -> Iterator[StackProcess]:
    # Not under pytest's basetemp: another pytest session starting resets
    # /tmp/pytest-of-<user> to 0700, and PostgreSQL (run as its own user
    # under root) then cannot reach its data directory.
    with tempfile.TemporaryDirectory(prefix="omni-faults-") as directory:
        home = Path(directory)
        os.chmod(home, 0o755)
        running = start_stack(
            home,
            {
                **stack_env(home),
                "OMNI_RESTART": "true",
                # tok_slow answers in 3 s: every tok_slow operation times out at
                # payments and is ambiguous (done, but not told), so the
                # provider lookup must settle it without acting twice.
                "PROVIDER_TIMEOUT_SECONDS": str(AMBIGUOUS_AFTER_SECONDS),
            },
        )
        yield running
        status = stop_stack(running)
        assert status == 0, running.output()[-3000:]


@pytest.fixture
def checker(stack: StackProcess, request: pytest.FixtureRequest) -> Checker:
    return Checker(
        stack.gateway_url,
        token("admin"),
        temporal_address=stack.temporal_address,
        temporal_cli=temporal_binary(),
        scenario=request.node.name,
    )
