"""Streaming readers for the contract's three file formats.

Each reader yields ``(line, row)`` pairs, ``row`` mapping column names to strings with
"absent" (empty string, missing key, JSON null) as ``None``, so the validators see one
shape whatever the format. Nothing is held beyond the current chunk.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.contract import FORMATS, TABLES, Table
from ingest.errors import ContractFileError

RawRow = dict[str, str | None]

# Wide free-text fields (addresses) must not trip the csv module's default limit.
csv.field_size_limit(1 << 20)


@dataclass(frozen=True)
class TableFile:
    table: Table
    path: Path

    @property
    def format(self) -> str:
        return self.path.suffix


@dataclass
class FileCheck:
    """What a full pre-read of one file found; nothing is loaded before every file passes."""

    file: TableFile
    rows: int
    columns: tuple[str, ...]
    extra_columns: tuple[str, ...] = field(default_factory=tuple)


def find_tables(folder: Path) -> tuple[list[TableFile], list[str]]:
    """The table files of an export folder in load order, and warnings about other files."""
    if not folder.is_dir():
        raise ContractFileError(folder, None, "not a folder", "an export folder of table files")
    found: list[TableFile] = []
    warnings: list[str] = []
    known = {f"{t.name}{ext}" for t in TABLES for ext in FORMATS}
    for table in TABLES:
        candidates = [folder / f"{table.name}{ext}" for ext in FORMATS]
        present = [p for p in candidates if p.is_file()]
        if len(present) > 1:
            names = ", ".join(p.name for p in present)
            raise ContractFileError(folder, None, f"table {table.name} is given twice ({names})",
                                    "one file per table")
        if not present:
            if table.required:
                raise ContractFileError(folder / f"{table.name}.csv", None,
                                        f"required table {table.name} is missing",
                                        f"{table.name}.csv, .parquet or .jsonl")
            continue
        found.append(TableFile(table, present[0]))
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name not in known and not path.name.startswith("."):
            warnings.append(f"{path.name}: not a contract table, ignored")
    return found, warnings


def _absent_to_none(value: object) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else _to_text(value)
    return text if text.strip() != "" else None


def _to_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


# ---------------------------------------------------------------- CSV


class _Utf8Lines:
    """Physical lines of a file decoded one at a time, so that a decoding error names the
    line it is on (a text wrapper decodes ahead in blocks and loses the position)."""

    def __init__(self, path: Path, expected: str) -> None:
        self.path = path
        self.expected = expected
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        with open(self.path, "rb") as handle:
            for raw in handle:
                self.line += 1
                if self.line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]  # a UTF-8 BOM is tolerated
                try:
                    yield raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise ContractFileError(self.path, self.line,
                                            f"bytes that are not UTF-8 ({exc.reason})",
                                            self.expected) from None


def _csv_rows(file: TableFile) -> Iterator[tuple[int, list[str]]]:
    lines = _Utf8Lines(file.path, "UTF-8 text")
    reader = csv.reader(lines, strict=True)
    try:
        for fields in reader:
            yield reader.line_num, fields
    except csv.Error as exc:
        raise ContractFileError(file.path, lines.line, f"not valid CSV ({exc})",
                                "RFC 4180 comma-separated values") from None


def _check_header(file: TableFile, header: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    columns = tuple(h.strip() for h in header)
    missing = [c for c in file.table.required_columns if c not in columns]
    if missing:
        raise ContractFileError(file.path, 1, f"missing required column(s) {', '.join(missing)}",
                                f"a header with {', '.join(file.table.required_columns)}")
    duplicated = sorted({c for c in columns if columns.count(c) > 1})
    if duplicated:
        raise ContractFileError(file.path, 1, f"duplicated column(s) {', '.join(duplicated)}",
                                "each column once")
    extra = tuple(c for c in columns if c not in file.table.column_names)
    return columns, extra


def iter_csv(file: TableFile) -> Iterator[tuple[int, RawRow]]:
    rows = _csv_rows(file)
    first = next(rows, None)
    if first is None:
        raise ContractFileError(file.path, 1, "an empty file", "a header row")
    columns, _ = _check_header(file, first[1])
    width = len(columns)
    for line, fields in rows:
        if not fields:
            continue
        if len(fields) != width:
            yield line, {"__error__": f"row has {len(fields)} fields, the header has {width}",
                         **dict(zip(columns, fields, strict=False))}
            continue
        yield line, {c: _absent_to_none(v) for c, v in zip(columns, fields, strict=True)}


def _csv_check(file: TableFile) -> FileCheck:
    rows = _csv_rows(file)
    first = next(rows, None)
    if first is None:
        raise ContractFileError(file.path, 1, "an empty file", "a header row")
    columns, extra = _check_header(file, first[1])
    count = sum(1 for _, fields in rows if fields)
    return FileCheck(file, count, columns, extra)


# ---------------------------------------------------------------- JSON lines


def _jsonl_lines(file: TableFile) -> Iterator[tuple[int, str]]:
    lines = _Utf8Lines(file.path, "UTF-8 text, one JSON object per line")
    for text in lines:
        if text.strip():
            yield lines.line, text


def iter_jsonl(file: TableFile) -> Iterator[tuple[int, RawRow]]:
    for line, text in _jsonl_lines(file):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line, {"__error__": f"not a JSON object ({exc.msg})"}
            continue
        if not isinstance(obj, dict):
            yield line, {"__error__": "not a JSON object"}
            continue
        yield line, {str(k): _absent_to_none(v) for k, v in obj.items()}


def _jsonl_check(file: TableFile) -> FileCheck:
    count = 0
    seen: set[str] = set()
    for _, text in _jsonl_lines(file):
        count += 1
        if len(seen) < 200 and text.lstrip().startswith("{"):
            try:
                seen.update(json.loads(text).keys())
            except (json.JSONDecodeError, AttributeError):
                pass
    if count == 0:
        raise ContractFileError(file.path, 1, "an empty file", "one JSON object per line")
    extra = tuple(sorted(c for c in seen if c not in file.table.column_names))
    return FileCheck(file, count, file.table.column_names, extra)


# ---------------------------------------------------------------- Parquet


def _parquet(file: TableFile) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(file.path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ContractFileError(file.path, None, f"not a readable Parquet file ({exc})",
                                "Apache Parquet") from None


def iter_parquet(file: TableFile, chunk: int = 10_000) -> Iterator[tuple[int, RawRow]]:
    parquet = _parquet(file)
    line = 0
    for batch in parquet.iter_batches(batch_size=chunk):
        for record in batch.to_pylist():
            line += 1
            yield line, {k: _absent_to_none(v) for k, v in record.items()}


def _parquet_check(file: TableFile) -> FileCheck:
    parquet = _parquet(file)
    columns, extra = _check_header(file, list(parquet.schema_arrow.names))
    rows = 0
    try:
        for batch in parquet.iter_batches(batch_size=50_000):
            rows += batch.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise ContractFileError(file.path, rows + 1, f"an unreadable row group ({exc})",
                                "Apache Parquet") from None
    return FileCheck(file, rows, columns, extra)


# ---------------------------------------------------------------- dispatch


def iter_rows(file: TableFile) -> Iterator[tuple[int, RawRow]]:
    """Rows of a table file with their line (CSV, JSONL) or row number (Parquet)."""
    readers = {".csv": iter_csv, ".jsonl": iter_jsonl, ".parquet": iter_parquet}
    return readers[file.format](file)


def check_file(file: TableFile) -> FileCheck:
    """Read a whole file once without loading it: encoding, structure and header."""
    checks = {".csv": _csv_check, ".jsonl": _jsonl_check, ".parquet": _parquet_check}
    return checks[file.format](file)
