"""Which model ships: the GNN only where it beats both baselines; otherwise the better
baseline is registered, loads with a schema check, scores one application from Neo4j
with reasons from its feature contributions, and the promotion code picks it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from fraudgraph.settings import Settings
from gnn.baseline_score import gbt_row, read_gbt_row
from gnn.baselines import GBT_NEIGHBOURS, GBT_OWN, gbt_feature_names, gbt_features
from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.data import APP, build_graph, load_graph
from gnn.evaluate import GNN, evaluate
from gnn.promotion import register_run
from gnn.registry import (
    LoadedModel,
    ModelMeta,
    ModelNotFound,
    SchemaMismatch,
    load_challenger,
    load_champion,
    load_model,
    model_dir,
)
from gnn.score import score_application, score_portfolio, write_shadow_score
from graph.runner import Query, QueryRunner
from lifecycle.scorers import gnn_scorer
from tests.gnn.graphs import own_signal_tables, ring_tables
from tests.gnn.neo4j_tables import write_tables

CONFIG = GnnConfig(model=ModelConfig(hidden=16),
                   train=TrainConfig(epochs=25, batch_size=128, lr=0.01, patience=10))
SCORED = Query("test.gnn.champion_scored",
               "MATCH (a:Application) RETURN count(a.gnn_score) AS scored, "
               "collect(DISTINCT a.gnn_model_version) AS versions")


def test_gnn_ships_where_it_beats_both_baselines(tmp_path: Path) -> None:
    pg = build_graph(*ring_tables())
    run = evaluate(pg, CONFIG)
    figures = run.comparison.models
    # Only the device's dealer mix separates rings from families: the GNN reads it.
    assert figures[GNN].val.average_precision > figures[GBT_NEIGHBOURS].val.average_precision
    assert run.comparison.gnn_is_champion and run.comparison.ship == GNN
    settings = Settings(var_dir=tmp_path)
    outcome = register_run(settings, pg, run, CONFIG, run.comparison.ship)
    assert (outcome.kind, outcome.role, outcome.saved) == (GNN, "champion", (outcome.version,))
    assert load_champion(settings).kind == GNN


def test_the_better_baseline_ships_and_scores_from_neo4j(runner: QueryRunner,
                                                          tmp_path: Path) -> None:
    apps, links = own_signal_tables()
    write_tables(runner, apps, links)
    pg = load_graph(runner)
    run = evaluate(pg, CONFIG)
    assert not run.comparison.gnn_is_champion
    assert run.comparison.ship in (GBT_OWN, GBT_NEIGHBOURS)
    settings = Settings(var_dir=tmp_path)
    outcome = register_run(settings, pg, run, CONFIG, run.comparison.ship)
    assert outcome.kind == run.comparison.ship and outcome.role == "champion"
    assert len(outcome.saved) == 2  # the GNN is kept beside it
    champion = load_champion(settings)
    assert champion.kind == run.comparison.ship and champion.version == outcome.version

    y = pg.y
    fraud_id = pg.apps["application_id"][np.flatnonzero(y == 1)[-1]]
    legit_id = pg.apps["application_id"][np.flatnonzero(y == 0)[-1]]
    gnn = load_model(model_dir(settings), outcome.saved[0])
    fraud = score_application(runner, fraud_id, champion, shadow=gnn)
    legit = score_application(runner, legit_id, champion)
    assert fraud.model_version == champion.version and fraud.flagged and not legit.flagged
    assert fraud.score > legit.score
    # The loan above the price shows as a high loan-to-value or a missing down payment.
    assert {"APP_LOAN_TO_VALUE_HIGH", "APP_LOG_DOWN_LOW", "APP_DOWN_SHARE_LOW"} & set(
        fraud.reason_codes)
    assert len(fraud.reasons) == len(fraud.reason_codes) <= 4
    assert fraud.shadow is not None and fraud.shadow.model_version == gnn.version
    assert score_portfolio(runner, champion) == len(apps)
    assert runner.read(SCORED)[0] == {"scored": len(apps), "versions": [champion.version]}


def test_a_baseline_with_other_columns_is_refused(tmp_path: Path) -> None:
    pg = build_graph(*own_signal_tables(n=200))
    run = evaluate(pg, CONFIG.model_copy(update={"train": TrainConfig(epochs=2)}))
    settings = Settings(var_dir=tmp_path)
    outcome = register_run(settings, pg, run, CONFIG, GBT_NEIGHBOURS)
    assert outcome.kind == GBT_NEIGHBOURS
    assert load_champion(settings).meta.feature_names == gbt_feature_names(
        GBT_NEIGHBOURS, pg.spec.link_rels)
    meta = outcome.path / "meta.json"
    data = json.loads(meta.read_text())
    data["feature_names"][-1] = "hop3_train_fraud"
    meta.write_text(json.dumps(data))
    with pytest.raises(SchemaMismatch, match="hop3_train_fraud"):
        load_champion(settings)
    assert load_challenger(settings) is None


def test_one_application_read_from_neo4j_gets_the_batch_features(runner: QueryRunner
                                                                 ) -> None:
    apps, links = ring_tables(groups=60, seed=3)
    apps["labeled_ts"] = apps["ts"] + 60  # known a minute later: ring-mates count
    write_tables(runner, apps, links)
    pg = load_graph(runner)
    batch = gbt_features(pg, GBT_NEIGHBOURS, pg.data[APP].labelled.numpy())
    names = gbt_feature_names(GBT_NEIGHBOURS, pg.spec.link_rels)
    meta = ModelMeta(version="t", created_at="", target=APP, threshold=0.5,
                     config=CONFIG, spec=pg.spec, schema_fingerprint=pg.spec.fingerprint(),
                     training={}, metrics={}, kind=GBT_NEIGHBOURS, feature_names=names)
    loaded = LoadedModel(model=None, meta=meta)  # type: ignore[arg-type]
    # Some labels are known before later submissions, so label counts are not all zero.
    assert batch[:, names.index("hop2_train_fraud")].max() > 0
    for i in range(len(apps)):
        row = read_gbt_row(runner, pg.apps["application_id"][i])
        assert row is not None
        np.testing.assert_allclose(gbt_row(row, loaded)[0], batch[i], rtol=1e-5, atol=1e-4,
                                   err_msg=str(pg.apps["application_id"][i]))


SHADOW = Query("test.gnn.shadow",
               "MATCH (a:Application {application_id: $id}) RETURN a.gnn_shadow_score AS "
               "score, a.gnn_shadow_model_version AS version, a.gnn_score AS champion")


def test_a_challenger_scores_in_shadow_and_changes_nothing(runner: QueryRunner,
                                                           tmp_path: Path) -> None:
    apps, links = own_signal_tables(n=200)
    write_tables(runner, apps, links)
    pg = load_graph(runner)
    run = evaluate(pg, CONFIG.model_copy(update={"train": TrainConfig(epochs=2)}))
    settings = Settings(var_dir=tmp_path)
    # `fraudgraph train --challenger` on an empty registry: a challenger, no champion.
    first = register_run(settings, pg, run, CONFIG, GNN, challenger=True)
    assert first.role == "challenger" and load_champion_or_none(settings) is None
    register_run(settings, pg, run, CONFIG, GNN)  # no champion yet: this one is it
    champion = load_champion(settings)
    register_run(settings, pg, run, CONFIG, GBT_OWN, challenger=True)
    challenger = load_challenger(settings)
    assert challenger is not None and challenger.kind == GBT_OWN
    for app_id in pg.apps["application_id"][:20]:
        alone = score_application(runner, app_id, champion)
        both = score_application(runner, app_id, champion, shadow=challenger)
        # What the decision reads is the champion's alone, whatever the challenger says.
        assert both.model_dump(exclude={"shadow"}) == alone.model_dump(exclude={"shadow"})
        assert both.shadow is not None and both.shadow.model_version == challenger.version
        assert write_shadow_score(runner, both)
        stored = runner.read(SHADOW, id=app_id)[0]
        assert stored == {"score": pytest.approx(both.shadow.score),
                          "version": challenger.version, "champion": None}
    assert not write_shadow_score(runner, alone)
    # The decision path's adapter: the champion's score decides, the challenger's is stored.
    app_id = pg.apps["application_id"][20]
    signal = gnn_scorer(settings)(runner, app_id)
    alone = score_application(runner, app_id, champion)
    assert signal.available and signal.version == champion.version
    assert signal.score == pytest.approx(alone.score)
    assert signal.detail["shadow_version"] == challenger.version
    stored = runner.read(SHADOW, id=app_id)[0]
    assert stored["version"] == challenger.version
    assert stored["score"] == pytest.approx(signal.detail["shadow_score"])
    # A batch of submissions: every application's shadow score is stored, none decides.
    batch = list(pg.apps["application_id"][21:25])
    signals = gnn_scorer(settings).score_many(runner, batch)
    for app_id in batch:
        assert signals[app_id].score == pytest.approx(
            score_application(runner, app_id, champion).score)
        stored = runner.read(SHADOW, id=app_id)[0]
        assert stored == {"score": pytest.approx(signals[app_id].detail["shadow_score"]),
                          "version": challenger.version, "champion": None}


def load_champion_or_none(settings: Settings) -> LoadedModel | None:
    try:
        return load_champion(settings)
    except ModelNotFound:
        return None


def test_the_decision_scores_with_the_configured_fanout(runner: QueryRunner,
                                                        tmp_path: Path) -> None:
    apps, links = ring_tables(groups=40)
    write_tables(runner, apps, links)
    pg = load_graph(runner)
    run = evaluate(pg, CONFIG.model_copy(update={"train": TrainConfig(epochs=2)}))
    settings = Settings(var_dir=tmp_path, gnn_score_fanout=1)
    register_run(settings, pg, run, CONFIG, GNN)
    champion = load_champion(settings)
    ids = list(pg.apps["application_id"][:60])
    # Applications whose score depends on how many neighbours are read, so that the
    # comparison below can tell the configured fanout from the default.
    differ = [i for i in ids if score_application(runner, i, champion, 1).score
              != pytest.approx(score_application(runner, i, champion, 10).score)]
    assert differ
    scorer = gnn_scorer(settings)
    for app_id in differ[:5]:
        assert scorer(runner, app_id).score == pytest.approx(
            score_application(runner, app_id, champion, 1).score)
