"""End to end on a small generated portfolio in the test Neo4j: graph, three-model
evaluation, saved champion, scoring one application with reasons, batch scoring.

Loaded once for the module through the session runner; no test here wipes the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from fraudgraph.settings import Settings
from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.data import APP, PortfolioGraph, load_graph
from gnn.evaluate import GBT_NEIGHBOURS, GBT_OWN, GNN, EvaluationRun, evaluate
from gnn.registry import LoadedModel, load_champion, mark, model_dir, save_model
from gnn.score import (
    ApplicationNotFound,
    GnnScore,
    explain,
    explain_flat,
    flat_neighbourhood,
    neighbourhood_graph,
    one_application,
    read_neighbourhood,
    read_neighbourhoods,
    score_application,
    score_applications,
    score_portfolio,
    write_hub_stats,
)
from gnn.train import predict
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.schema import LINK_KINDS
from ingest.load import backfill_link_kinds
from tests.gnn.graphs import load_generated

COUNT_APPLICANT = Query("test.gnn.count_applicant",
                        "MATCH (:Application)-[r:APPLICANT]->(:Person) RETURN count(r) AS c")
SCORED = Query("test.gnn.scored",
               "MATCH (a:Application) RETURN count(a) AS apps, count(a.gnn_score) AS scored, "
               "collect(DISTINCT a.gnn_model_version) AS versions, "
               "count(a.gnn_shadow_score) AS shadow")
STORED_LINK_KINDS = Query("test.gnn.link_kinds",
                          f"MATCH (a:Application) RETURN a.application_id AS id, "
                          f"a.{LINK_KINDS} AS kinds")
DROP_LINK_KINDS = Query("test.gnn.drop_link_kinds",
                        f"MATCH (a:Application) REMOVE a.{LINK_KINDS}")
CONFIG = GnnConfig(model=ModelConfig(hidden=32),
                   train=TrainConfig(epochs=10, batch_size=256, patience=5))


@pytest.fixture(scope="module")
def portfolio(_session_runner: QueryRunner, pseudo: Pseudonymiser,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryRunner]:
    yield load_generated(_session_runner, pseudo, tmp_path_factory.mktemp("gnn-portfolio"),
                         applications=3000, seed=11)


@pytest.fixture(scope="module")
def graph(portfolio: QueryRunner) -> PortfolioGraph:
    return load_graph(portfolio)


@pytest.fixture(scope="module")
def run(graph: PortfolioGraph) -> EvaluationRun:
    return evaluate(graph, CONFIG)


@pytest.fixture(scope="module")
def champion(run: EvaluationRun, graph: PortfolioGraph,
             tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, LoadedModel]:
    settings = Settings(var_dir=tmp_path_factory.mktemp("gnn-var"))
    root = model_dir(settings)
    meta = save_model(root, run.gnn.model, CONFIG, graph.spec, run.gnn.threshold,
                      {"applications": len(graph.apps)}, run.comparison.model_dump())
    mark(root, meta.version)
    return settings, load_champion(settings)


def test_graph_mirrors_neo4j(portfolio: QueryRunner, graph: PortfolioGraph) -> None:
    data = graph.data
    assert data[APP].num_nodes == 3000
    applicant = data[APP, "APPLICANT", "Person"].edge_index
    assert applicant.size(1) == portfolio.read(COUNT_APPLICANT)[0]["c"]
    assert int(data[APP].train_mask.sum()) > 0 and int(data[APP].test_mask.sum()) > 0
    assert not torch.isnan(data[APP].x).any()


def test_three_models_on_one_split(run: EvaluationRun) -> None:
    comparison = run.comparison
    assert set(comparison.models) == {GNN, GBT_OWN, GBT_NEIGHBOURS}
    for fig in comparison.models.values():
        assert fig.test.n == comparison.split["test"]
        assert fig.val.n == comparison.split["val"]
    assert comparison.best in comparison.models
    # The GNN learned something from the labels (its validation ranking beats chance).
    val = comparison.models[GNN].val
    assert val.roc_auc is not None and val.roc_auc > 0.6


def test_score_one_application_with_reasons(portfolio: QueryRunner, graph: PortfolioGraph,
                                            champion: tuple[Settings, LoadedModel]) -> None:
    _, model = champion
    fraud_ids = graph.apps["application_id"][graph.y == 1].tolist()
    results = [score_application(portfolio, i, model, shadow=model) for i in fraud_ids[:10]]
    for result in results:
        assert isinstance(result, GnnScore)
        assert 0.0 <= result.score <= 1.0 and result.model_version == model.version
        assert len(result.reasons) == len(result.reason_codes) <= 4
        assert result.shadow is not None
        assert result.shadow.score == pytest.approx(result.score, abs=1e-5)
    assert any(r.reason_codes for r in results)
    with pytest.raises(ApplicationNotFound):
        score_application(portfolio, "NO-SUCH-APPLICATION", model)


def test_flat_network_gives_the_networks_score_and_reasons(
        portfolio: QueryRunner, graph: PortfolioGraph,
        champion: tuple[Settings, LoadedModel]) -> None:
    _, model = champion
    net = one_application(model)
    assert net is not None
    for app_id in graph.apps["application_id"][:15]:
        hood = read_neighbourhood(portfolio, app_id, 10)
        expected = explain(model, *neighbourhood_graph(hood, model))
        got = explain_flat(model, net, *flat_neighbourhood(hood, model, net))
        assert got[0] == pytest.approx(expected[0], abs=1e-5)
        assert got[1:] == expected[1:]


def test_applications_scored_together_as_one_by_one(
        portfolio: QueryRunner, graph: PortfolioGraph,
        champion: tuple[Settings, LoadedModel]) -> None:
    _, model = champion
    ids = graph.apps["application_id"].tolist()
    fraud = graph.apps["application_id"][graph.y == 1].tolist()
    # Fraud ones have reasons to compare; a ring's members share neighbours.
    chosen = [*fraud[:8], *ids[100:106], "NO-SUCH-APPLICATION"]
    together = score_applications(portfolio, chosen, model, shadow=model)
    assert list(together) == chosen[:-1]  # the missing id is left out, not an error
    for app_id, result in together.items():
        alone = score_application(portfolio, app_id, model, shadow=model)
        assert result.score == pytest.approx(alone.score, abs=1e-5), app_id
        assert (result.reason_codes, result.reasons) == (alone.reason_codes, alone.reasons)
        assert result.shadow is not None and alone.shadow is not None
        assert result.shadow.score == pytest.approx(alone.shadow.score, abs=1e-5)
    assert any(r.reason_codes for r in together.values())
    assert score_applications(portfolio, [], model) == {}


def _neighbour_kinds(hoods: dict[str, dict[str, Any]]) -> dict[tuple[str, ...], set[str]]:
    return {(app_id, link["node"], other["app"]["application_id"]): set(other["app"]["links"])
            for app_id, hood in hoods.items() for link in hood["links"]
            for other in link["neighbours"]}


def test_stored_link_kinds_read_as_walking_the_relationships(
        portfolio: QueryRunner, graph: PortfolioGraph,
        champion: tuple[Settings, LoadedModel]) -> None:
    _, model = champion
    written = {row["id"]: row["kinds"] for row in portfolio.read(STORED_LINK_KINDS)}
    assert len(written) == 3000 and all(written.values())  # ingest wrote every one
    chosen = [*graph.apps["application_id"][graph.y == 1].tolist()[:6],
              *graph.apps["application_id"][200:206].tolist()]
    stored = (read_neighbourhoods(portfolio, chosen, 10),
              score_applications(portfolio, chosen, model))
    # A graph loaded before ingest wrote them: the read walks each neighbour's links.
    portfolio.write(DROP_LINK_KINDS)
    walked = (read_neighbourhoods(portfolio, chosen, 10),
              score_applications(portfolio, chosen, model))
    kinds = _neighbour_kinds(stored[0])
    assert len(kinds) > 50 and kinds == _neighbour_kinds(walked[0])
    for app_id in chosen:
        assert stored[1][app_id].score == pytest.approx(walked[1][app_id].score, abs=1e-6)
        assert stored[1][app_id].reason_codes == walked[1][app_id].reason_codes
    assert backfill_link_kinds(portfolio, batch_size=700) == 3000
    assert {row["id"]: row["kinds"] for row in portfolio.read(STORED_LINK_KINDS)} == written
    assert backfill_link_kinds(portfolio) == 0


def test_single_scores_agree_with_the_batch_path(portfolio: QueryRunner,
                                                 graph: PortfolioGraph,
                                                 champion: tuple[Settings, LoadedModel]
                                                 ) -> None:
    _, model = champion
    rows = np.random.default_rng(0).choice(len(graph.apps), 40, replace=False)
    batch = predict(model.model, graph.data, torch.from_numpy(rows), model.meta.config)
    single = [score_application(portfolio, graph.apps["application_id"][i], model).score
              for i in rows]
    assert spearmanr(batch, single).statistic > 0.8


def test_stored_hub_statistics_match_a_full_scan(portfolio: QueryRunner,
                                                 graph: PortfolioGraph) -> None:
    app_id = graph.apps["application_id"][7]
    scan = read_neighbourhood(portfolio, app_id, 10, hub_cap=10**9)["links"]
    exact = {(x["rel"], x["node"]): x for x in scan}
    assert not any(x["stored"] for x in scan)
    # With a cap of 1 every shared identifier is a hub: store, then read them back.
    assert write_hub_stats(portfolio, hub_cap=1) > 0
    stored = read_neighbourhood(portfolio, app_id, 10, hub_cap=1)["links"]
    assert any(link["stored"] for link in stored)
    for link in stored:
        full = exact[(link["rel"], link["node"])]
        assert link["stored"] == (link["link_count"] > 1)
        assert (link["first_ts"], link["last_ts"], link["dealers"]) == (
            full["first_ts"], full["last_ts"], full["dealers"])
        # Live link count; a scan counts distinct applications (one may link twice).
        assert full["degree"] <= link["degree"] <= full["degree"] + 1


def test_score_portfolio_writes_every_application(portfolio: QueryRunner,
                                                  champion: tuple[Settings, LoadedModel]
                                                  ) -> None:
    _, model = champion
    assert score_portfolio(portfolio, model, shadow=model, batch_size=1000) == 3000
    row = portfolio.read(SCORED)[0]
    assert row["scored"] == row["apps"] == 3000 == row["shadow"]
    assert row["versions"] == [model.version]


def test_cli_commands_registered() -> None:
    from typer.testing import CliRunner

    from fraudgraph.cli import app

    result = CliRunner().invoke(app, ["--help"])
    for command in ("train", "evaluate", "score-portfolio", "score", "promote"):
        assert command in result.output


def test_model_dir_setting(tmp_path: Path) -> None:
    assert model_dir(Settings(var_dir=tmp_path)) == tmp_path / "models"
    assert model_dir(Settings(var_dir=tmp_path, gnn_model_dir=tmp_path / "m")) == \
        tmp_path / "m"
