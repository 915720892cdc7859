"""`ingest --bulk`: a first load through Neo4j's offline importer builds the same graph as
the transactional path, refuses a database with data, and converges when re-run.

A bulk load stops and restarts its server, so these tests have a second Neo4j of their
own (the session's port + 40), with the session's keys so both graphs can be compared.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fraudgraph.settings import REPO_ROOT, Settings
from graph import server
from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from graph.schema import Label
from ingest.bulk import BulkLoadError, BulkRefused, BulkTarget, PartFiles, StoreFiles, csv_line
from ingest.contract import APPLICATIONS, DEALERS
from ingest.pipeline import IngestPipeline, ingest_folder
from tests.conftest import WIPE
from tests.utils import application_row, dealer_row, export, graph_state

TODAY = date(2026, 11, 1)
COUNT_NODES = Query("test.bulk_count_nodes", "MATCH (n) RETURN count(n) AS n")


@pytest.fixture(scope="module")
def bulk_settings(neo4j_settings: Settings) -> Iterator[Settings]:
    port = neo4j_settings.neo4j_port + 40
    settings = neo4j_settings.model_copy(update={
        "neo4j_port": port, "neo4j_home": REPO_ROOT / "var" / f"test-neo4j-{port}"})
    server.start(settings)
    yield settings
    server.stop(settings)


@pytest.fixture
def bulk_runner(bulk_settings: Settings) -> Iterator[QueryRunner]:
    """A runner over the bulk tests' own server, running and empty."""
    BulkTarget(bulk_settings).finish()
    server.start(bulk_settings)
    with QueryRunner.from_settings(bulk_settings) as runner:
        runner.write(WIPE)
        yield runner


def _bulk(folder: Path, runner: QueryRunner, settings: Settings, pseudo: Pseudonymiser,
          runs: Path, **options: object):  # type: ignore[no-untyped-def]
    return ingest_folder(folder, runner, pseudo, runs, today=TODAY, bulk=BulkTarget(settings),
                         **options)


def _counts(report) -> dict[str, tuple[int, ...]]:  # type: ignore[no-untyped-def]
    return {name: (c.read, c.loaded, c.updated, c.unchanged, c.quarantined)
            for name, c in report.tables.items()}


