"""Validation in worker processes and the batched write path, against the real Neo4j."""

from __future__ import annotations

import multiprocessing
import os
import signal
from datetime import date
from pathlib import Path

import pytest

from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.schema import NODE_KEYS, Label
from ingest import load
from ingest.pipeline import IngestPipeline
from ingest.readers import find_tables, iter_rows
from ingest.records import Record, to_application, to_dealer
from ingest.validate import ValidationWorkerError
from tests.utils import application_row, export, graph_state

TODAY = date(2026, 11, 1)
WIPE = Query("t.wipe", "MATCH (n) DETACH DELETE n")


def _run(runner: QueryRunner, pseudo: Pseudonymiser, folder: Path, runs: Path,
         **options: object):  # type: ignore[no-untyped-def]
    options.setdefault("today", TODAY)
    return IngestPipeline(runner, pseudo, runs, **options).run(folder)  # type: ignore[arg-type]


def _quarantine_lines(report) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {table: Path(path).read_text(encoding="utf-8")
            for table, path in report.quarantine_files.items()}


def test_worker_processes_load_the_same_graph_report_and_quarantine_as_in_process(
        sample_export: Path, runner: QueryRunner, pseudo: Pseudonymiser,
        tmp_path: Path) -> None:
    # Small batches: many chunks in flight, so order across chunks is exercised.
    here = _run(runner, pseudo, sample_export, tmp_path / "a", batch_size=7, workers=0)
    expected = graph_state(runner)
    runner.write(WIPE)
    there = _run(runner, pseudo, sample_export, tmp_path / "b", batch_size=7, workers=2)
    assert graph_state(runner) == expected
    assert there.tables == here.tables
    assert there.exit_status == here.exit_status
    assert there.relationships_created == here.relationships_created
    assert there.placeholder_dealers == here.placeholder_dealers
    assert _quarantine_lines(there) == _quarantine_lines(here)


def _kill_workers() -> None:
    for child in multiprocessing.active_children():
        os.kill(child.pid, signal.SIGKILL)  # type: ignore[arg-type]


def test_a_killed_worker_stops_the_run_with_a_clear_error_and_a_rerun_converges(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(n, device_id=f"dev{n % 7}") for n in range(1, 201)]
    folder = export(tmp_path / "e", rows)
    _run(runner, pseudo, folder, tmp_path / "clean", batch_size=10, workers=0)
    expected = graph_state(runner)
    runner.write(WIPE)

    def kill_after_second(table: str, number: int) -> None:
        if table == "applications" and number == 2:
            _kill_workers()

    with pytest.raises(ValidationWorkerError, match="re-run the same folder") as failed:
        _run(runner, pseudo, folder, tmp_path / "r1", batch_size=10, workers=1,
             on_batch=kill_after_second)
    assert "applications" in str(failed.value)
    partial = runner.read(Query("t.n", "MATCH (a:Application) RETURN count(a) AS n"))[0]["n"]
    assert 20 <= partial < 200  # whole batches only
    report = _run(runner, pseudo, folder, tmp_path / "r2", batch_size=10, workers=1)
    assert report.tables["applications"].unchanged == partial
    assert report.tables["applications"].loaded == 200 - partial
    assert graph_state(runner) == expected


# ------------------------------------------------- the batched write path vs a plain one

# The straightforward write of one application row, a statement per node and link: what
# the batched path must be equivalent to.
_PLAIN_APP = Query(
    "t.plain_app",
    "MERGE (a:Application {application_id: $key}) SET a += $props, "
    "a.fingerprint = $fingerprint, a.status = 'submitted'",
)
_PLAIN_DEALER = Query(
    "t.plain_dealer",
    "MERGE (d:Dealer {dealer_id: $key}) SET d += $props, d.fingerprint = $fingerprint",
)
# The link kinds an application stores are the types of the links its row gave it.
_PLAIN_LINK_KINDS = Query(
    "t.plain_link_kinds",
    "MATCH (a:Application {application_id: $key}) "
    "SET a.link_kinds = COLLECT { MATCH (a)-[r]->() RETURN DISTINCT type(r) AS t ORDER BY t }",
)
_PLAIN_WORKS_AT = Query(
    "t.plain_works_at",
    "MATCH (s:SalesAgent {agent_id: $agent}), (d:Dealer {dealer_id: $dealer}) "
    "MERGE (s)-[:WORKS_AT]->(d)",
)


def _plain_link(label: Label, rel: str) -> Query:
    key = NODE_KEYS[label]
    return Query("t.plain_link",
                 f"MATCH (a:Application {{application_id: $app}}) "
                 f"MERGE (n:{label.value} {{{key}: $key}}) ON CREATE SET n += $props "
                 f"CREATE (a)-[:{rel}]->(n)")


