"""One HTTP request, retried the way a well-behaved client rides out a
restarting stack: a connection refused or reset, a 502/503/504, and (when
asked) a 429 after its Retry-After - until a deadline, then the last answer
(or the transport error) stands. The fault world and the test harness's
associate registration both call it."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

UNAVAILABLE = (502, 503, 504)
PAUSE_SECONDS = 0.5


def ride_out(
    send: Callable[[], httpx.Response],
    *,
    seconds: float = 60.0,
    wait_out_429: bool = False,
) -> httpx.Response:
    """`send()` again after a pause while the stack is unavailable, for at
    most `seconds`; the request must be safe to repeat (a GET, or a write
    with its Idempotency-Key)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            response = send()
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(PAUSE_SECONDS)
            continue
        if time.monotonic() >= deadline:
            return response
        if response.status_code in UNAVAILABLE:
            time.sleep(PAUSE_SECONDS)
            continue
        after = response.headers.get("retry-after")
        if wait_out_429 and response.status_code == 429 and after:
            time.sleep(float(after))
            continue
        return response
