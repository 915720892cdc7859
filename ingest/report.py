"""The run report (JSON) and the quarantine files written beside it."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ingest.readers import RawRow

# Exit statuses of `fraudgraph ingest`, as the contract asks: the status says whether any
# row was quarantined, and a file that cannot be read stops the run before any write.
EXIT_OK = 0
EXIT_QUARANTINED = 1
EXIT_BAD_FILE = 2
EXIT_DATABASE = 3
EXIT_STOPPED = 4  # the run stopped part-way (a worker died); re-running the folder converges


@dataclass
class TableCounts:
    file: str = ""
    read: int = 0
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    quarantined: int = 0
    field_warnings: dict[str, int] = field(default_factory=dict)

    def warn(self, column: str) -> None:
        self.field_warnings[column] = self.field_warnings.get(column, 0) + 1


@dataclass
class IngestReport:
    run_id: str
    source: str
    started_at: str
    finished_at: str = ""
    duration_s: float = 0.0
    tables: dict[str, TableCounts] = field(default_factory=dict)
    relationships_created: int = 0
    warnings: list[str] = field(default_factory=list)
    placeholder_dealers: list[str] = field(default_factory=list)
    quarantine_files: dict[str, str] = field(default_factory=dict)
    # The offline importer's closing summary, when dealers and applications were bulk-loaded.
    bulk_import: str | None = None
    steps: dict[str, float] = field(default_factory=dict)  # seconds per step of a bulk load
    exit_status: int = EXIT_OK
    report_path: str = ""

    @property
    def quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables.values())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, folder: Path) -> Path:
        path = folder / "report.json"
        self.report_path = str(path)
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path


class Quarantine:
    """Rejected rows, unchanged, with the line they came from and the reason.

    The files hold the rows as exported, personal data included, so they are created
    readable by the owner only.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._files: dict[str, tuple[TextIO, csv.DictWriter[str], list[str]]] = {}

    def add(self, table: str, columns: tuple[str, ...], line: int, raw: RawRow,
            reason: str) -> None:
        if table not in self._files:
            path = self.folder / f"quarantine_{table}.csv"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            handle = open(fd, "w", encoding="utf-8", newline="")
            names = ["_line", "_reason", *columns]
            writer = csv.DictWriter(handle, fieldnames=names, extrasaction="ignore")
            writer.writeheader()
            self._files[table] = (handle, writer, names)
        _, writer, _ = self._files[table]
        row = {k: ("" if v is None else v) for k, v in raw.items() if k != "__error__"}
        writer.writerow({"_line": line, "_reason": reason, **row})

    def paths(self) -> dict[str, str]:
        return {table: str(self.folder / f"quarantine_{table}.csv") for table in self._files}

    def close(self) -> None:
        for handle, _, _ in self._files.values():
            handle.close()
