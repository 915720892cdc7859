"""File-level contract checks: anything unreadable stops the run before a write."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ingest.contract import APPLICATIONS
from ingest.errors import ContractFileError
from ingest.readers import check_file, find_tables, iter_rows
from tests.utils import application_row, dealer_row, export, write_table


def _apps_file(folder: Path) -> object:
    if not (folder / "dealers.csv").exists():
        write_table(folder, "dealers", [dealer_row()])
    files, _ = find_tables(folder)
    return next(f for f in files if f.table.name == "applications")


def test_missing_required_table_names_the_file(tmp_path: Path) -> None:
    write_table(tmp_path, "dealers", [dealer_row()])
    with pytest.raises(ContractFileError, match="required table applications is missing"):
        find_tables(tmp_path)


def test_same_table_in_two_formats_is_refused(tmp_path: Path) -> None:
    export(tmp_path, [application_row()])
    (tmp_path / "applications.jsonl").write_text("{}\n")
    with pytest.raises(ContractFileError, match="given twice"):
        find_tables(tmp_path)


def test_unknown_files_are_warned_about(tmp_path: Path) -> None:
    export(tmp_path, [application_row()])
    (tmp_path / "notes.txt").write_text("hello")
    _, warnings = find_tables(tmp_path)
    assert warnings == ["notes.txt: not a contract table, ignored"]


def test_missing_required_column_names_file_line_and_expectation(tmp_path: Path) -> None:
    columns = tuple(c for c in APPLICATIONS.column_names if c != "loan_amount")
    write_table(tmp_path, "applications", [application_row()], columns)
    with pytest.raises(ContractFileError) as info:
        check_file(_apps_file(tmp_path))
    assert info.value.line == 1
    assert "loan_amount" in str(info.value) and "applications.csv" in str(info.value)


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    path = write_table(tmp_path, "applications", [application_row(1), application_row(2)])
    text = path.read_text(encoding="utf-8")
    path.write_bytes(text.encode("gb18030"))
    with pytest.raises(ContractFileError, match="not UTF-8") as info:
        check_file(_apps_file(tmp_path))
    assert info.value.line == 2


def test_binary_garbage_is_not_csv(tmp_path: Path) -> None:
    (tmp_path / "applications.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
    with pytest.raises(ContractFileError):
        check_file(_apps_file(tmp_path))


def test_empty_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "applications.csv").write_text("")
    with pytest.raises(ContractFileError, match="empty"):
        check_file(_apps_file(tmp_path))


def test_bom_is_tolerated_and_absent_values_are_none(tmp_path: Path) -> None:
    path = write_table(tmp_path, "applications", [application_row(contact_phone="")])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    check = check_file(_apps_file(tmp_path))
    assert check.rows == 1
    [(line, row)] = list(iter_rows(check.file))
    assert line == 2 and row["application_id"] == "APP000001" and row["contact_phone"] is None


def test_extra_columns_are_reported_once_per_file(tmp_path: Path) -> None:
    columns = (*APPLICATIONS.column_names, "channel")
    write_table(tmp_path, "applications", [application_row(1), application_row(2)], columns)
    assert check_file(_apps_file(tmp_path)).extra_columns == ("channel",)


def test_a_row_with_the_wrong_field_count_is_a_row_error(tmp_path: Path) -> None:
    path = write_table(tmp_path, "applications", [application_row()])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("APP9,too,few\n")
    rows = list(iter_rows(_apps_file(tmp_path)))
    assert "__error__" in rows[1][1] and rows[1][0] == 3


def test_jsonl_and_parquet_read_the_same_rows_as_csv(tmp_path: Path) -> None:
    rows = [application_row(1), application_row(2, device_id="")]
    write_table(tmp_path / "csv", "applications", rows)
    (tmp_path / "jsonl").mkdir()
    with (tmp_path / "jsonl" / "applications.jsonl").open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps({k: (v or None) for k, v in row.items()},
                                    ensure_ascii=False) + "\n")
        handle.write("not json\n")
    (tmp_path / "parquet").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "parquet" / "applications.parquet")

    def read(folder: Path) -> list[dict[str, str | None]]:
        return [row for _, row in iter_rows(_apps_file(folder))]

    as_csv = read(tmp_path / "csv")
    as_jsonl = read(tmp_path / "jsonl")
    assert as_jsonl[:2] == as_csv
    assert "__error__" in as_jsonl[2]
    assert read(tmp_path / "parquet") == as_csv


def test_corrupt_parquet_is_a_file_error(tmp_path: Path) -> None:
    (tmp_path / "applications.parquet").write_bytes(b"PAR1 not really parquet PAR1")
    with pytest.raises(ContractFileError, match="Parquet"):
        check_file(_apps_file(tmp_path))
