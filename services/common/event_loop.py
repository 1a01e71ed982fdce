"""The event loop every Omni process runs on.

uvloop (libuv, in Cython) by default: each service spends most of its CPU in
the loop's own machinery (scheduling callbacks, socket reads and writes for
gRPC, asyncpg and HTTP), and uvloop does that work in C; asyncpg is written
for it. OMNI_EVENT_LOOP=asyncio runs the standard loop instead (to compare,
or should a platform lack the wheel). Figures: docs/architecture.md, "The
event loop". The worker keeps the standard loop: its time goes to
Temporal's own machinery, and whole journeys measured the same on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, Literal, TypeVar

import uvloop

from services.common.settings import EnvSettings

T = TypeVar("T")


class EventLoopSettings(EnvSettings):
    omni_event_loop: Literal["uvloop", "asyncio"] = "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the chosen loop."""
    try:
        chosen = EventLoopSettings().omni_event_loop
    except BaseException:
        main.close()  # never started: no "coroutine was never awaited"
        raise
    if chosen == "uvloop":
        return uvloop.run(main)
    return asyncio.run(main)
