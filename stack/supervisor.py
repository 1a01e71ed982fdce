"""`omni up`: the whole dev stack as supervised child processes.

Order of start: PostgreSQL and Temporal (its UI decoding through the codec
server) side by side while the project's bytecode is compiled → the codec
server while the databases migrate → the four services → the worker →
the gateway → seed (once). Stop is the reverse, on SIGINT, SIGTERM or
SIGHUP, and also when any child dies on its own (then the exit status is 1).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.migrations import upgrade
from services.common.telemetry import JSONL_EXPORTER, TRACES_FILE_ENV
from services.common.temporal_codec import KEY_ENV as CODEC_KEY_ENV
from stack.codec import TOKEN_ENV as CODEC_TOKEN_ENV
from stack.codec import stack_codec_key, stack_codec_token
from stack.config import DATABASES, SERVICES, StackSettings, database_name, database_url_for
from stack.identity import stack_identity_key
from stack.postgres import PostgresServer, ensure_database
from stack.processes import child_options, die_with_parent
from stack.seed import seed_demo
from stack.temporal import TemporalDevServer

ROOT = Path(__file__).resolve().parent.parent
# The packages the children import from the checkout (site-packages is
# compiled by pip at install).
PROJECT_PACKAGES = ("omni", "services", "workflows", "stack")


def precompile() -> None:
    """Writes the project's bytecode where it is stale or missing (a no-op
    when it is current), so no child compiles it at start: each child under
    PYTHONDONTWRITEBYTECODE=1 otherwise compiles every module it imports,
    every time. __pycache__ is git-ignored; an unwritable tree is skipped."""
    import compileall

    for package in PROJECT_PACKAGES:
        with contextlib.suppress(OSError):
            compileall.compile_dir(ROOT / package, quiet=2, workers=1)


STOP_TIMEOUT_SECONDS = 25.0


class StopRequested(Exception):
    """A signal asked us to stop while we were still starting."""


def say(message: str) -> None:
    print(f"omni: {message}", flush=True)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    # How to start it again (OMNI_RESTART): the module and its own environment.
    module: str = ""
    env: dict[str, str] = field(default_factory=dict)
    restarts: int = 0


@dataclass
class Supervisor:
    settings: StackSettings
    children: list[Child] = field(default_factory=list)
    stop_requested: threading.Event = field(default_factory=threading.Event)
    postgres: PostgresServer | None = None
    temporal: TemporalDevServer | None = None

    @property
    def home(self) -> Path:
        return self.settings.omni_home.resolve()

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    # -- lifecycle -------------------------------------------------------

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        die_with_parent()
        self.logs.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        status = 0
        try:
            self._start_everything()
            say(f"healthy in {time.monotonic() - started:.1f}s")
            self._print_banner()
            status = self._watch()
        except StopRequested:
            say("stop requested while starting")
        except Exception as error:  # report, then stop what was started
            say(f"failed to start: {error}")
            status = 1
        finally:
            self._stop_everything()
        return status

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self.stop_requested.set()

    def _check_stop(self) -> None:
        if self.stop_requested.is_set():
            raise StopRequested

    def _watch(self) -> int:
        while not self.stop_requested.wait(0.2 if self.settings.omni_restart else 0.5):
            for child in self.children:
                if child.process.poll() is not None:
                    if self.settings.omni_restart and self._restart(child):
                        continue
                    say(f"{child.name} exited with {child.process.returncode}; stopping")
                    self._print_log_tail(child)
                    return 1
        say("stopping")
        return 0

    def _restart(self, child: Child) -> bool:
        """OMNI_RESTART: starts a child that died again (the fault suite kills
        them on purpose). PostgreSQL restarts on its data directory; the
        Temporal dev server is not restarted (its state is the journeys')."""
        status = child.process.returncode
        if child.name == "postgres" and self.postgres is not None:
            child.process = self.postgres.start(
                child.log_path, durable=self.settings.omni_pg_durable
            )
        elif child.module:
            child.process = self._popen(child.module, child.env, child.log_path)
        else:
            return False
        child.restarts += 1
        say(f"{child.name} exited with {status}; restarted (pid {child.process.pid})")
        return True

    # -- start -----------------------------------------------------------

    def _start_everything(self) -> None:
        # PostgreSQL and Temporal boot side by side (neither needs the other);
        # the project's bytecode is compiled meanwhile, once for every child
        # (PYTHONDONTWRITEBYTECODE would have each compile it again at every
        # start), then the codec server starts while the databases migrate.
        self._spawn_postgres()
        self._spawn_temporal()
        precompile()
        self._check_stop()
        server_url = self._postgres_ready()
        temporal_address = self._temporal_ready()
        self._check_stop()
        # Only the processes that talk to Temporal hold the payload key.
        codec_env = {CODEC_KEY_ENV: stack_codec_key(self.home)}
        self._spawn_codec_server(codec_env)
        urls = {name: database_url_for(server_url, database_name(name)) for name in DATABASES}
        for name in DATABASES:
            ensure_database(server_url, database_name(name))
            upgrade(name, urls[name])
        say("databases migrated")
        self._codec_server_ready()
        common_env = {
            **{f"{s.upper()}_ADDR": self.settings.address_of(s) for s in SERVICES},
            "TEMPORAL_ADDRESS": temporal_address,
            "TEMPORAL_NAMESPACE": self.settings.temporal_namespace,
            # Payments' provider; "dev" also makes the dev provider's own books.
            "PAYMENT_PROVIDER": self.settings.payment_provider,
            # Signs the caller on every gRPC call (services/common/identity.py).
            "OMNI_IDENTITY_KEY": stack_identity_key(self.home),
        }
        # OMNI_REPLICAS copies of each service share its port (gRPC sets
        # SO_REUSEPORT on Linux); only the first serves /metrics on its port.
        for service in SERVICES:
            for replica in range(1, self.settings.omni_replicas + 1):
                metrics = {"METRICS_PORT": str(self.settings.metrics_port_of(service))}
                self._spawn(
                    service if replica == 1 else f"{service}-{replica}",
                    f"services.{service}.main",
                    {
                        **common_env,
                        **(codec_env if service in ("orders", "customers") else {}),
                        "DATABASE_URL": urls[service],
                        "GRPC_PORT": str(self.settings.port_of(service)),
                        **(metrics if replica == 1 else {}),
                    },
                )
        for service in SERVICES:
            self._wait_grpc(service, self.settings.address_of(service))
        say("services healthy")
        for replica in range(1, self.settings.omni_workers + 1):
            metrics = {"METRICS_PORT": str(self.settings.metrics_port_of("worker"))}
            self._spawn(
                "worker" if replica == 1 else f"worker-{replica}",
                "workflows.worker",
                {**common_env, **codec_env, **(metrics if replica == 1 else {})},
            )
        self._spawn(
            "gateway",
            "services.gateway.main",
            {
                **common_env,
                "DATABASE_URL": urls["gateway"],
                "GATEWAY_HOST": self.settings.gateway_host,
                "GATEWAY_PORT": str(self.settings.gateway_port),
                # `omni up` is development: the only way to verify tokens with
                # JWT_SECRET (a production gateway refuses to start without an issuer).
                "OMNI_ENV": "development",
                "METRICS_PORT": str(self.settings.metrics_port_of("gateway")),
            },
        )
        self._wait_http(f"{self.settings.gateway_url}/healthz")
        if self.settings.omni_seed:
            self._seed_once()

    def _spawn_postgres(self) -> None:
        if self.settings.database_url:
            return
        self.postgres = PostgresServer(self.home / "pg", self.settings.omni_pg_port)
        self.postgres.init()
        process = self.postgres.start(
            self.logs / "postgres.log", durable=self.settings.omni_pg_durable
        )
        self.children.append(Child("postgres", process, self.logs / "postgres.log"))

    def _postgres_ready(self) -> str:
        if self.settings.database_url:
            say("using PostgreSQL at DATABASE_URL")
            return self.settings.database_url
        assert self.postgres is not None
        self.postgres.wait_ready()
        say(f"postgres ready on 127.0.0.1:{self.settings.omni_pg_port}")
        return self.postgres.url()

    def _spawn_temporal(self) -> None:
        if self.settings.temporal_address:
            return
        self.temporal = TemporalDevServer(
            port=self.settings.temporal_port,
            ui_port=self.settings.temporal_ui_port,
            db_file=self.home / "temporal.db",
            ui_codec_endpoint=self.settings.codec_server_url,
        )
        process = self.temporal.start(self.logs / "temporal.log")
        self.children.append(Child("temporal", process, self.logs / "temporal.log"))

    def _temporal_ready(self) -> str:
        if self.settings.temporal_address:
            say(f"using Temporal at {self.settings.temporal_address}")
            return self.settings.temporal_address
        assert self.temporal is not None
        self.temporal.wait_ready()
        say(f"temporal ready on {self.temporal.address}")
        return self.temporal.address

    def _spawn_codec_server(self, codec_env: dict[str, str]) -> None:
        """The codec server the UI and `temporal workflow show` decode with.
        The dev server's UI cannot send a token: its origin is trusted, on
        loopback, with this stack's own key."""
        ui = [
            f"http://{host}:{self.settings.temporal_ui_port}" for host in ("127.0.0.1", "localhost")
        ]
        self._spawn(
            "codec",
            "services.codec_server",
            {
                **codec_env,
                CODEC_TOKEN_ENV: stack_codec_token(self.home),
                "CODEC_SERVER_PORT": str(self.settings.codec_server_port),
                "OMNI_CODEC_ALLOWED_ORIGINS": ",".join(ui),
                "OMNI_CODEC_TRUSTED_ORIGINS": ",".join(ui) if self.temporal is not None else "",
            },
        )

    def _codec_server_ready(self) -> None:
        self._wait_http(f"{self.settings.codec_server_url}/healthz", "codec")
        say(f"codec server ready on {self.settings.codec_server_url}")

    def _spawn(self, name: str, module: str, env: dict[str, str]) -> None:
        log_path = self.logs / f"{name}.log"
        # Spans go to one JSON-lines file unless OTEL_TRACES_EXPORTER says otherwise.
        tracing_env = {
            "OTEL_SERVICE_NAME": f"omni-{name.split('-')[0]}",
            "OTEL_TRACES_EXPORTER": os.environ.get("OTEL_TRACES_EXPORTER", JSONL_EXPORTER),
            TRACES_FILE_ENV: str(self.home / "traces.jsonl"),
        }
        own_env = {**tracing_env, **env}
        process = self._popen(module, own_env, log_path)
        self.children.append(Child(name, process, log_path, module, own_env))

    def _popen(self, module: str, env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
        with log_path.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", module],
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                **child_options(),
            )

    def _child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    def _wait_until(self, name: str, ready: object, timeout: float = 90.0) -> None:
        assert callable(ready)
        child = self._child(name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_stop()
            if child.process.poll() is not None:
                self._print_log_tail(child)
                raise RuntimeError(f"{name} exited with {child.process.returncode}")
            if ready():
                return
            self.stop_requested.wait(0.1)
        self._print_log_tail(child)
        raise TimeoutError(f"{name} did not become healthy in {timeout:.0f}s")

    def _wait_grpc(self, name: str, address: str) -> None:
        with grpc.insecure_channel(address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)

            def serving() -> bool:
                try:
                    reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                except grpc.RpcError:
                    return False
                return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)

            self._wait_until(name, serving)

    def _wait_http(self, url: str, name: str = "gateway") -> None:
        def healthy() -> bool:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    return bool(response.status == 200)
            except (urllib.error.URLError, OSError):
                return False

        self._wait_until(name, healthy)

    def _seed_once(self) -> None:
        marker = self.home / "seeded"
        if marker.exists():
            return
        seed_demo(
            {s: self.settings.address_of(s) for s in SERVICES},
            stack_identity_key(self.home).encode(),
        )
        marker.write_text("demo data loaded\n")
        say("demo data seeded")

    def _print_banner(self) -> None:
        gateway = self.settings.gateway_url
        lines = [
            "Omni is up.",
            f"  Gateway      {gateway}  (API docs {gateway}/docs, console {gateway}/console)",
        ]
        if self.temporal is not None:
            lines.append(f"  Temporal UI  http://127.0.0.1:{self.settings.temporal_ui_port}")
        lines.append(
            f"  Codec server {self.settings.codec_server_url}"
            f"  (token in {self.home / 'codec.token'}; docs/tracing-an-order.md)"
        )
        lines += [
            f"  Logs         {self.logs}/",
            f"  Traces       {self.home / 'traces.jsonl'}  (docs/tracing.md)",
            "Ctrl-C stops everything.",
        ]
        print("\n".join(lines), flush=True)

    def _print_log_tail(self, child: Child, lines: int = 30) -> None:
        try:
            tail = child.log_path.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return
        for line in tail:
            print(f"  {child.name}| {line}", flush=True)

    # -- stop ------------------------------------------------------------

    def _stop_everything(self) -> None:
        """Stops children newest first: gateway, worker, services, Temporal, PostgreSQL."""
        tiers: list[list[Child]] = []
        for name_group in (
            ("gateway",),
            ("worker",),
            SERVICES,
            ("codec",),
            ("temporal",),
            ("postgres",),
        ):
            tier = [c for c in self.children if c.name.split("-")[0] in name_group]
            if tier:
                tiers.append(tier)
        for tier in tiers:
            for child in tier:
                if child.process.poll() is None:
                    # PostgreSQL's fast shutdown is SIGINT; everything else takes SIGTERM.
                    sig = signal.SIGINT if child.name == "postgres" else signal.SIGTERM
                    child.process.send_signal(sig)
            for child in tier:
                try:
                    child.process.wait(STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    say(f"{child.name} did not stop in time; killing it")
                    child.process.kill()
                    child.process.wait()
        if self.children:
            say("stopped")
