"""Start a service process the way the stack does, and wait until it is healthy."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.support.identity import IDENTITY_ENV

ROOT = Path(__file__).resolve().parents[2]


def wait_grpc_healthy(address: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise TimeoutError(f"{address} did not become healthy")


def start_module(module: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """Runs `python -m module` from the repository root with extra environment."""
    log = log_path.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", module],
        cwd=ROOT,
        # The identity key the test clients sign with (tests/support/identity.py).
        env={**os.environ, **IDENTITY_ENV, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    log.close()
    return process


def stop_process(process: subprocess.Popen[bytes], timeout: float = 20) -> int:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode
