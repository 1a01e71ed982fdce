"""Start and stop `omni up` the way a developer does, on free ports.

The end-to-end tests and the benchmarks both run the real stack through this.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
import psutil

from stack.ports import free_port

ROOT = Path(__file__).resolve().parent.parent

STARTUP_TIMEOUT_SECONDS = 180.0
E2E_JWT_SECRET = "e2e-only-signing-secret-not-for-production"
# The key every process of a harness's stack signs callers with (identity.py).
E2E_IDENTITY_KEY = "e2e-only-identity-key-not-for-production-0123456789"
# The payload key and codec-server token of test stacks (32 bytes, base64):
# the tests decode histories with them.
E2E_CODEC_KEY = "ZTJlLW9ubHktY29kZWMta2V5LW5vdC1mb3ItcHJvZCE="
E2E_CODEC_TOKEN = "e2e-only-codec-token"


def token(role: str, **claims: str) -> str:
    """A token the harness's stack accepts (HS256 with the e2e secret), valid an hour."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": claims.pop("sub", f"{role}-{uuid.uuid4().hex[:8]}"),
        "role": role,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(payload, E2E_JWT_SECRET, algorithm="HS256")


@dataclass
class StackProcess:
    home: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    output_path: Path
    gateway_url: str
    temporal_address: str
    children: list[psutil.Process] = field(default_factory=list)

    def output(self) -> str:
        return self.output_path.read_text(errors="replace")


def stack_env(home: Path) -> dict[str, str]:
    env = {
        "OMNI_HOME": str(home),
        "OMNI_PG_PORT": str(free_port()),
        "OMNI_PG_DURABLE": "false",
        "TEMPORAL_PORT": str(free_port()),
        "TEMPORAL_UI_PORT": str(free_port()),
        "GATEWAY_PORT": str(free_port()),
        "JWT_SECRET": E2E_JWT_SECRET,
        "OMNI_IDENTITY_KEY": E2E_IDENTITY_KEY,
        "OMNI_CODEC_KEY": E2E_CODEC_KEY,
        "OMNI_CODEC_AUTH_TOKEN": E2E_CODEC_TOKEN,
        "CODEC_SERVER_PORT": str(free_port()),
        # Tests make their own data: the demo's shipping methods and tax regions
        # would price every test's US basket (tests/e2e/test_stack.py seeds).
        "OMNI_SEED": "false",
        # The development carrier delivers a shipment this long after it
        # shipped (a day in `omni up`): test stacks see `delivered` at once.
        "CARRIER_DELIVERY_SECONDS": "2",
    }
    for service in ("inventory", "orders", "customers", "payments"):
        env[f"{service.upper()}_PORT"] = str(free_port())
    for process in ("inventory", "orders", "customers", "payments", "worker", "gateway"):
        env[f"{process.upper()}_METRICS_PORT"] = str(free_port())
    return env


def start_stack(home: Path, env: dict[str, str] | None = None) -> StackProcess:
    env = env or stack_env(home)
    # One output file per start: a restart must not read the last run's banner.
    output_path = home / f"omni-up-{len(list(home.glob('omni-up-*.out')))}.out"
    with output_path.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "stack.cli", "up"],
            cwd=ROOT,
            env={
                **{
                    k: v
                    for k, v in os.environ.items()
                    if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")
                },
                **env,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    running = StackProcess(
        home=home,
        env=env,
        process=process,
        output_path=output_path,
        gateway_url=f"http://127.0.0.1:{env['GATEWAY_PORT']}",
        temporal_address=f"127.0.0.1:{env['TEMPORAL_PORT']}",
    )
    wait_healthy(running)
    running.children = psutil.Process(process.pid).children(recursive=True)
    return running


def wait_healthy(running: StackProcess) -> None:
    """Waits for the supervisor to say the stack is up (healthz answered 200)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(
                f"omni up exited with {running.process.returncode}:\n{running.output()}"
                + logs_tail(running.home)
            )
        if "Omni is up." in running.output():
            response = httpx.get(f"{running.gateway_url}/healthz", timeout=5)
            assert response.status_code == 200, response.text
            return
        time.sleep(0.2)
    running.process.kill()
    raise TimeoutError(f"stack not healthy:\n{running.output()}" + logs_tail(running.home))


def logs_tail(home: Path, lines: int = 40) -> str:
    parts = []
    for log in sorted((home / "logs").glob("*.log")):
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"\n--- {log.name}\n" + "\n".join(tail))
    return "".join(parts)


def stop_stack(running: StackProcess) -> int:
    """SIGTERM, as an SRE or Ctrl-C would; returns the exit status."""
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGTERM)
        try:
            running.process.wait(90)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()
    for child in running.children:
        try:
            child.wait(10)
        except psutil.TimeoutExpired:
            child.kill()
    return running.process.returncode
