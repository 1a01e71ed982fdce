"""Steps run side by side, none left running behind an error."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def side_by_side(*steps: Awaitable[Any]) -> None:
    """Runs `steps` together; every one ends before the first failure is
    raised (a step that must happen is never cut off by another's error).
    Deterministic in a workflow: asyncio.gather on the workflow's own loop."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
