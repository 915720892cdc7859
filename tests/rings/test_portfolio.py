"""Statistical behaviour on one generated portfolio with ground truth.

One portfolio is generated, loaded and detected once for this module (through the session
runner), so no test here may use the per-test ``runner`` fixture. The full-size figures
(20k and 100k, several seeds) come from ``benchmarks/rings.py``.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from typer.testing import CliRunner

from fraudgraph.cli import app
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner
from ingest.pipeline import ingest_folder
from rings import cli as rings_cli
from rings.config import RingConfig
from rings.detect import DetectionResult, run_detection
from rings.evaluate import LOOKALIKE_KINDS, Evaluation, evaluate, read_truth
from synthetic import generate_portfolio
from tests.conftest import WIPE

APPLICATIONS = 5_000
CONFIG = RingConfig()


@pytest.fixture(scope="module")
def portfolio(_session_runner: QueryRunner, pseudo: Pseudonymiser,
              tmp_path_factory: pytest.TempPathFactory
              ) -> Iterator[tuple[Path, DetectionResult, Evaluation]]:
    folder = tmp_path_factory.mktemp("portfolio") / "export"
    generate_portfolio(folder, applications=APPLICATIONS, seed=11)
    _session_runner.write(WIPE)
    ingest_folder(folder, _session_runner, pseudo, folder.parent / "reports")
    result = run_detection(_session_runner, CONFIG)
    ids = [str(a) for a in result.graph.apps.ids]
    rings = {rid: [ids[m] for m in r.members]
             for rid, r in zip(result.ring_ids, result.rings, strict=True)}
    scores = {rid: r.score for rid, r in zip(result.ring_ids, result.rings, strict=True)}
    figures = evaluate(read_truth(folder), rings, scores, CONFIG.alert_threshold)
    yield folder, result, figures
    _session_runner.write(WIPE)


def test_naive_components_swallow_the_portfolio_but_rings_stay_small(
        portfolio: tuple[Path, DetectionResult, Evaluation]) -> None:
    _, result, _ = portfolio
    graph = result.graph
    # Naive: any identifier shared by two applications links them (bipartite components).
    n, m = graph.n_apps, graph.n_identifiers
    bipartite = sp.coo_matrix((np.ones(len(graph.links)), (graph.links.app,
                                                             n + graph.links.ident)),
                              shape=(n + m, n + m))
    _, labels = connected_components(bipartite, directed=False)
    naive_largest = Counter(labels[:n].tolist()).most_common(1)[0][1]
    assert naive_largest > 0.5 * n
    largest_ring = max(len(r.members) for r in result.rings)
    assert largest_ring <= CONFIG.max_component_size
    assert sum(len(r.members) for r in result.rings) < 0.4 * n


def test_most_true_rings_are_recovered(
        portfolio: tuple[Path, DetectionResult, Evaluation]) -> None:
    _, _, figures = portfolio
    assert figures.true_rings >= 10
    assert figures.recovery >= 0.8
    assert figures.mean_best_jaccard >= 0.7


def test_honest_lookalikes_score_low(
        portfolio: tuple[Path, DetectionResult, Evaluation]) -> None:
    _, _, figures = portfolio
    assert figures.lookalike_groups >= 50
    assert figures.lookalike_flag_share <= 0.05
    for kind in LOOKALIKE_KINDS:
        kind_figures = figures.per_kind[kind]
        assert kind_figures.flagged <= max(1, 0.1 * kind_figures.groups), kind


def test_the_top_rings_by_score_are_fraud(
        portfolio: tuple[Path, DetectionResult, Evaluation]) -> None:
    _, result, figures = portfolio
    assert figures.precision_at[10] >= 0.8
    flagged = result.flagged(CONFIG)
    assert flagged and all(r.reasons for r in flagged)


def test_evaluate_rings_command_reads_the_stored_run(
        portfolio: tuple[Path, DetectionResult, Evaluation], neo4j_settings: Settings,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder, _, figures = portfolio
    monkeypatch.setattr(rings_cli, "get_settings", lambda: neo4j_settings)
    out = tmp_path / "figures.json"
    done = CliRunner().invoke(app, ["evaluate-rings", "--truth", str(folder), "--out", str(out)])
    assert done.exit_code == 0, done.output
    stored = json.loads(out.read_text())
    assert stored["recovery"] == figures.recovery
    assert stored["true_rings"] == figures.true_rings
