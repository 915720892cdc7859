"""Table files in the three contract formats, written chunk by chunk.

Encoding and writing are separate steps so that worker processes can encode their
chunk (CSV or JSON Lines text, or an Arrow table for Parquet) and the parent only
appends it: the parent's work stays small and memory does not grow with the number of
rows. A row is a tuple in the table's column order; ``None`` is an absent value (empty
in CSV, null elsewhere).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any

from ingest.contract import FORMATS, ColumnType, Table

#: Format names accepted by the generator: the contract's extensions without the dot.
FORMAT_NAMES: tuple[str, ...] = tuple(ext.lstrip(".") for ext in FORMATS)

Row = Sequence[object]
#: An encoded chunk: text for CSV and JSON Lines, a ``pyarrow.Table`` for Parquet.
Payload = Any


def check_format(fmt: str) -> None:
    """Refuse a format name outside :data:`FORMAT_NAMES`, saying which are allowed."""
    if fmt not in FORMAT_NAMES:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMAT_NAMES)}")


class Layout:
    """Column names and types of one output file, and its format."""

    def __init__(self, columns: Sequence[str], types: Sequence[ColumnType], fmt: str) -> None:
        check_format(fmt)
        self.columns = tuple(columns)
        self.types = tuple(types)
        self.fmt = fmt

    @classmethod
    def of(cls, table: Table, fmt: str) -> Layout:
        return cls(table.column_names, [c.type for c in table.columns], fmt)

    def encode(self, rows: Sequence[Row]) -> Payload:
        """Encode rows for :meth:`TableFile.write`; safe to call in a worker process."""
        if self.fmt == "csv":
            buffer = io.StringIO()
            csv.writer(buffer).writerows(rows)  # RFC 4180: CRLF, minimal quoting
            return buffer.getvalue()
        if self.fmt == "jsonl":
            columns, dumps = self.columns, json.dumps
            return "".join(
                dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False) + "\n"
                for row in rows
            )
        return self._arrow(rows)

    def _arrow(self, rows: Sequence[Row]) -> Payload:
        # Strings, dates and datetimes stay ISO text as in the other formats; decimals
        # are float64 and integers int64.
        import pyarrow as pa  # only Parquet runs pay for the import

        arrow = {ColumnType.DECIMAL: pa.float64(), ColumnType.INTEGER: pa.int64()}
        schema = pa.schema(
            [(c, arrow.get(t, pa.string())) for c, t in zip(self.columns, self.types, strict=True)]
        )
        values = list(zip(*rows, strict=True)) if rows else [()] * len(self.columns)
        arrays = [pa.array(v, type=f.type) for v, f in zip(values, schema, strict=True)]
        return pa.Table.from_arrays(arrays, schema=schema)


class TableFile:
    """One output file; takes encoded chunks in order.

    Parquet chunks are gathered into row groups of about ``row_group`` rows.
    """

    def __init__(self, path: Path, layout: Layout, row_group: int = 100_000) -> None:
        self.layout = layout
        self._pending: list[Payload] = []
        self._pending_rows = 0
        self._row_group = row_group
        if layout.fmt == "parquet":
            import pyarrow.parquet as pq

            self._parquet: Any = pq.ParquetWriter(path, layout.encode([]).schema)
        else:
            self._text: IO[str] = path.open("w", newline="", encoding="utf-8")
            if layout.fmt == "csv":
                csv.writer(self._text).writerow(layout.columns)

    def write(self, payload: Payload) -> None:
        if self.layout.fmt != "parquet":
            self._text.write(payload)
            return
        self._pending.append(payload)
        self._pending_rows += payload.num_rows
        if self._pending_rows >= self._row_group:
            self._flush()

    def write_rows(self, rows: Sequence[Row]) -> None:
        self.write(self.layout.encode(rows))

    def _flush(self) -> None:
        import pyarrow as pa

        if self._pending_rows:
            self._parquet.write_table(pa.concat_tables(self._pending))
        self._pending, self._pending_rows = [], 0

    def close(self) -> None:
        if self.layout.fmt == "parquet":
            self._flush()
            self._parquet.close()
        else:
            self._text.close()
