"""A throwaway PostgreSQL and service processes on free ports, for one bench run."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.identity import (
    CallerIdentity,
    Role,
    aio_identity_interceptors,
    always,
    workflow_identity,
)
from services.common.migrations import upgrade
from stack.ports import free_port
from stack.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 60.0


@dataclass
class BenchHome:
    directory: Path
    postgres: PostgresServer

    def database(self, service: str) -> str:
        """A fresh database with `service`'s migrations; its URL."""
        name = f"bench_{service}_{uuid.uuid4().hex[:8]}"
        self.postgres.ensure_database(name)
        url = self.postgres.url(name)
        upgrade(service, url)
        return url

    def postgres_pid(self) -> int:
        """The postmaster (its backends are its children)."""
        assert self.postgres.process is not None
        return self.postgres.process.pid

    def log(self, name: str) -> Path:
        return self.directory / f"{name}.log"


@contextlib.contextmanager
def bench_home() -> Iterator[BenchHome]:
    """PostgreSQL without fsync (like the test clusters), deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="omni-bench-") as directory:
        base = Path(directory)
        os.chmod(base, 0o755)  # the server may run as an unprivileged user
        server = PostgresServer(base / "pg", free_port())
        server.init()
        server.start(base / "postgres.log", durable=False)
        try:
            server.wait_ready()
            yield BenchHome(base, server)
        finally:
            server.stop()


# The identity key of the processes a benchmark starts (services/common/identity.py).
BENCH_IDENTITY_KEY = "bench-only-identity-key-not-for-production-0123456789"
# Who the benchmarks' direct gRPC calls say is calling: setting up and auditing
# is an admin's work; reserving stock a workflow's, as in production.
BENCH_ADMIN = CallerIdentity(sub="bench-admin", role=Role.ADMIN)
BENCH_WORKFLOW = workflow_identity("bench")


def signed_channel(
    address: str, caller: CallerIdentity, options: list[tuple[str, int]] | None = None
) -> grpc.aio.Channel:
    """A plaintext channel whose every call carries `caller`, signed."""
    return grpc.aio.insecure_channel(
        address,
        options=options,
        interceptors=aio_identity_interceptors(always(caller), BENCH_IDENTITY_KEY.encode()),
    )


@contextlib.contextmanager
def running(module: str, env: dict[str, str], log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m module` with extra environment; SIGTERM (then kill) on the way out."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env={**os.environ, "OMNI_IDENTITY_KEY": BENCH_IDENTITY_KEY, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_grpc(address: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            with contextlib.suppress(grpc.RpcError):
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            time.sleep(0.1)
    raise TimeoutError(f"{address} did not become healthy")


def wait_http(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


@dataclass(frozen=True)
class RunningService:
    address: str
    pids: list[int]


@contextlib.contextmanager
def inventory_service(
    home: BenchHome,
    database_url: str,
    *,
    processes: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[RunningService]:
    """The inventory service on a free port, as `processes` server processes that
    share it (gRPC sets SO_REUSEPORT: the kernel spreads connections over them)."""
    port = free_port()
    address = f"127.0.0.1:{port}"
    env = {
        "DATABASE_URL": database_url,
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": str(port),
        **(env or {}),
    }
    with contextlib.ExitStack() as stack:
        started = []
        for n in range(processes):
            # A health check may reach any of them; each one's own /metrics
            # port answers once that process is serving.
            metrics_port = free_port()
            process = stack.enter_context(
                running(
                    "services.inventory.main",
                    {**env, "METRICS_PORT": str(metrics_port)},
                    home.log(f"inventory-{n}"),
                )
            )
            wait_http(f"http://127.0.0.1:{metrics_port}/metrics", process)
            started.append(process)
        wait_grpc(address, started[0])
        yield RunningService(address, [process.pid for process in started])
