"""Ingest's exceptions: what was wrong, in which file, at which line, and what was expected."""

from __future__ import annotations

from pathlib import Path


class IngestError(RuntimeError):
    """Base of ingest failures that stop a run."""


class ContractFileError(IngestError):
    """A file (or folder) that cannot be read as the contract requires. Nothing is written."""

    def __init__(self, path: Path, line: int | None, problem: str, expected: str) -> None:
        where = f"{path}" + (f", line {line}" if line is not None else "")
        super().__init__(f"{where}: {problem}; expected {expected}")
        self.path = path
        self.line = line
        self.problem = problem
        self.expected = expected


class RowError(ValueError):
    """A row that is not loaded; it goes to the quarantine file with this reason."""

    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(f"{column}: {reason}" if column else reason)
        self.column = column
        self.reason = reason
