"""The console against the real API over the real test Neo4j.

The API runs under uvicorn in a background thread on a free local port for the module;
every test starts from a wiped database (the ``runner`` fixture) with one user per role,
and drives ``investigator_ui/app.py`` with Streamlit's ``AppTest``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

from api.main import create_app
from api.roles import Role
from api.security import add_user
from fraudgraph.settings import Settings
from graph.runner import Query, QueryRunner
from tests.api.conftest import JWT_SECRET, auth
from tests.utils import application_row, dealer_row

APP = Path(__file__).resolve().parents[2] / "investigator_ui" / "app.py"
PASSWORD = "console-test-password"
ADD_DEALER = Query("test.console.add_dealer", "CREATE (:Dealer {dealer_id: $id, name: $name})")
#: Seconds one AppTest run may take: every run makes real HTTP calls.
RUN_TIMEOUT_S = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def api_settings(neo4j_server: Settings) -> Settings:
    """As tests/api's fixture of the same name (the signing secret ``auth`` uses)."""
    return neo4j_server.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET)})


@pytest.fixture(scope="session")
def live_api(api_settings: Settings) -> Iterator[str]:
    """The real API served over HTTP, so the console's httpx calls cross a socket."""
    port = _free_port()
    app = create_app(api_settings)
    # The review tiers these tests need come from the policy's rules; the ring and GNN
    # scorers would only add a 15-s torch import to the first submission.
    app.state.scorers = []
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="console-test-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test API did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@dataclass(frozen=True)
class Console:
    """A live API over a fresh database with one user per role (``<role>.test``)."""

    url: str
    runner: QueryRunner

    def open(self, username: str | None = None, password: str = PASSWORD) -> AppTest:
        """The console app, signed in through its own form when ``username`` is given."""
        at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
        at.session_state["api_url"] = self.url
        at.run()
        if username is not None:
            at.text_input(key="username").input(username)
            at.text_input(key="password").input(password)
            at.button(key="sign_in_submit").click().run()
        return at

    def api(self, method: str, path: str, role: Role, **kwargs: object) -> httpx.Response:
        """A direct API call, to set data up and to check what the console did."""
        return httpx.request(method, self.url + path, headers=auth(role, f"{role.value}.test"),
                             timeout=30, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def console(live_api: str, runner: QueryRunner) -> Console:
    for role in Role:
        add_user(runner, f"{role.value}.test", PASSWORD, role)
    runner.write(ADD_DEALER, id="D1", name=dealer_row()["name"])
    return Console(live_api, runner)


@pytest.fixture
def review_case(console: Console) -> str:
    """APP000001 approved, APP000002 sharing its phone and account: tier B with a case."""
    first = console.api("POST", "/v1/applications", Role.UNDERWRITER, json=application_row(1))
    assert first.status_code == 201, first.text
    second = console.api("POST", "/v1/applications", Role.UNDERWRITER,
                         json=application_row(2, contact_phone="13800000001",
                                              bank_account="6222000000000000001"))
    assert second.status_code == 201, second.text
    body = second.json()
    assert body["tier"] == "B" and body["case_id"], body
    return str(body["case_id"])
