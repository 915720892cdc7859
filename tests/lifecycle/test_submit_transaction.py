"""A submission is one transaction against the real Neo4j: it commits whole or not at all,
scorers read the application it has just written, and a scorer's failed read costs
only that scorer's signal."""

from __future__ import annotations

from pathlib import Path

import pytest

from fraudgraph.settings import Settings
from gnn.baselines import GBT_OWN
from gnn.config import GnnConfig, ModelConfig, TrainConfig
from gnn.data import load_graph
from gnn.evaluate import GNN, evaluate
from gnn.promotion import register_run
from graph.runner import Query, QueryRunner
from ingest import load, records
from lifecycle import decision
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, PolicyError
from lifecycle.policy import DEFAULT_POLICY
from lifecycle.scorers import gnn_scorer
from lifecycle.signals import ScoreSignal
from tests.gnn.graphs import own_signal_tables
from tests.gnn.neo4j_tables import write_tables
from tests.lifecycle.conftest import app, count, submit
from tests.utils import application_row

ALL_NODES = Query("test.submit_tx.nodes", "MATCH (n) RETURN count(n) AS n")
CONFLICTING_POLICY = Query(
    "test.submit_tx.policy",
    "CREATE (:Policy {version: $version, body: $body, active: false})",
)
LOAN_AMOUNT = Query(
    "test.submit_tx.loan_amount",
    "MATCH (a:Application {application_id: $id}) RETURN a.loan_amount AS loan_amount",
)
DIVIDE_BY_ZERO = Query("test.submit_tx.fails", "UNWIND [0] AS z RETURN 1 / z AS x")


def _nodes(runner: QueryRunner) -> int:
    return int(runner.read(ALL_NODES)[0]["n"])


def test_a_submission_that_fails_before_commit_leaves_nothing_written(
        ctx: Lifecycle) -> None:
    # The decision's last statement finds the policy version stored with another body:
    # the upsert, identifiers, transitions and audit event all go with it.
    changed = DEFAULT_POLICY.model_copy(update={"hub_cap": DEFAULT_POLICY.hub_cap + 1})
    ctx.runner.write(CONFLICTING_POLICY, version=DEFAULT_POLICY.version,
                     body=changed.to_json())
    before = _nodes(ctx.runner)
    with pytest.raises(PolicyError, match="different body"):
        submit(ctx, 1)
    assert _nodes(ctx.runner) == before == 1
    assert count(ctx.runner, "Application") == 0 and count(ctx.runner, "Phone") == 0


def test_scorers_see_the_submission_and_a_failed_read_costs_only_that_signal(
        ctx: Lifecycle) -> None:
    def failing(runner, application_id):  # type: ignore[no-untyped-def]
        try:
            runner.read(DIVIDE_BY_ZERO)
        except Exception as exc:  # as the adapters do: never raise
            return ScoreSignal.unavailable("ring", "U_RING_FAILED", type(exc).__name__)
        raise AssertionError("the query should have failed")

    def reading(runner, application_id):  # type: ignore[no-untyped-def]
        # The application is not committed yet: only the submission's transaction sees it.
        rows = runner.read(LOAN_AMOUNT, id=application_id)
        return ScoreSignal(source="gnn", available=True, score=0.01,
                           detail={"loan_amount": rows[0]["loan_amount"]})

    ctx.scorers = [failing, reading]
    d = submit(ctx, 1)
    ring, gnn = d.signals.score("ring"), d.signals.score("gnn")
    assert not ring.available and ring.unavailable_reason == "QueryError"
    assert gnn.available and gnn.detail == {"loan_amount": 90000.0}
    assert d.tier == "A" and app(ctx.runner, "APP000001")["status"] == "approved"
    assert count(ctx.runner, "Decision") == 1 and count(ctx.runner, "Transition") == 2


def test_an_ingested_application_is_decided_once(ctx: Lifecycle) -> None:
    record = records.to_application(application_row(1), ctx.pseudo, ctx.clock().date())
    with ctx.runner.transaction() as tx:
        load.write_applications(tx, [record], run_id="test")
    d = decision.decide_application(ctx, "APP000001")
    assert d.tier == "A" and d.seq == 1 and d.decision_id == "APP000001#D1"
    assert app(ctx.runner, "APP000001")["status"] == "approved"
    with pytest.raises(IllegalTransition, match="'approved' to 'screened'"):
        decision.decide_application(ctx, "APP000001")
    assert count(ctx.runner, "Decision") == 1


def test_the_gnn_scores_the_submission_inside_its_transaction(ctx: Lifecycle,
                                                              tmp_path: Path) -> None:
    # A champion GNN and a challenger in shadow: both read the application's neighbourhood
    # before it is committed, and the challenger's score is written in the same transaction.
    apps, links = own_signal_tables(n=200)
    write_tables(ctx.runner, apps, links)
    pg = load_graph(ctx.runner)
    config = GnnConfig(model=ModelConfig(hidden=16), train=TrainConfig(epochs=2))
    run = evaluate(pg, config)
    settings = Settings(var_dir=tmp_path)
    register_run(settings, pg, run, config, GNN)
    register_run(settings, pg, run, config, GBT_OWN, challenger=True)
    ctx.scorers = [gnn_scorer(settings)]
    d = submit(ctx, 1)
    gnn = d.signals.score("gnn")
    assert gnn.available and gnn.score is not None and gnn.version
    stored = app(ctx.runner, "APP000001")
    assert stored["gnn_score"] == pytest.approx(gnn.score)
    assert stored["gnn_shadow_score"] == pytest.approx(gnn.detail["shadow_score"])
