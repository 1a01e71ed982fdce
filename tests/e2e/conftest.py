"""The real stack for end-to-end tests: `omni up` as a process on free ports.

PostgreSQL, the Temporal dev server, the four services, the worker and the
gateway all run as real processes; the tests talk to the gateway over HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stack.harness import StackProcess, start_stack, stop_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    running = start_stack(tmp_path_factory.mktemp("omni"))
    yield running
    status = stop_stack(running)
    assert status == 0, running.output()
    assert not [c for c in running.children if c.is_running() and c.status() != "zombie"]
