"""Browser tests of the store console (issue 14): headless Chromium from
Debian's `chromium` package, driven by Playwright's Python package through
`executable_path` (Playwright's own browser downloads are never used: they
cannot work offline), against the real stack (`omni up` as in tests/e2e),
one stack per module.

When `chromium` is missing the session installs it with apt-get (the
machines run as root); when that is impossible the tests fail, saying how to
install it, rather than skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from stack.harness import StackProcess, start_stack, stop_stack

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright, ViewportSize

# A tablet held in landscape: the console's target screen.
TABLET: ViewportSize = {"width": 1024, "height": 768}
# How long a page waits for what it should show (the journeys answer after
# their workflow records the step; polling updates the lists every 4 s).
EXPECT_MS = 30_000


def _install_chromium() -> str:
    found = shutil.which("chromium")
    if found:
        return found
    apt = shutil.which("apt-get")
    problem = "apt-get is not available"
    if apt is not None:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for command in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "chromium"]):
            done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                problem = f"{' '.join(command)} exited {done.returncode}: {done.stderr[-2000:]}"
                break
        else:
            found = shutil.which("chromium")
            if found:
                return found
            problem = "apt-get installed chromium but it is not on PATH"
    pytest.fail(
        "The browser tests need Debian's chromium package (`apt-get install -y chromium`, "
        f"as root) and could not install it: {problem}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    return _install_chromium()


# Module scope, not session: Playwright's sync API keeps its event loop set
# as running in this thread while it is open, and the asyncio tests that run
# after this folder in the same session need the thread free again.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        pytest.fail(
            "The browser tests need Playwright's Python package: "
            "`.venv/bin/pip install -e '.[dev]'` (never `playwright install`).",
            pytrace=False,
        )
    expect.set_options(timeout=EXPECT_MS)
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def browser(playwright: Playwright, chromium_path: str) -> Iterator[Browser]:
    # --no-sandbox: the test machines run as root, where Chromium's sandbox cannot start.
    launched = playwright.chromium.launch(
        executable_path=chromium_path, headless=True, args=["--no-sandbox"]
    )
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    running = start_stack(tmp_path_factory.mktemp("omni"))
    yield running
    status = stop_stack(running)
    assert status == 0, running.output()
    assert not [c for c in running.children if c.is_running() and c.status() != "zombie"]


class Steps:
    """Named steps of a browser test: a screenshot after each one, all of
    them (and the page as it was when a step failed) written under the
    test's tmp_path when the test fails."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.shots: list[tuple[str, bytes]] = []
        self.console: list[str] = []
        page.on("console", lambda message: self.console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def _shot(self, name: str) -> None:
        try:
            self.shots.append((name, self.page.screenshot(full_page=True)))
        except Exception as error:  # the page itself may be what broke
            self.console.append(f"screenshot {name} failed: {error}")

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        try:
            yield
        except BaseException:
            self._shot(f"{name}-failed")
            raise
        self._shot(name)

    def save(self) -> list[Path]:
        saved = []
        self.folder.mkdir(parents=True, exist_ok=True)
        for number, (name, png) in enumerate(self.shots, 1):
            path = self.folder / f"{number:02d}-{name}.png"
            path.write_bytes(png)
            saved.append(path)
        (self.folder / "browser-console.txt").write_text("\n".join(self.console))
        return saved


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport=TABLET)
    context.set_default_timeout(EXPECT_MS)
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def steps(page: Page, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Steps]:
    recorded = Steps(page, tmp_path / "screenshots")
    yield recorded
    if request.node.stash.get(_FAILED, True):
        saved = recorded.save()
        print(f"\nscreenshots of each step: {[str(p) for p in saved]}")
