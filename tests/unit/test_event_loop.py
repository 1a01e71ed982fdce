"""Every process's event loop (services/common/event_loop.py): uvloop unless
OMNI_EVENT_LOOP says asyncio; any other word is refused by name at start."""

from __future__ import annotations

import asyncio
import warnings

import pytest
import uvloop

from services.common import event_loop
from services.common.settings import SettingsError


async def _loop_type() -> type:
    return type(asyncio.get_running_loop())


def test_uvloop_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNI_EVENT_LOOP", raising=False)
    assert event_loop.run(_loop_type()) is uvloop.Loop


def test_the_standard_loop_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNI_EVENT_LOOP", "asyncio")
    loop_type = event_loop.run(_loop_type())
    assert loop_type is not uvloop.Loop
    assert issubclass(loop_type, asyncio.BaseEventLoop)


def test_an_unknown_loop_is_refused_by_name_and_nothing_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMNI_EVENT_LOOP", "trio")
    ran = []

    async def main() -> None:
        ran.append(True)

    with warnings.catch_warnings():
        # The coroutine made for it is closed, never left unawaited.
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(SettingsError, match="OMNI_EVENT_LOOP"):
            event_loop.run(main())
    assert ran == []
