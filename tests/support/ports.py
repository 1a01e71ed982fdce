"""Free loopback ports for servers a test starts (see stack/ports.py for why
they come from below the ephemeral range)."""

from __future__ import annotations

from stack.ports import free_port

__all__ = ["free_port"]
