"""The console in a real browser: Playwright's driver with Debian's Chromium.

For the module: the test Neo4j wiped and loaded with a small portfolio whose ring was
found by real detection, one user per role, the real API (``live_api``) and the console
served by ``streamlit run`` on free ports, and one headless Chromium. No browser is
downloaded: ``./run test`` installs Debian's ``chromium`` when it is missing; without it
these tests skip and say so. Screenshots go to ``var/test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.roles import Role
from api.security import add_user
from fraudgraph.settings import REPO_ROOT
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from tests.conftest import WIPE
from tests.investigator_ui.conftest import APP, PASSWORD, _free_port
from tests.investigator_ui.seed import load_ring_portfolio

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "var" / "test-artifacts" / "screenshots"
#: Seconds the console may take to answer its health check after ``streamlit run``.
STARTUP_S = 60
#: Milliseconds Playwright waits for what a page should show (real HTTP behind each).
WAIT_MS = 30_000


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"console screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Debian Chromium driven by Playwright, or a skip naming what is missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} "
                    "(./run test installs it with apt-get; it could not here)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"playwright is not installed ({exc}); pip install -r requirements.lock")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def ring_world(_session_runner: QueryRunner, pseudo: Pseudonymiser,
               tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module's data: one user per role and the ring portfolio; the ring's id."""
    _session_runner.write(WIPE)
    for role in Role:
        add_user(_session_runner, f"{role.value}.test", PASSWORD, role)
    return load_ring_portfolio(_session_runner, pseudo, tmp_path_factory.mktemp("ring-world"))


@pytest.fixture(scope="module")
def console_url(live_api: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``streamlit run investigator_ui/app.py`` headless on a free port, on the live API."""
    port = _free_port()
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    env = {**os.environ, "FRAUDGRAPH_API_URL": live_api}
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer in {STARTUP_S}s: "
                       f"{log.read_text(errors='replace')[-2000:]}")


def settle(page: Any) -> None:
    """Wait until the page's script stopped running: Streamlit shows its running icon
    while it runs (whatever the language), then charts and buttons have been drawn."""
    page.locator('[data-testid="stStatusWidgetRunningIcon"]').wait_for(state="hidden")
    page.wait_for_timeout(300)  # charts draw just after the script ends


@dataclass(frozen=True)
class World:
    """What a browser test gets: the console, the ring, the browser, where shots go."""

    url: str
    ring_id: str
    browser: Any

    def shot(self, page: Any, name: str) -> Path:
        settle(page)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path


@pytest.fixture(scope="module")
def world(chromium: Any, ring_world: str, console_url: str) -> World:
    # Chromium first: without it the module skips before starting anything.
    return World(console_url, ring_world, chromium)


@pytest.fixture
def page(world: World) -> Iterator[Any]:
    """A fresh browser context (its own cookies, so its own console session)."""
    # Tall: Streamlit scrolls inside its main block, so screenshots show the viewport only.
    context = world.browser.new_context(viewport={"width": 1500, "height": 3200},
                                        accept_downloads=True)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    yield tab
    context.close()
