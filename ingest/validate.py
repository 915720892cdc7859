"""Row validation in worker processes, so that it runs beside the writes, not in turn.

Validation (normalising, hashing, encrypting) is pure Python and costs 60-160 µs a row;
the writes' Python side (payloads, the driver) needs the GIL too. In one process the two
take turns on one core; in a worker process validation gets a core of its own.

The parent reads the rows and sends them a chunk at a time; results come back in the
order the chunks were sent, a bounded number of chunks ahead, so memory stays flat. A
row's result is its ``Record``, or the reason it goes to quarantine (a ``str``). For a bulk
load, the worker writes a valid row's importer rows to its own files (``ingest.bulk``) and
returns only what the parent decides on (a ``StagedRow``).
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date
from typing import TypeAlias

from graph.privacy import Pseudonymiser
from ingest import records
from ingest.bulk import StagedRow, StageTarget, process_parts, stage_record, staged_row
from ingest.contract import APPLICATIONS, DEALERS, LABEL_TABLE, REPAYMENTS, TABLES_BY_NAME, Table
from ingest.errors import IngestError, RowError
from ingest.readers import RawRow

Chunk: TypeAlias = list[tuple[int, RawRow]]
Checked: TypeAlias = list[records.Record | StagedRow | str]


class ValidationWorkerError(IngestError):
    """A validation worker process died or failed. The batches written before are whole
    transactions, so re-running the same folder converges."""


def check_chunk(table: Table, chunk: Chunk, pseudo: Pseudonymiser, today: date,
                stage: StageTarget | None = None, skip: frozenset[int] = frozenset(),
                ) -> Checked:
    """Validate rows: each one's record, or the reason it is rejected. With ``stage`` (a
    bulk load), valid rows are written as the offline importer's rows, except those on the
    lines in ``skip`` (a key seen before in the run), and come back as ``StagedRow``."""
    validate = validator(table, pseudo, today)
    checked: Checked = []
    parts = process_parts(stage.folder) if stage is not None else None
    for line, raw in chunk:
        try:
            record = validate(raw)
        except RowError as exc:
            checked.append(str(exc))
            continue
        if parts is None:
            checked.append(record)
            continue
        assert stage is not None
        written = line not in skip
        if written:
            stage_record(parts, table.name, record, stage.run_id)
        checked.append(staged_row(record, written))
    if parts is not None:
        parts.flush()  # the parent reads the files once every chunk's result is in
    return checked


def validator(table: Table, pseudo: Pseudonymiser,
               today: date) -> Callable[[RawRow], records.Record]:
    if table is DEALERS:
        return lambda raw: records.to_dealer(raw, pseudo)
    if table is APPLICATIONS:
        return lambda raw: records.to_application(raw, pseudo, today)
    if table is REPAYMENTS:
        return lambda raw: records.to_installment(raw, pseudo)
    if table is LABEL_TABLE:
        return lambda raw: records.to_label(raw, pseudo)
    raise ValueError(f"no validator for table {table.name}")


# ------------------------------------------------------------- worker process side

_worker: tuple[Pseudonymiser, date] | None = None


def _start_worker(pseudo: Pseudonymiser, today: date) -> None:
    global _worker
    _worker = (pseudo, today)
    # See ``pipeline.cyclic_gc_paused``: a worker does nothing but validate rows.
    gc.disable()


def _check_in_worker(table_name: str, chunk: Chunk, stage: StageTarget | None,
                     skip: frozenset[int]) -> Checked:
    assert _worker is not None, "worker started without _start_worker"
    return check_chunk(TABLES_BY_NAME[table_name], chunk, *_worker, stage, skip)


# ------------------------------------------------------------- parent side


class RowChecker:
    """Validates chunks of rows in order: in this process (``workers=0``) or in a pool of
    worker processes. A context manager; leaving it stops the workers."""

    def __init__(self, pseudo: Pseudonymiser, today: date, workers: int) -> None:
        self.pseudo = pseudo
        self.today = today
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> RowChecker:
        if self.workers > 0:
            # forkserver: workers start from a clean single-threaded process, never a fork
            # of this one with its driver and writer threads; the preload makes each
            # worker's start a fork of an interpreter that has the validators imported.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["ingest.validate"])
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_start_worker,
                initargs=(self.pseudo, self.today))
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def check(self, table: Table, chunks: Iterable[Chunk], stage: StageTarget | None = None,
              skip: Callable[[Chunk], frozenset[int]] | None = None,
              ) -> Iterator[tuple[Chunk, Checked]]:
        """Each chunk with its results, in the order given (see ``check_chunk``); ``skip``
        gives a chunk's lines not to stage. It runs here, in order, before the chunk is
        sent."""
        def lines(chunk: Chunk) -> frozenset[int]:
            return skip(chunk) if skip is not None else frozenset()

        if self._pool is None:
            for chunk in chunks:
                yield chunk, check_chunk(table, chunk, self.pseudo, self.today, stage,
                                         lines(chunk))
            return
        # Two chunks per worker in flight: each always has the next one queued, and no
        # more than that is held.
        ahead = 2 * self.workers
        pending: deque[tuple[Chunk, Future[Checked]]] = deque()
        for chunk in chunks:
            pending.append((chunk, self._submit(table, chunk, stage, lines(chunk))))
            if len(pending) >= ahead:
                yield self._result(table, *pending.popleft())
        while pending:
            yield self._result(table, *pending.popleft())

    def _submit(self, table: Table, chunk: Chunk, stage: StageTarget | None,
                skip: frozenset[int]) -> Future[Checked]:
        assert self._pool is not None
        try:
            return self._pool.submit(_check_in_worker, table.name, chunk, stage, skip)
        except BrokenProcessPool as exc:
            raise self._failed(table, chunk, exc) from exc

    def _result(self, table: Table, chunk: Chunk,
                future: Future[Checked]) -> tuple[Chunk, Checked]:
        try:
            return chunk, future.result()
        except BrokenProcessPool as exc:
            raise self._failed(table, chunk, exc) from exc
        except Exception as exc:  # a bug in a validator: not the row's fault
            raise self._failed(table, chunk, exc) from exc

    @staticmethod
    def _failed(table: Table, chunk: Chunk, exc: BaseException) -> ValidationWorkerError:
        lines = f"lines {chunk[0][0]}-{chunk[-1][0]}" if chunk else "no rows"
        return ValidationWorkerError(
            f"validating {table.name} ({lines}) failed in a worker process: "
            f"{type(exc).__name__}: {str(exc).rstrip('.')}. Batches already written are complete; "
            f"re-run the same folder to finish the load.")
