"""The customers service checks the payload key at start (its cart reminders
are Temporal workflows) without importing the Temporal SDK, which it loads
only on the first cart change (docs/capacity.md, "Footprint")."""

from __future__ import annotations

import os
import subprocess
import sys

# Nothing listens on port 1: a process that got past the key check fails
# later, with another message.
NO_DATABASE = "postgresql+asyncpg://omni@127.0.0.1:1/customers"


def start_customers(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.customers.main"],
        env={**os.environ, "DATABASE_URL": NO_DATABASE, "GRPC_PORT": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_customers_refuses_to_start_without_a_payload_key() -> None:
    stopped = start_customers(OMNI_CODEC_KEY="")
    assert stopped.returncode == 1
    assert "OMNI_CODEC_KEY is not set" in stopped.stdout + stopped.stderr


def test_a_bad_payload_key_is_refused_at_start_too() -> None:
    stopped = start_customers(OMNI_CODEC_KEY="c2hvcnQ=")
    assert stopped.returncode == 1
    assert "must be 32 bytes" in stopped.stdout + stopped.stderr


def test_without_reminders_no_key_is_asked_for() -> None:
    stopped = start_customers(OMNI_CODEC_KEY="", CART_REMINDERS="false")
    # It got past the key and stopped later (the identity key or the database).
    said = stopped.stdout + stopped.stderr
    assert stopped.returncode == 1 and "customers service failed" in said
    assert "OMNI_CODEC_KEY" not in said


def test_the_key_check_imports_no_temporal() -> None:
    probe = (
        "import sys\n"
        "from services.common.codec_keys import CodecKeys\n"
        "CodecKeys.from_env({'OMNI_CODEC_KEY': 'A' * 43})\n"
        "import services.customers.main\n"
        "print(sorted(m for m in sys.modules if m.startswith('temporalio')))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert ran.stdout.strip() == "[]"
