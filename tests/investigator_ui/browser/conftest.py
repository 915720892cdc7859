"""The console in a real browser: Playwright's driver with Debian's Chromium.

For the module: the test Neo4j wiped and loaded with a small portfolio whose ring was
found by real detection, one user per role, a champion and a challenger model registered
(trained for real in seconds) with the year of applications they learnt from written
beside the seed and every application scored, a few loans in collection,
one escalated review case, the real API (``live_api``) and the console served by
``streamlit run`` on free ports, and one headless Chromium. No browser is
downloaded: ``./run test`` installs Debian's ``chromium`` when it is missing; without it
these tests skip and say so. Screenshots go to ``var/test-artifacts/screenshots/``.
"""

from __future__ import annotations

import os
import shutil
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
from fraudgraph.settings import REPO_ROOT, Settings
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from tests.api.conftest import auth
from tests.conftest import WIPE
from tests.investigator_ui.conftest import (
    APP,
    PASSWORD,
    _free_port,
    clear_models,
    score_with_champion,
    write_model_portfolio,
)
from tests.investigator_ui.seed import load_ring_portfolio
from tests.utils import application_row

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


#: Loans in collection for the Portfolio page: (application, status, stage, overdue).
LOANS = [("APP000001", "delinquent", "severe", 12000.0), ("APP000002", "delinquent", "m2", 5000.0),
         ("APP000003", "current", "reminder", 0.0), ("APP000005", "current", "none", 0.0),
         ("APP000006", "delinquent", "m1", 2500.0), ("APP000007", "current", "none", 0.0),
         ("APP000008", "delinquent", "m1", 2500.0), ("APP000009", "paid_off", "none", 0.0)]
SET_LOANS = Query(
    "test.browser.set_loans",
    "UNWIND $rows AS r MATCH (a:Application {application_id: r[0]}) "
    "SET a.status = r[1], a.collection_stage = r[2], a.overdue_amount = r[3]",
)


def _escalated_case(api_url: str) -> str:
    """APP000011 sharing APP000005's phone and account (tier B, a case), escalated."""
    neighbour = application_row(5)
    row = application_row(11, contact_phone=neighbour["applicant_phone"],
                          bank_account=neighbour["bank_account"])
    submitted = httpx.post(f"{api_url}/v1/applications", json=row, timeout=60,
                           headers=auth(Role.UNDERWRITER, "underwriter.test"))
    assert submitted.status_code == 201 and submitted.json()["case_id"], submitted.text
    case_id = str(submitted.json()["case_id"])
    escalated = httpx.post(f"{api_url}/v1/cases/{case_id}/escalate", timeout=60,
                           json={"reason": "shares a payout account; senior look"},
                           headers=auth(Role.INVESTIGATOR, "investigator.test"))
    assert escalated.status_code == 200, escalated.text
    return case_id


@pytest.fixture(scope="module")
def lived_in_world(ring_world: str, _session_runner: QueryRunner, live_api: str,
                   trained_models: Path, live_model_dir: Path,
                   api_settings: Settings) -> Iterator[str]:
    """The ring world with models, scores, loans and an escalated case; the ring's id.
    The models leave with the module, so later tests see none again."""
    shutil.copytree(trained_models, live_model_dir, dirs_exist_ok=True)
    try:
        # The models' own year of applications beside the seed's, so the Model page has
        # real scores that move month by month.
        write_model_portfolio(_session_runner)
        score_with_champion(_session_runner, api_settings)
        _session_runner.write(SET_LOANS, rows=[list(loan) for loan in LOANS])
        _escalated_case(live_api)
        yield ring_world
    finally:
        clear_models(live_model_dir)


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
def world(chromium: Any, lived_in_world: str, console_url: str) -> World:
    # Chromium first: without it the module skips before starting anything.
    return World(console_url, lived_in_world, chromium)


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