def _plain_load(runner: QueryRunner, folder: Path, pseudo: Pseudonymiser) -> None:
    files, _ = find_tables(folder)
    tables = {f.table.name: f for f in files}
    for _, raw in iter_rows(tables["dealers"]):
        dealer = to_dealer(raw, pseudo)
        runner.write(_PLAIN_DEALER, key=dealer.key, props=dealer.props,
                     fingerprint=dealer.fingerprint)
    for _, raw in iter_rows(tables["applications"]):
        try:
            app = to_application(raw, pseudo, TODAY)
        except ValueError:
            continue
        _plain_write(runner, app)


def _plain_write(runner: QueryRunner, app: Record) -> None:
    runner.write(_PLAIN_APP, key=app.key, props=app.props, fingerprint=app.fingerprint)
    for ref in app.identifiers:
        runner.write(_plain_link(ref.link.kind.label, ref.link.rel.value), app=app.key,
                     key=ref.key, props=ref.props)
    dealer = app.props["dealer_id"]
    runner.write(_plain_link(Label.DEALER, "SUBMITTED_VIA"), app=app.key, key=dealer,
                 props={"placeholder": True, "name": dealer})
    agent = app.props["sales_agent_id"]
    if agent:
        runner.write(_plain_link(Label.SALES_AGENT, "HANDLED_BY"), app=app.key, key=agent,
                     props={})
        runner.write(_PLAIN_WORKS_AT, agent=agent, dealer=dealer)
    runner.write(_PLAIN_LINK_KINDS, key=app.key)


def test_the_batched_write_path_builds_the_same_graph_as_a_plain_one(
        sample_export: Path, runner: QueryRunner, pseudo: Pseudonymiser,
        tmp_path: Path) -> None:
    (sample_export / "repayments.csv").unlink()
    (sample_export / "labels.csv").unlink()
    # Batches of 3: shared identifiers meet across batches as well as within one.
    _run(runner, pseudo, sample_export, tmp_path / "runs", batch_size=3)
    batched = graph_state(runner)
    runner.write(WIPE)
    _plain_load(runner, sample_export, pseudo)
    plain = graph_state(runner)
    assert batched[1] == plain[1]  # relationships first: the clearer failure
    assert batched[0] == plain[0]
    assert len(batched[1]) > 400  # the sample's 40 applications, about a dozen links each


def test_one_application_is_written_in_two_statements(
        runner: QueryRunner, pseudo: Pseudonymiser) -> None:
    app = to_application(application_row(1), pseudo, TODAY)
    ran: list[str] = []
    with runner.transaction() as tx:
        original = tx.run

        def counting(query: Query, **params: object):  # type: ignore[no-untyped-def]
            ran.append(query.name)
            return original(query, **params)

        tx.run = counting  # type: ignore[method-assign]
        out = load.write_applications(tx, [app], run_id="t")
    assert ran == ["ingest.upsert_applications", "ingest.link_applications"]
    assert (out.new, out.relationships) == (1, 12)  # 10 identifiers, dealer, agent
    links = runner.read(Query("t.links", "MATCH (:Application)-[r]->() RETURN count(r) AS n"))
    works_at = runner.read(Query("t.w", "MATCH (:SalesAgent)-[r:WORKS_AT]->(:Dealer) "
                                        "RETURN count(r) AS n"))
    assert links == [{"n": 12}] and works_at == [{"n": 1}]


DEVICE_LINKS = Query("t.device_links",
                     "MATCH (d:Device {key: $key}) "
                     "RETURN count { (d)<-[:SUBMITTED_FROM_DEVICE]-() } AS links")


def test_a_shared_identifier_is_one_node_across_batches_and_one_works_at(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(n, device_id="shared-tablet") for n in range(1, 21)]
    report = _run(runner, pseudo, export(tmp_path / "e", rows), tmp_path / "runs", batch_size=6)
    assert report.tables["applications"].loaded == 20
    assert runner.read(DEVICE_LINKS, key="shared-tablet") == [{"links": 20}]
    works_at = Query("t.works_at",
                     "MATCH (:SalesAgent)-[w:WORKS_AT]->(:Dealer) RETURN count(w) AS n")
    assert runner.read(works_at) == [{"n": 1}]


def test_a_node_deleted_during_the_run_is_merged_again_not_lost(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(n, device_id="shared-tablet") for n in (1, 2, 3)]
    delete = Query("t.delete_device", "MATCH (d:Device {key: 'shared-tablet'}) DETACH DELETE d")

    def delete_after_first(table: str, number: int) -> None:
        if table == "applications" and number == 1:
            runner.write(delete)

    report = _run(runner, pseudo, export(tmp_path / "e", rows), tmp_path / "runs",
                  batch_size=1, on_batch=delete_after_first)
    assert report.tables["applications"].loaded == 3
    assert runner.read(DEVICE_LINKS, key="shared-tablet") == [{"links": 2}]
