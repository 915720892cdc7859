"""Exports and ring reports of one detection run on a small hand-built graph.

One module-scoped detection serves every test here (they only read it), so no test in this
module may use the per-test ``runner`` fixture, which wipes the database.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from typer.testing import CliRunner

from fraudgraph.cli import app
from fraudgraph.settings import Settings
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from rings import cli as rings_cli
from rings import export, report
from rings.detect import DetectionResult, run_detection
from rings.runs import PORTFOLIO_CONCENTRATION, RunData, application_scores, load_run
from tests.conftest import WIPE
from tests.rings.test_detect_neo4j import CONFIG, NOW, load, ring_rows

# What `fraudgraph score-portfolio` (gnn/score.py) writes onto an application.
SET_GNN_SCORE = Query("test.set_gnn_score",
                      "MATCH (a:Application {application_id: $app}) "
                      "SET a.gnn_score = $score, a.gnn_model_version = $version")
CLEAR_GNN_SCORE = Query("test.clear_gnn_score",
                        "MATCH (a:Application) REMOVE a.gnn_score, a.gnn_model_version")


@pytest.fixture(scope="module")
def detected(_session_runner: QueryRunner, pseudo: Pseudonymiser,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DetectionResult,
                                                                         RunData]]:
    _session_runner.write(WIPE)
    labels = [{"application_id": "APP000001", "label": "fraud", "source": "investigation",
               "labeled_at": "2026-06-01T10:00:00"}]
    load(ring_rows(), _session_runner, pseudo, tmp_path_factory.mktemp("rings") / "export",
         labels)
    result = run_detection(_session_runner, CONFIG, now=NOW)
    yield result, load_run(_session_runner)
    _session_runner.write(WIPE)


def test_exports_in_every_format(detected: tuple[DetectionResult, RunData],
                                 tmp_path: Path) -> None:
    result, data = detected
    out = tmp_path / "out"
    for fmt in export.TABULAR_FORMATS:
        export.write_tabular(data, out, fmt)
    for fmt in export.GRAPH_FORMATS:
        export.write_graph(data, out, fmt)
    with (out / "ring_members.csv").open(encoding="utf-8") as handle:
        members = list(csv.DictReader(handle))
    assert [m["application_id"] for m in members] == [f"APP00000{n}" for n in range(1, 5)]
    assert all("*" in m["applicant"] for m in members)  # masked names only
    payload = json.loads((out / "rings.json").read_text(encoding="utf-8"))
    assert payload["rings"][0]["ring_id"] == result.ring_ids[0]
    assert len(payload["rings"][0]["members"]) == 4
    gephi = nx.read_graphml(out / "rings.graphml")
    assert {n for n, k in gephi.nodes(data="kind") if k == "Application"} == {
        f"APP00000{n}" for n in range(1, 5)}
    assert {k for _, k in gephi.nodes(data="kind")} >= {"Device", "BankAccount"}
    assert nx.read_gexf(out / "rings.gexf").number_of_nodes() == gephi.number_of_nodes()
    with pytest.raises(ValueError, match="unknown"):
        export.write_tabular(data, out, "docx")


def test_ring_reports_and_the_scores_file(detected: tuple[DetectionResult, RunData],
                                          _session_runner: QueryRunner,
                                          tmp_path: Path) -> None:
    result, data = detected
    ring_id = result.ring_ids[0]
    portfolio = _session_runner.read(PORTFOLIO_CONCENTRATION, dealers=["D1"], agents=["SA1"])
    [html_path] = report.write_ring_reports(data, tmp_path, "html", [ring_id],
                                            pd.DataFrame(portfolio))
    text = html_path.read_text(encoding="utf-8")
    for title in ("Summary", "Why flagged", "Members (masked)", "Shared-identifier matrix",
                  "Timeline", "Dealer and agent concentration",
                  "Disposition and recommended actions",
                  "Approvals and audit appendix"):
        assert f"<h2>{title}</h2>" in text
    assert "data:image/png;base64," in text and "6222000011112222" not in text
    assert "size in the previous run n/a (new ring)" in text
    [pdf] = report.write_ring_reports(data, tmp_path, "pdf", [ring_id])
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    scores = application_scores(_session_runner)
    assert len(scores) == 10 and "gnn_score" in scores.columns
    row = scores[scores["application_id"] == "APP000001"].iloc[0]
    assert row["ring_id"] == ring_id and "KNOWN_FRAUD" in row["reason_codes"]
    assert pd.isna(scores[scores["application_id"] == "APP000009"].iloc[0]["ring_id"])


def test_the_commands(detected: tuple[DetectionResult, RunData], neo4j_settings: Settings,
                      monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rings_cli, "get_settings", lambda: neo4j_settings)
    cli = CliRunner()
    out = tmp_path / "cli"
    done = cli.invoke(app, ["export", "rings", "--out", str(out), "--format", "csv,html,gexf"])
    assert done.exit_code == 0, done.output
    assert {p.name for p in out.iterdir()} >= {"rings.csv", "ring_members.csv", "rings.gexf",
                                               f"ring-{detected[0].ring_ids[0]}.html"}
    done = cli.invoke(app, ["export", "scores", "--out", str(out / "scores.csv")])
    assert done.exit_code == 0, done.output
    with (out / "scores.csv").open(encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == ["application_id", "run_id", "ring_id", "ring_score", "ring_size",
                      "reason_codes", "reasons", "gnn_score", "gnn_model_version"]
    done = cli.invoke(app, ["export", "rings", "--out", str(out), "--format", "docx"])
    assert done.exit_code == 2 and "docx" in done.output
    done = cli.invoke(app, ["ring-score", "APP000001"])
    assert done.exit_code == 0 and '"joins"' in done.output
    done = cli.invoke(app, ["detect", "--no-write"])
    assert done.exit_code == 0 and "not written" in done.output


def test_the_scores_file_carries_the_gnn_score_once_the_gnn_wrote_it(
        detected: tuple[DetectionResult, RunData], _session_runner: QueryRunner) -> None:
    _session_runner.write(SET_GNN_SCORE, app="APP000002", score=0.87, version="v3")
    try:
        scores = application_scores(_session_runner).set_index("application_id")
    finally:
        _session_runner.write(CLEAR_GNN_SCORE)
    assert scores.loc["APP000002", "gnn_score"] == pytest.approx(0.87)
    assert scores.loc["APP000002", "gnn_model_version"] == "v3"
    assert scores.loc["APP000002", "ring_id"] == detected[0].ring_ids[0]
    assert pd.isna(scores.loc["APP000003", "gnn_score"])  # not scored by the GNN yet
