"""Suite-wide fixtures: a throwaway PostgreSQL cluster, and a clean exit.

temporalio can crash the interpreter at exit after all work is done (DESIGN.md,
known traps), so pytest leaves with os._exit and the tests' own verdict.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.common.migrations import upgrade
from services.common.temporal_codec import KEY_ENV as CODEC_KEY_ENV
from stack.harness import E2E_CODEC_KEY
from stack.postgres import PostgresServer
from tests.support.ports import free_port

# Every Temporal client and worker needs a payload key (temporal_codec.py):
# the tests' own clients and the processes they start share the test key.
os.environ.setdefault(CODEC_KEY_ENV, E2E_CODEC_KEY)

_exit_status: list[int] = []


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _exit_status.append(int(exitstatus))


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    if _exit_status and not hasattr(config, "workerinput"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(_exit_status[-1])


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run, deleted afterwards."""
    base = tmp_path_factory.mktemp("pg")
    server = PostgresServer(base / "data", free_port())
    server.init()
    server.start(base / "postgres.log", durable=False)
    server.wait_ready()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def migrated_database(postgres: PostgresServer) -> Callable[[str], str]:
    """Makes a fresh database with `service`'s migrations applied; returns its URL."""

    def make(service: str) -> str:
        name = f"test_{service}_{uuid.uuid4().hex[:8]}"
        postgres.ensure_database(name)
        url = postgres.url(name)
        upgrade(service, url)
        return url

    return make


@pytest.fixture(scope="session")
def logs_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("logs")
