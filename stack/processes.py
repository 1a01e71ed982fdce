"""Child processes of the supervisor: their own session, tied to our life."""

from __future__ import annotations

import ctypes
import signal
from typing import Any

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the supervisor dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def die_with_parent() -> None:
    """The same for the calling process (the supervisor under `make run`)."""
    _die_with_parent()


def child_options() -> dict[str, Any]:
    """Popen options for a supervised child.

    A new session keeps a terminal's Ctrl-C (sent to the whole foreground
    group) away from the children, so the supervisor stops them in order;
    the death signal makes sure none outlives a supervisor that was killed.
    """
    return {"start_new_session": True, "preexec_fn": _die_with_parent}
