"""Submissions decided together (one transaction) get exactly the decisions they get
one by one, and a failure in the shared transaction is only its own submission's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from fraudgraph.settings import Settings
from gnn.config import GnnConfig, ModelConfig
from gnn.data import APP, load_graph
from gnn.registry import load_champion, mark, model_dir, save_model
from gnn.score import score_application
from gnn.train import make_model
from graph.runner import Query, QueryRunner
from graph.schema import LINK_KINDS, ROW_RELS
from lifecycle import decision
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition
from lifecycle.scorers import GnnScorer
from lifecycle.signals import ScoreSignal
from tests.lifecycle.conftest import app, count
from tests.utils import application_row

WIPE = Query("test.together.wipe", "MATCH (n) DETACH DELETE n")
DECISIONS = Query(
    "test.together.decisions",
    "MATCH (a:Application)-[:HAS_DECISION]->(d:Decision) "
    "RETURN a.application_id AS id, count(d) AS n ORDER BY id",
)
# What a submission stores of its links for the GNN's reads: the types of its row links.
STORED_KINDS = Query(
    "test.together.link_kinds",
    f"MATCH (a:Application) RETURN a.{LINK_KINDS} AS kinds, COLLECT {{ "
    "MATCH (a)-[r]->() WHERE type(r) IN $rels RETURN DISTINCT type(r) AS t ORDER BY t } AS links",
)

# Five applications: the last three on one tablet with two earlier applicants each, so
# the device velocity rule (R109) fires for the later ones, and one with an instalment
# above half the income (R110): the batch must see what the earlier submissions wrote.
ROWS = [application_row(1), application_row(2, device_id="tablet-7"),
        application_row(3, device_id="tablet-7"), application_row(4, device_id="tablet-7"),
        application_row(5, loan_amount="400000", monthly_income="8000")]


def _essence(d: decision.Decision) -> tuple[object, ...]:
    hits = [(h.code, h.reason) for h in d.signals.rule_hits] if d.signals else []
    return (d.application_id, d.tier, d.outcome, d.points,
            [r.code for r in d.reasons], hits, d.seq, d.case_id is not None)


def test_decided_together_as_one_by_one(ctx: Lifecycle, runner: QueryRunner) -> None:
    alone = [decision.submit_application(ctx, row) for row in ROWS]
    runner.write(WIPE)
    together = decision.submit_together(ctx, [decision.prepare(ctx, row) for row in ROWS])
    assert all(isinstance(d, decision.Decision) for d in together)
    assert [_essence(d) for d in together] == [_essence(d) for d in alone]  # type: ignore[arg-type]
    assert {d.tier for d in alone} >= {"A", "B"}, "the rows should reach two tiers"
    assert "R109" in [h[0] for h in _essence(alone[3])[5]]  # type: ignore[index]
    assert runner.read(DECISIONS) == [{"id": f"APP{n:06d}", "n": 1} for n in range(1, 6)]
    assert count(runner, "AuditEvent") == len(alone) + sum(d.case_id is not None for d in alone)
    stored = runner.read(STORED_KINDS, rels=[rel.value for rel in ROW_RELS])
    assert len(stored) == 5
    assert all(row["kinds"] and row["kinds"] == row["links"] for row in stored)


def test_a_resubmission_fails_alone_and_its_upsert_is_undone(ctx: Lifecycle,
                                                             runner: QueryRunner) -> None:
    decision.submit_application(ctx, ROWS[0])
    again = decision.prepare(ctx, {**ROWS[0], "loan_amount": "50000"})
    outcomes = decision.submit_together(
        ctx, [again, decision.prepare(ctx, ROWS[1]), decision.prepare(ctx, ROWS[2])])
    assert isinstance(outcomes[0], IllegalTransition)
    assert [o.application_id for o in outcomes[1:]] == ["APP000002", "APP000003"]  # type: ignore[union-attr]
    assert app(runner, "APP000001")["loan_amount"] == 90000.0
    assert [r["n"] for r in runner.read(DECISIONS)] == [1, 1, 1]


def test_neo4j_down_is_every_submissions_answer(ctx: Lifecycle,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from graph.runner import DatabaseUnavailable

    calls = []

    def down(work):  # type: ignore[no-untyped-def]
        calls.append(work)
        raise DatabaseUnavailable("Neo4j at bolt://test does not answer")

    monkeypatch.setattr(ctx.runner, "write_work", down)
    outcomes = decision.submit_together(ctx, [decision.prepare(ctx, r) for r in ROWS[:3]])
    assert all(isinstance(o, DatabaseUnavailable) for o in outcomes)
    assert len(calls) == 1, "a database that does not answer is not asked three more times"


def _untrained_champion(ctx: Lifecycle, tmp_path: Path) -> Settings:
    """An untrained R-GCN (random weights), its feature scaling taken from submissions
    like the test's (a graph of other rows puts these far out and every score at 1.0),
    promoted; the graph is then wiped for the test's own submissions."""
    for n in range(100, 130):
        decision.submit_application(ctx, application_row(n, device_id=f"tab{n % 4}"))
    pg = load_graph(ctx.runner)
    torch.manual_seed(0)
    config = GnnConfig(model=ModelConfig(hidden=16))
    settings = Settings(var_dir=tmp_path)
    root = model_dir(settings)
    mark(root, save_model(root, make_model(pg.data, APP, config).eval(), config, pg.spec,
                          0.5, {}, {}).version)
    ctx.runner.write(WIPE)
    return settings


