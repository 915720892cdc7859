"""The console against the real API over the real test Neo4j.

The API runs under uvicorn in a background thread on a free local port for the module;
every test starts from a wiped database (the ``runner`` fixture) with one user per role,
and drives ``investigator_ui/app.py`` with Streamlit's ``AppTest``.

The API reads its models from a folder of the session (empty: no model registered);
``registered_models`` puts a champion and a challenger there, trained for real once per
session on a small in-memory graph (a few seconds), and takes them away afterwards.
"""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
import uvicorn
from pydantic import SecretStr
from streamlit.testing.v1 import AppTest

from api.main import create_app
from api.roles import Role
from api.security import add_user
from fraudgraph.settings import Settings
from graph.runner import Query, QueryRunner
from graph.schema import Rel
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
def live_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the live API looks for models: the session's own, empty unless a test puts
    models there (never var/, which other test sessions share)."""
    return tmp_path_factory.mktemp("console-models")


@pytest.fixture(scope="session")
def api_settings(neo4j_server: Settings, live_model_dir: Path) -> Settings:
    """As tests/api's fixture of the same name (the signing secret ``auth`` uses). Nothing
    is cached between requests: every test starts from another database."""
    return neo4j_server.model_copy(update={"jwt_secret": SecretStr(JWT_SECRET),
                                           "gnn_model_dir": live_model_dir,
                                           "api_cache_seconds": 0.0})


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


#: A model small enough to train in seconds; the figures are real, not good.
MODEL_CONFIG_HIDDEN, MODEL_EPOCHS = 8, 5


def model_tables() -> tuple[pd.DataFrame, dict[Rel, pd.DataFrame]]:
    """The gnn tests' ring graph (60 groups of four over a year, 30% rings) the models
    learn from and score; its dealers renamed MD0-MD11 so they never merge with a seed's
    D1 and D2."""
    from tests.gnn.graphs import ring_tables

    apps, links = ring_tables(groups=60)
    apps = apps.assign(dealer_id="M" + apps["dealer_id"])
    links[Rel.SUBMITTED_VIA] = links[Rel.SUBMITTED_VIA].assign(node=apps["dealer_id"])
    return apps, links


def write_model_portfolio(runner: QueryRunner) -> pd.DataFrame:
    """The models' ring graph written into Neo4j as the gnn tests write it; its
    applications."""
    from tests.gnn.neo4j_tables import write_tables

    apps, links = model_tables()
    write_tables(runner, apps, links)
    return apps


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of models as ``fraudgraph train`` leaves it, trained once per session on
    ``model_tables`` (in memory): the shipped model champion, the other of the GNN and the
    own-features baseline challenger, both beside the baselines' figures."""
    from gnn.config import GnnConfig, ModelConfig, TrainConfig
    from gnn.data import build_graph
    from gnn.evaluate import GBT_OWN, GNN, evaluate
    from gnn.promotion import register_run
    from gnn.registry import mark, model_dir, save_gbt

    config = GnnConfig(model=ModelConfig(hidden=MODEL_CONFIG_HIDDEN),
                       train=TrainConfig(epochs=MODEL_EPOCHS, batch_size=128, lr=0.01,
                                         patience=3))
    settings = Settings(var_dir=tmp_path_factory.mktemp("console-trained"))
    graph = build_graph(*model_tables())
    run = evaluate(graph, config)
    shipped = register_run(settings, graph, run, config, run.comparison.ship)
    root = model_dir(settings)
    if shipped.kind == GNN:  # the baseline was not saved: save it as the challenger
        challenger = save_gbt(root, run.gbt_own, GBT_OWN, config, graph.spec,
                              {"applications": len(graph.apps)}, run.comparison.model_dump())
        mark(root, challenger.version, "challenger")
    else:  # a baseline shipped and the GNN was kept beside it
        mark(root, shipped.saved[0], "challenger")
    return root


@pytest.fixture
def registered_models(trained_models: Path, live_model_dir: Path,
                      api_settings: Settings) -> Iterator[Settings]:
    """The trained champion and challenger registered with the live API for one test;
    the settings that find them."""
    shutil.copytree(trained_models, live_model_dir, dirs_exist_ok=True)
    yield api_settings
    clear_models(live_model_dir)


def clear_models(folder: Path) -> None:
    for path in folder.iterdir():
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def score_with_champion(runner: QueryRunner, settings: Settings) -> int:
    """Score every application with the registered champion, as ``fraudgraph
    score-portfolio`` does; how many were scored."""
    from gnn.registry import load_champion
    from gnn.score import score_portfolio

    return score_portfolio(runner, load_champion(settings))
