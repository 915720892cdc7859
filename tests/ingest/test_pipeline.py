"""Ingest into the real Neo4j: counts, quarantine, idempotence, updates, crash recovery."""

from __future__ import annotations

import csv
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from graph.privacy import Pseudonymiser
from graph.runner import Query, QueryRunner
from ingest.errors import ContractFileError
from ingest.pipeline import IngestPipeline, ingest_folder
from ingest.report import EXIT_OK, EXIT_QUARANTINED
from tests.utils import application_row, dealer_row, export, graph_state, id_number, write_table

COUNT_APPS = Query("test.count_apps", "MATCH (a:Application) RETURN count(a) AS n")
APP_LINKS = Query(
    "test.app_links",
    "MATCH (a:Application {application_id: $id})-[r]->(n) "
    "RETURN type(r) AS type, coalesce(n.key, n.dealer_id, n.agent_id) AS key ORDER BY type",
)
LINK_KINDS = Query("test.link_kinds",
                   "MATCH (a:Application {application_id: $id}) RETURN a.link_kinds AS kinds")
ALL_STRINGS = Query(
    "test.all_strings",
    "MATCH (n) UNWIND keys(n) AS k WITH n[k] AS v WHERE v IS :: STRING RETURN v",
)


def _ingest(folder: Path, runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path,
            **options: object):  # type: ignore[no-untyped-def]
    options.setdefault("today", date(2026, 11, 1))
    return ingest_folder(folder, runner, pseudo, tmp_path / "runs", **options)


def _quarantined(report, table: str = "applications") -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    with open(report.quarantine_files[table], encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sample_export_loads_with_its_four_broken_rows_quarantined(
        sample_export: Path, runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    report = _ingest(sample_export, runner, pseudo, tmp_path)
    apps = report.tables["applications"]
    assert (apps.read, apps.loaded, apps.quarantined) == (44, 40, 4)
    assert report.exit_status == EXIT_QUARANTINED
    reasons = {row["application_id"]: row["_reason"] for row in _quarantined(report)}
    assert set(reasons) == {"APP2099000000", "APP2099000001", "APP2099000002", "APP2099000003"}
    assert "checksum" in reasons["APP2099000000"]
    assert reasons["APP2099000001"].startswith("applicant_phone")
    assert reasons["APP2099000002"].startswith("loan_amount")
    assert reasons["APP2099000003"].startswith("submitted_at")
    assert report.tables["repayments"].loaded == 367
    assert report.tables["labels"].loaded == 3
    assert runner.read(COUNT_APPS) == [{"n": 40}]
    mode = stat.S_IMODE(os.stat(report.quarantine_files["applications"]).st_mode)
    assert mode == 0o600
    assert Path(report.report_path).is_file()


def test_rerunning_the_same_folder_changes_nothing(
        sample_export: Path, runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    _ingest(sample_export, runner, pseudo, tmp_path)
    before = graph_state(runner)
    again = _ingest(sample_export, runner, pseudo, tmp_path)
    assert again.tables["applications"].unchanged == 40
    assert again.tables["applications"].loaded == again.tables["applications"].updated == 0
    assert again.relationships_created == 0
    assert graph_state(runner) == before


def test_personal_data_is_never_stored_in_clear(
        sample_export: Path, runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    _ingest(sample_export, runner, pseudo, tmp_path)
    stored = {row["v"] for row in runner.read(ALL_STRINGS)}
    with open(sample_export / "applications.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            for column in ("applicant_id_number", "applicant_name", "bank_account",
                           "home_address", "contact_name"):
                assert row[column].strip() not in stored
            assert "+86" + row["applicant_phone"][-11:] not in stored
    masked = {v for v in stored if "****" in v}
    assert "198****5218" in masked  # APP2025000034's phone, masked


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"application_id": ""}, "application_id"),
        ({"submitted_at": "2026-13-01T00:00:00"}, "submitted_at"),
        ({"dealer_id": ""}, "dealer_id"),
        ({"product": "boat"}, "product"),
        ({"applicant_id_number": "310101199001011230"}, "applicant_id_number"),
        ({"applicant_id_number": id_number(born="20991231")}, "applicant_id_number"),
        ({"applicant_name": ""}, "applicant_name"),
        ({"applicant_phone": "12345"}, "applicant_phone"),
        ({"loan_amount": "0"}, "loan_amount"),
        ({"loan_amount": "lots"}, "loan_amount"),
        ({"term_months": "72"}, "term_months"),
        ({"term_months": "12.5"}, "term_months"),
    ],
)
def test_every_kind_of_invalid_row_is_quarantined_with_its_reason(
        overrides: dict[str, str], column: str, runner: QueryRunner, pseudo: Pseudonymiser,
        tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [application_row(1), application_row(2, **overrides)])
    report = _ingest(folder, runner, pseudo, tmp_path)
    assert report.tables["applications"].loaded == 1
    [bad] = _quarantined(report)
    assert bad["_reason"].startswith(column)
    assert bad["_line"] == "3"
    assert {k: bad[k] for k in overrides} == overrides  # kept unchanged
    assert runner.read(COUNT_APPS) == [{"n": 1}]