def test_bulk_load_builds_the_same_graph_as_the_transactional_path(
        sample_export: Path, runner: QueryRunner, bulk_runner: QueryRunner,
        bulk_settings: Settings, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    # The sample export, plus what the importer cannot express by itself: an application
    # id seen twice (the later row updates it), a repeated dealer row, an unknown dealer
    # (a placeholder), and agents working at two dealers.
    extra = [application_row(n, device_id=f"dev{n % 3}", dealer_id="D1" if n % 2 else "D9",
                             sales_agent_id=f"SA{n % 4}") for n in range(1, 13)]
    extra.append(application_row(5, loan_amount="50000", device_id="dev-new"))
    with (sample_export / "applications.csv").open("a", encoding="utf-8", newline="") as out:
        csv.DictWriter(out, fieldnames=APPLICATIONS.column_names).writerows(extra)
    with (sample_export / "dealers.csv").open("a", encoding="utf-8", newline="") as out:
        csv.DictWriter(out, fieldnames=DEALERS.column_names).writerows(
            [dealer_row("D1"), dealer_row("D1")])

    merged = ingest_folder(sample_export, runner, pseudo, tmp_path / "m", today=TODAY)
    # Two workers and small chunks: each worker writes its own part of the files, and the
    # repeated id is seen in another chunk than its first row.
    bulk = _bulk(sample_export, bulk_runner, bulk_settings, pseudo, tmp_path / "b", workers=2,
                 batch_size=7)

    assert graph_state(bulk_runner) == graph_state(runner)
    assert _counts(bulk) == _counts(merged)
    assert bulk.tables["applications"].updated == 1
    assert bulk.tables["dealers"].unchanged == 1  # the second D1 row: the same as the first
    assert bulk.relationships_created == merged.relationships_created
    assert bulk.exit_status == merged.exit_status
    assert "D9" in bulk.placeholder_dealers
    assert bulk.placeholder_dealers == merged.placeholder_dealers
    later = bulk_runner.read(Query(
        "t.app5", "MATCH (a:Application {application_id: 'APP000005'})-[:SUBMITTED_FROM_DEVICE]"
                  "->(d) RETURN a.loan_amount AS amount, d.key AS device"))
    assert later == [{"amount": 50000.0, "device": "dev-new"}]
    assert bulk.bulk_import is not None and "IMPORT DONE" in bulk.bulk_import
    assert set(bulk.steps) >= {"validate_and_write_files", "import", "start", "schema"}
    assert not (Path(bulk.report_path).parent / "bulk").exists()  # staging files removed
    import_log = (Path(bulk.report_path).parent / "import.log").read_text(encoding="utf-8")
    assert len(set(re.findall(r"nodes-Application\.w\d+\.csv", import_log))) == 2
    assert not BulkTarget(bulk_settings).marker.exists()
    # The quarantine holds the same rows, with the same reasons.
    for table, path in merged.quarantine_files.items():
        assert Path(bulk.quarantine_files[table]).read_text(encoding="utf-8") == \
            Path(path).read_text(encoding="utf-8")

    # The imported rows carry their fingerprints: a re-run finds every row unchanged but
    # APP000005's two rows, which update it in turn (as on the transactional path).
    before = graph_state(bulk_runner)
    again = ingest_folder(sample_export, bulk_runner, pseudo, tmp_path / "again", today=TODAY)
    apps = again.tables["applications"]
    assert (apps.loaded, apps.updated, apps.unchanged) == (0, 2, bulk.tables["applications"]
                                                           .loaded - 1)
    assert graph_state(bulk_runner) == before


def test_a_database_with_data_is_refused_and_left_as_it_was(
        bulk_runner: QueryRunner, bulk_settings: Settings, pseudo: Pseudonymiser,
        tmp_path: Path) -> None:
    folder = export(tmp_path / "e", [application_row(1), application_row(2)])
    ingest_folder(folder, bulk_runner, pseudo, tmp_path / "first", today=TODAY)
    before = graph_state(bulk_runner)

    with pytest.raises(BulkRefused, match="empty database; this one holds"):
        _bulk(folder, bulk_runner, bulk_settings, pseudo, tmp_path / "b")
    assert server.status(bulk_settings).running
    assert graph_state(bulk_runner) == before
    assert not BulkTarget(bulk_settings).marker.exists()


def test_an_external_server_is_refused_before_anything_is_read(
        bulk_runner: QueryRunner, bulk_settings: Settings) -> None:
    external = bulk_settings.model_copy(update={"neo4j_uri": bulk_settings.bolt_uri})
    with pytest.raises(BulkRefused, match="external server"):
        BulkTarget(external).prepare(bulk_runner)
    assert server.status(bulk_settings).running


class _Stop(Exception):
    pass


def test_a_bulk_load_stopped_half_way_converges_when_rerun(
        runner: QueryRunner, bulk_runner: QueryRunner, bulk_settings: Settings,
        pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(n, device_id=f"dev{n % 7}") for n in range(1, 61)]
    folder = export(tmp_path / "e", rows)
    IngestPipeline(runner, pseudo, tmp_path / "clean", batch_size=10, today=TODAY).run(folder)

    def stop_after_second(table: str, number: int) -> None:
        if table == "applications" and number == 2:
            raise _Stop

    with pytest.raises(_Stop):
        IngestPipeline(bulk_runner, pseudo, tmp_path / "r1", batch_size=10, today=TODAY,
                       on_batch=stop_after_second, bulk=BulkTarget(bulk_settings)).run(folder)
    assert not server.status(bulk_settings).running  # stopped for the import
    assert BulkTarget(bulk_settings).marker.exists()

    report = IngestPipeline(bulk_runner, pseudo, tmp_path / "r2", batch_size=10, today=TODAY,
                            bulk=BulkTarget(bulk_settings)).run(folder)
    assert report.tables["applications"].loaded == 60
    assert graph_state(bulk_runner) == graph_state(runner)
    assert not BulkTarget(bulk_settings).marker.exists()
    assert bulk_runner.read(COUNT_NODES)[0]["n"] > 60


def test_importer_files_have_typed_headers_and_one_shape_per_label(tmp_path: Path) -> None:
    files = StoreFiles(tmp_path / "staging")
    files.node(Label.APPLICATION, "A1", {
        "submitted_at": datetime(2026, 3, 1, 10, 0, tzinfo=UTC), "term_months": 36,
        "loan_amount": 90000.0, "is_mobile": True, "onboarded_on": date(2026, 4, 1),
        "note": 'x,"y"', "empty": None})
    files.node(Label.APPLICATION, "A2", {
        "submitted_at": None, "term_months": 12, "loan_amount": None, "is_mobile": False,
        "onboarded_on": None, "note": "z", "empty": None})
    with pytest.raises(BulkLoadError, match=r"differ in their properties: \['surprise'\]"):
        files.node(Label.APPLICATION, "A3", {
            "submitted_at": None, "term_months": 1, "loan_amount": None, "is_mobile": None,
            "onboarded_on": None, "note": "z", "empty": None, "surprise": "!"})
    with pytest.raises(BulkLoadError, match="term_months holds a str, declared int"):
        files.node(Label.APPLICATION, "A4", {"term_months": "36"})
    with pytest.raises(BulkLoadError, match="term_months holds a bool"):
        files.node(Label.APPLICATION, "A5", {"term_months": True})
    nodes, _ = files.close()
    header, data = nodes[0].files
    assert header.read_text(encoding="utf-8").strip() == (
        "application_id:ID(Application),submitted_at:datetime,term_months:long,"
        "loan_amount:double,is_mobile:boolean,onboarded_on:date,note,empty")
    assert data.read_text(encoding="utf-8").splitlines() == [
        'A1,2026-03-01T10:00:00+00:00,36,90000.0,true,2026-04-01,"x,""y""",',
        "A2,,12,,false,,z,"]
    assert (tmp_path / "staging").stat().st_mode & 0o777 == 0o700


def test_parts_written_by_several_processes_become_one_input_per_label(tmp_path: Path) -> None:
    files = StoreFiles(tmp_path / "staging")
    for part, keys in (("w1", ["p1", "p2"]), ("w2", ["p2", "p3"])):
        parts = PartFiles(files.folder, part)
        for key in keys:
            parts.node("Phone", key, {"masked": f"m-{key}", "is_mobile": True})
            parts.relationship("APPLICANT_PHONE", ("Application", f"A-{key}"), ("Phone", key))
        parts.close()
    files.node(Label.DEALER, "D1", {"placeholder": True, "name": "D1"})
    nodes, rels = files.close()
    phone = next(group for group in nodes if group.name == "Phone")
    header, *data = phone.files
    assert header.read_text(encoding="utf-8") == "key:ID(Phone),masked,is_mobile:boolean\n"
    assert [path.name for path in data] == ["nodes-Phone.w1.csv", "nodes-Phone.w2.csv"]
    assert [line for path in data for line in path.read_text(encoding="utf-8").splitlines()] == [
        "p1,m-p1,true", "p2,m-p2,true", "p2,m-p2,true", "p3,m-p3,true"]  # the importer skips p2
    assert (files.rows(Label.PHONE), files.rows(Label.DEALER), files.node_rows) == (4, 1, 5)
    assert [group.name for group in rels] == ["APPLICANT_PHONE"]
    assert (files.relationships, files.application_relationships) == (4, 4)


def test_parts_that_disagree_on_a_label_s_properties_are_refused(tmp_path: Path) -> None:
    files = StoreFiles(tmp_path / "staging")
    first, second = PartFiles(files.folder, "w1"), PartFiles(files.folder, "w2")
    first.node("Phone", "p1", {"masked": "m"})
    second.node("Phone", "p2", {"masked": "m", "extra": "x"})
    first.close()
    second.close()
    with pytest.raises(BulkLoadError, match=r"Phone rows differ in their properties.*extra"):
        files.close()


@given(st.lists(st.text(), min_size=1, max_size=6))
def test_csv_line_is_what_the_csv_module_writes(cells: list[str]) -> None:
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerow(cells)
    assert csv_line(cells) == expected.getvalue()
