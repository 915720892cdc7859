"""Ring features in the product: read from the latest detection run at training, read
the same way when one application is scored, saved in the model's schema.

One small generated portfolio, ring detection written back, and one application added
after the run (its ring comes from the incremental assignment). The module's data is
loaded once; no test here wipes the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from fraudgraph.settings import Settings
from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.data import APP, GRAPH_RELS, PortfolioGraph, build_graph, load_graph, read_portfolio
from gnn.evaluate import evaluate
from gnn.promotion import register_run
from gnn.registry import LoadedModel, ModelMeta, SchemaMismatch, load_model, model_dir
from gnn.ring_features import RING_FEATURES, application_ring, resolve_ring, ring_row
from gnn.score import (
    flat_neighbourhood,
    one_application,
    read_neighbourhood,
    score_application,
    score_applications,
)
from gnn.train import make_model
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from rings.config import RingConfig
from rings.detect import run_detection
from rings.incremental import score_application as ring_score
from tests.gnn.graphs import load_generated

MEMBER = Query("test.gnn.rings.member",
               "MATCH (a:Application)-[:MEMBER_OF]->(g:Ring) WHERE g.size >= 3 "
               "RETURN a.application_id AS id ORDER BY g.score DESC, id LIMIT 1")
# A copy of a ring member with no label, submitted in the very second the run started:
# whole seconds cannot say it came after, so it must still count as unseen by the run
# (a copy made just after a quick detection lands there anyway, which once made this flaky).
COPY_APP = Query(
    "test.gnn.rings.copy_app",
    "MATCH (d:DetectionRun) WITH max(d.started_at) AS started "
    "MATCH (m:Application {application_id: $member}) "
    "CREATE (n:Application {application_id: $new}) "
    "SET n += m {.*, application_id: $new, submitted_at: started} "
    "REMOVE n.label, n.labeled_at")
COPY_LINKS = {rel: Query(f"test.gnn.rings.copy_{rel.value.lower()}",
                         f"MATCH (m:Application {{application_id: $member}})-[:{rel.value}]->(i) "
                         f"MATCH (n:Application {{application_id: $new}}) "
                         f"CREATE (n)-[:{rel.value}]->(i)") for rel in GRAPH_RELS}
NEW_APP = "APP-AFTER-RUN"
CONFIG = GnnConfig(model=ModelConfig(hidden=16),
                   train=TrainConfig(epochs=3, batch_size=256, patience=2))


@pytest.fixture(scope="module")
def portfolio(_session_runner: QueryRunner, pseudo: Pseudonymiser,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[QueryRunner]:
    runner = load_generated(_session_runner, pseudo, tmp_path_factory.mktemp("gnn-rings"),
                            applications=2000, seed=5)
    run_detection(runner, RingConfig())
    member = runner.read(MEMBER)[0]["id"]
    runner.write(COPY_APP, member=member, new=NEW_APP)
    for query in COPY_LINKS.values():
        runner.write(query, member=member, new=NEW_APP)
    yield runner


@pytest.fixture(scope="module")
def graph(portfolio: QueryRunner) -> PortfolioGraph:
    return load_graph(portfolio)


def _untrained(pg: PortfolioGraph) -> LoadedModel:
    model = make_model(pg.data, APP, CONFIG).eval()
    meta = ModelMeta(version="t", created_at="", target=APP, threshold=0.5, config=CONFIG,
                     spec=pg.spec, schema_fingerprint=pg.spec.fingerprint(), training={},
                     metrics={})
    return LoadedModel(model, meta)


def test_ring_score_without_its_label_reasons() -> None:
    ring = {"size": 4, "window_days": 6.0, "shared_kinds": 3, "density": 0.5,
            "reason_codes": ["KNOWN_FRAUD", "TIME_BURST", "FIRST_PAYMENT_DEFAULT"],
            "reason_points": [40.0, 15.0, 20.0]}
    cleared = {**ring, "reason_codes": ["CLEARED_LEGIT", "TIME_BURST"],
               "reason_points": [-30.0, 15.0]}
    assert ring_row(ring) == ring_row(cleared)
    assert ring_row(ring)[:3] == [1.0, pytest.approx(np.log1p(4)), pytest.approx(0.15)]
    assert ring_row(None) == [0.0] * len(RING_FEATURES)


def test_training_reads_the_latest_run(portfolio: QueryRunner,
                                       graph: PortfolioGraph) -> None:
    assert graph.spec.has_ring_features
    member = graph.own[:, -len(RING_FEATURES)]
    assert 0 < member.sum() < len(member)
    assert graph.data[APP].x.shape[1] == len(graph.spec.app_features)
    without = load_graph(portfolio, rings=False)
    assert not without.spec.has_ring_features
    assert without.spec.fingerprint() != graph.spec.fingerprint()


def test_training_and_scoring_compute_the_same_features(portfolio: QueryRunner,
                                                        graph: PortfolioGraph) -> None:
    loaded = _untrained(graph)
    net = one_application(loaded)
    assert net is not None
    ids = graph.apps["application_id"]
    ring_col = graph.own[:, -len(RING_FEATURES)]
    chosen = [NEW_APP, *ids[ring_col == 1][:5], *ids[ring_col == 0][:5]]
    for app_id in chosen:
        i = int(np.flatnonzero(ids == app_id)[0])
        hood = read_neighbourhood(portfolio, app_id, 10, rings=True)
        hood["app"]["ring"] = resolve_ring(portfolio, app_id, hood["app"]["ring"],
                                           hood["app"]["after_run"])
        flat, _ = flat_neighbourhood(hood, loaded, net)
        # Every application feature, ring ones included, scaled as in training.
        assert torch.allclose(flat.x_app[0], graph.data[APP].x[i], atol=1e-5), app_id
        assert ring_row(application_ring(portfolio, app_id)) == pytest.approx(
            graph.own[i, -len(RING_FEATURES):].tolist())
    # The application added after the run joined its ring through the incremental rule.
    new = int(np.flatnonzero(ids == NEW_APP)[0])
    assert graph.own[new, -len(RING_FEATURES)] == 1.0


def test_a_ring_model_saves_loads_and_scores(portfolio: QueryRunner, graph: PortfolioGraph,
                                             tmp_path: Path) -> None:
    run = evaluate(graph, CONFIG)
    settings = Settings(var_dir=tmp_path)
    outcome = register_run(settings, graph, run, CONFIG, "gnn")
    loaded = load_model(model_dir(settings), outcome.version)
    assert loaded.spec.has_ring_features
    match = ring_score(portfolio, NEW_APP, RingConfig())
    first = score_application(portfolio, NEW_APP, loaded)
    given = score_application(portfolio, NEW_APP, loaded, ring_match=match)
    assert first.score == pytest.approx(given.score, abs=1e-6)
    # Scored together with others (one read, one pass), each as it scores alone.
    ids = [NEW_APP, *graph.apps["application_id"][:5]]
    together = score_applications(portfolio, ids, loaded)
    for app_id in ids:
        alone = score_application(portfolio, app_id, loaded)
        assert together[app_id].score == pytest.approx(alone.score, abs=1e-5)
        assert together[app_id].reason_codes == alone.reason_codes
    # The feature schema is checked: a graph without ring features is refused.
    with pytest.raises(SchemaMismatch):
        loaded.check(load_graph(portfolio, rings=False).spec)
    with pytest.raises(ValueError, match="ring features"):
        build_graph(*read_portfolio(portfolio), spec=loaded.spec)
    # The LightGBM baselines take them too, read the same way for one application.
    gbt = register_run(settings, graph, run, CONFIG, "gbt_own")
    tree = load_model(model_dir(settings), gbt.version)
    assert tree.meta.feature_names[-len(RING_FEATURES):] == list(RING_FEATURES)
    assert 0.0 <= score_application(portfolio, NEW_APP, tree).score <= 1.0
