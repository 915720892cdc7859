"""Streaming table writers for the three contract formats.

Rows arrive in chunks and leave at once (CSV, JSON Lines) or as one Parquet row group
per buffer, so memory does not grow with the number of rows. A row is a tuple in the
table's column order; ``None`` is an absent value (empty in CSV, null elsewhere).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Protocol

from ingest.contract import FORMATS, ColumnType

#: Format names accepted by the generator: the contract's extensions without the dot.
FORMAT_NAMES: tuple[str, ...] = tuple(ext.lstrip(".") for ext in FORMATS)

Row = Sequence[object]


class TableWriter(Protocol):
    def write(self, rows: Iterable[Row]) -> None: ...

    def close(self) -> None: ...


class CsvWriter:
    """RFC 4180 CSV (the csv module's default dialect: CRLF, minimal quoting), UTF-8."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(columns)

    def write(self, rows: Iterable[Row]) -> None:
        self._writer.writerows(rows)

    def close(self) -> None:
        self._file.close()


class JsonlWriter:
    """One JSON object per line, every column present, Chinese text unescaped."""

    def __init__(self, path: Path, columns: Sequence[str]) -> None:
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._columns = tuple(columns)

    def write(self, rows: Iterable[Row]) -> None:
        columns, dumps = self._columns, json.dumps
        self._file.write(
            "".join(dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) + "\n" for row in rows)
        )

    def close(self) -> None:
        self._file.close()


class ParquetWriter:
    """Parquet with one row group per ``row_group`` buffered rows.

    Strings, dates and datetimes are stored as text (ISO 8601, as in the other
    formats), decimals as float64, integers as int64.
    """

    def __init__(
        self, path: Path, columns: Sequence[str], types: Sequence[ColumnType], row_group: int = 100_000
    ) -> None:
        import pyarrow as pa  # only Parquet runs pay for the import
        import pyarrow.parquet as pq

        self._pa = pa
        arrow = {ColumnType.DECIMAL: pa.float64(), ColumnType.INTEGER: pa.int64()}
        self._schema = pa.schema([(c, arrow.get(t, pa.string())) for c, t in zip(columns, types, strict=True)])
        self._writer: Any = pq.ParquetWriter(path, self._schema)
        self._buffer: list[Row] = []
        self._row_group = row_group

    def write(self, rows: Iterable[Row]) -> None:
        self._buffer.extend(rows)
        if len(self._buffer) >= self._row_group:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        pa = self._pa
        columns = list(zip(*self._buffer, strict=True))
        arrays = [pa.array(values, type=field.type) for values, field in zip(columns, self._schema, strict=True)]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self._schema))
        self._buffer = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


def open_writer(path: Path, columns: Sequence[str], types: Sequence[ColumnType], fmt: str) -> TableWriter:
    """A writer for ``path`` in ``fmt`` (one of :data:`FORMAT_NAMES`)."""
    if fmt == "csv":
        return CsvWriter(path, columns)
    if fmt == "jsonl":
        return JsonlWriter(path, columns)
    if fmt == "parquet":
        return ParquetWriter(path, columns, types)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMAT_NAMES)}")
