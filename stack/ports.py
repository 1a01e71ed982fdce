"""Free loopback ports for the servers tests and benchmarks start.

Ports come from below the kernel's ephemeral range. A port found free by
bind(0) is in that range, and the kernel hands such ports to every outgoing
connection, so a server started a moment later (or restarted on the same
port) can find its port taken. Outgoing connections never take ports below
the range.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

_LOWEST = 20_000
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()
_lock = threading.Lock()


def _ephemeral_floor() -> int:
    try:
        return int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port nobody listens on, never handed out twice by this process."""
    highest = _ephemeral_floor() - 1
    with _lock:
        if highest - _LOWEST >= 1_000:
            for _ in range(2_000):
                port = random.randint(_LOWEST, highest)
                if port not in _handed_out and _bindable(port):
                    _handed_out.add(port)
                    return port
        # No room below the ephemeral range on this machine: let the kernel pick.
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        _handed_out.add(port)
        return port