@pytest.mark.parametrize("column", ["ip_address", "vehicle_vin", "contact_phone", "bank_account",
                                    "employer_phone", "vehicle_price"])
def test_invalid_optional_field_is_dropped_with_a_warning(
        column: str, runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    folder = export(tmp_path / "export", [application_row(1, **{column: "???"})])
    report = _ingest(folder, runner, pseudo, tmp_path)
    counts = report.tables["applications"]
    assert counts.loaded == 1 and counts.quarantined == 0
    assert counts.field_warnings == {column: 1}
    assert report.exit_status == EXIT_OK
    types = {row["type"] for row in runner.read(APP_LINKS, id="APP000001")}
    assert len(types) == 12 - (column != "vehicle_price")  # 10 identifiers, dealer, agent


def test_a_bad_file_stops_the_run_before_anything_is_written(
        sample_export: Path, runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    _ingest(sample_export, runner, pseudo, tmp_path)
    before = graph_state(runner)
    broken = tmp_path / "broken"
    export(broken, [application_row(n) for n in range(1, 50)])
    (broken / "labels.csv").write_bytes("application_id,label\nAPP000001,欺诈\n".encode("gbk"))
    with pytest.raises(ContractFileError, match="labels.csv, line 2"):
        _ingest(broken, runner, pseudo, tmp_path)
    assert graph_state(runner) == before


def test_an_updated_row_replaces_the_links_of_the_old_one(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    export(tmp_path / "v1", [application_row(1)])
    _ingest(tmp_path / "v1", runner, pseudo, tmp_path)
    before = {row["type"]: row["key"] for row in runner.read(APP_LINKS, id="APP000001")}
    # The stored link kinds (what the GNN reads of a neighbour) are the row's link types.
    assert runner.read(LINK_KINDS, id="APP000001") == [{"kinds": sorted(before)}]
    assert "SUBMITTED_FROM_DEVICE" in before
    export(tmp_path / "v2", [application_row(1, applicant_phone="13900000001", device_id="")])
    report = _ingest(tmp_path / "v2", runner, pseudo, tmp_path)
    assert report.tables["applications"].updated == 1
    after = {row["type"]: row["key"] for row in runner.read(APP_LINKS, id="APP000001")}
    assert "SUBMITTED_FROM_DEVICE" not in after
    assert after["APPLICANT_PHONE"] != before["APPLICANT_PHONE"]
    assert after["APPLICANT_PHONE"] == pseudo.token("phone", "+8613900000001")
    assert runner.read(LINK_KINDS, id="APP000001") == [{"kinds": sorted(after)}]
    assert runner.read(COUNT_APPS) == [{"n": 1}]


def test_shared_identifiers_meet_on_one_node(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(1), application_row(2, device_id="DEV0001", contact_phone="13800000001",
                                                 employer_name="公司1 有限责任公司")]
    export(tmp_path / "e", rows)
    _ingest(tmp_path / "e", runner, pseudo, tmp_path)
    links = {row["type"]: row["key"] for row in runner.read(APP_LINKS, id="APP000002")}
    first = {row["type"]: row["key"] for row in runner.read(APP_LINKS, id="APP000001")}
    assert links["SUBMITTED_FROM_DEVICE"] == first["SUBMITTED_FROM_DEVICE"]
    assert links["EMPLOYED_BY"] == first["EMPLOYED_BY"]
    # Applicant 1's own phone is applicant 2's emergency contact: one Phone node, two roles.
    assert links["CONTACT_PHONE"] == first["APPLICANT_PHONE"]


def test_unknown_dealer_gets_a_placeholder_and_a_warning(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    folder = export(tmp_path / "e", [application_row(1, dealer_id="D404")], [dealer_row("D1")])
    report = _ingest(folder, runner, pseudo, tmp_path)
    assert report.placeholder_dealers == ["D404"]
    assert report.tables["applications"].loaded == 1
    assert report.tables["applications"].field_warnings == {
        "dealer_id (unknown dealer: placeholder kept)": 1}
    rows = runner.read(Query("t.d", "MATCH (d:Dealer {dealer_id: $id}) RETURN d.placeholder AS p"),
                       id="D404")
    assert rows == [{"p": True}]


def test_repayments_and_labels_must_name_a_loaded_application(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    folder = export(tmp_path / "e", [application_row(1)])
    write_table(folder, "repayments", [
        {"application_id": "APP000001", "installment_no": "1", "due_date": "2026-04-01",
         "amount_due": "2800.50", "paid_date": "2026-03-30", "amount_paid": "2800.50"},
        {"application_id": "APP999999", "installment_no": "1", "due_date": "2026-04-01",
         "amount_due": "2800.50"},
        {"application_id": "APP000001", "installment_no": "0", "due_date": "2026-04-01",
         "amount_due": "1"},
    ])
    write_table(folder, "labels", [{"application_id": "APP000001", "label": "fraud"},
                                   {"application_id": "APP000002", "label": "fraud"},
                                   {"application_id": "APP000001", "label": "maybe"}])
    report = _ingest(folder, runner, pseudo, tmp_path)
    assert (report.tables["repayments"].loaded, report.tables["repayments"].quarantined) == (1, 2)
    assert (report.tables["labels"].loaded, report.tables["labels"].quarantined) == (1, 2)
    reasons = sorted(row["_reason"] for row in _quarantined(report, "repayments"))
    assert reasons[0].startswith("application_id: names no loaded")
    assert reasons[1].startswith("installment_no")


def test_same_id_twice_in_one_file_updates_in_order(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    folder = export(tmp_path / "e", [application_row(1), application_row(1, loan_amount="50000")])
    report = _ingest(folder, runner, pseudo, tmp_path)
    assert (report.tables["applications"].loaded, report.tables["applications"].updated) == (1, 1)
    rows = runner.read(Query("t.amt", "MATCH (a:Application) RETURN a.loan_amount AS x"))
    assert rows == [{"x": 50000.0}]


class _Stop(Exception):
    pass


def test_a_run_stopped_between_batches_converges_when_rerun(
        runner: QueryRunner, pseudo: Pseudonymiser, tmp_path: Path) -> None:
    rows = [application_row(n, device_id=f"dev{n % 7}") for n in range(1, 61)]
    folder = export(tmp_path / "e", rows)

    clean_runs = tmp_path / "clean"
    IngestPipeline(runner, pseudo, clean_runs, batch_size=10, today=date(2026, 11, 1)).run(folder)
    expected = graph_state(runner)
    runner.write(Query("t.wipe", "MATCH (n) DETACH DELETE n"))

    def stop_after_third(table: str, number: int) -> None:
        if table == "applications" and number == 3:
            raise _Stop

    with pytest.raises(_Stop):
        IngestPipeline(runner, pseudo, tmp_path / "r1", batch_size=10, today=date(2026, 11, 1),
                       on_batch=stop_after_third).run(folder)
    partial = runner.read(COUNT_APPS)[0]["n"]
    assert 0 < partial < 60
    report = IngestPipeline(runner, pseudo, tmp_path / "r2", batch_size=10,
                            today=date(2026, 11, 1)).run(folder)
    assert report.tables["applications"].unchanged == partial
    assert report.tables["applications"].loaded == 60 - partial
    assert graph_state(runner) == expected