def test_the_gnn_scores_a_batch_at_once_as_it_scores_each(ctx: Lifecycle, runner: QueryRunner,
                                                          tmp_path: Path) -> None:
    settings = _untrained_champion(ctx, tmp_path)
    batches: list[list[str]] = []

    class CountingScorer(GnnScorer):
        def score_many(self, runner: QueryRunner, application_ids: list[str]
                       ) -> dict[str, ScoreSignal]:
            batches.append(list(application_ids))
            return super().score_many(runner, application_ids)

    gnn_ctx = dataclasses.replace(ctx, scorers=[CountingScorer(settings)])
    decided = decision.submit_together(gnn_ctx, [decision.prepare(gnn_ctx, r) for r in ROWS])
    assert batches == [[r["application_id"] for r in ROWS]], "one batch, scored at once"
    champion = load_champion(settings)
    for d in decided:
        assert isinstance(d, decision.Decision) and d.signals is not None
        signal = d.signals.score("gnn")
        assert signal is not None and signal.available, signal
        # The graph now holds what the batch's transaction saw: each scored alone on it.
        alone = score_application(runner, d.application_id, champion,
                                  settings.gnn_score_fanout, hub_cap=settings.gnn_hub_cap)
        assert signal.version == champion.version
        assert signal.score == pytest.approx(alone.score, abs=1e-5)
        assert signal.reasons == alone.reasons
    assert len({d.signals.score("gnn").score for d in decided}) > 1  # type: ignore[union-attr]


def test_a_failed_batch_read_scores_each_alone(ctx: Lifecycle, runner: QueryRunner,
                                               tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from gnn import score

    settings = _untrained_champion(ctx, tmp_path)
    # A statement Neo4j refuses ends the shared transaction: the batch starts again one by
    # one, with the GNN's reads refused, so each is decided with the GNN unavailable.
    broken = dataclasses.replace(score.READ_NEIGHBOURHOODS,
                                 text=score.READ_NEIGHBOURHOODS.text + " RETURN nonsense(")
    monkeypatch.setattr(score, "READ_NEIGHBOURHOODS", broken)
    gnn_ctx = dataclasses.replace(ctx, scorers=[GnnScorer(settings)])
    decided = decision.submit_together(gnn_ctx, [decision.prepare(gnn_ctx, r) for r in ROWS])
    for d in decided:
        assert isinstance(d, decision.Decision) and d.signals is not None
        signal = d.signals.score("gnn")
        assert signal is not None and signal.unavailable_code == "U_GNN_FAILED"
    assert runner.read(DECISIONS) == [{"id": f"APP{n:06d}", "n": 1} for n in range(1, 6)]
