"""`fraudgraph ingest`: the pipeline of named steps from an export folder to the graph.

Steps: find the table files; pre-read every file whole (encoding, CSV structure, header),
so a file that cannot be parsed stops the run before anything is written; set up the
schema; then per table stream rows, validate them (in this process, or in worker
processes with ``workers``), batch, and write each batch in one transaction on a writer
thread while the next rows are being validated.
"""

from __future__ import annotations

import gc
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fraudgraph.logs import get_logger
from graph.constraints import ensure_schema
from graph.normalise import InvalidValue, plain_id
from graph.privacy import Pseudonymiser
from graph.runner import QueryRunner, Transaction
from graph.schema import Label, Rel
from ingest import load, records
from ingest.bulk import BulkTarget, StagedRow, StageTarget, StoreFiles, release_parts
from ingest.contract import APPLICATIONS, DEALERS, LABEL_TABLE, REPAYMENTS, Table
from ingest.readers import FileCheck, RawRow, TableFile, check_file, find_tables, iter_rows
from ingest.report import EXIT_OK, EXIT_QUARANTINED, IngestReport, Quarantine, TableCounts
from ingest.validate import Chunk, RowChecker, validator

log = get_logger("ingest")

#: Sessions that set up the schema after a bulk load: the 11 constraints' index fillings
#: overlap. On a 100k-application store, 4 took 2.3-2.9 s against 3.7 s one at a time.
SCHEMA_SESSIONS = 4

#: Called after each committed batch with the table name and the batch number (1-based).
BatchHook = Callable[[str, int], None]


@dataclass
class _Batch:
    table: Table
    records: list[records.Record | StagedRow]  # StagedRow: validated for a bulk load
    raws: dict[str, tuple[int, RawRow]]


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run without Python's cyclic garbage collector, while a bulk load validates and
    writes files. Validating a row makes dozens of containers, so the collector ran over
    and over the chunks held in memory: with it, validating took 220 µs a row and
    unpickling a worker's results 133 µs; without it, 158 and 18 µs. Validated rows make
    no reference cycles (reference counting frees them). Not while writing through the
    driver: paused for a whole transactional load, the loader grew from about 290 MiB to
    1,094 MiB at 100k applications, so something there does make cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def new_run_id() -> str:
    return f"ingest-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class IngestPipeline:
    """Loads one export folder; one instance per run."""

    def __init__(self, runner: QueryRunner, pseudo: Pseudonymiser, report_root: Path, *,
                 batch_size: int = 2000, today: date | None = None, progress: bool = False,
                 on_batch: BatchHook | None = None, workers: int = 0,
                 bulk: BulkTarget | None = None) -> None:
        self.runner = runner
        self.pseudo = pseudo
        self.batch_size = batch_size
        self.today = today or date.today()
        self.show_progress = progress
        self.on_batch = on_batch
        # Validation processes; 0 validates here. Off by default: on two cores shared with
        # Neo4j a worker made loads slower (README, benchmarks.ingest --workers).
        self.workers = workers
        # A first load into an empty database through the offline importer (ingest.bulk).
        self.bulk = bulk
        self.run_id = new_run_id()
        self.folder = report_root / self.run_id
        self.known_dealers: set[str] = set()
        self.placeholders: set[str] = set()

    # ----------------------------------------------------------------- steps

    def run(self, source: Path) -> IngestReport:
        started = time.monotonic()
        report = IngestReport(self.run_id, str(source), datetime.now(UTC).isoformat())
        files, warnings = find_tables(source)
        checks = [check_file(f) for f in files]
        report.warnings.extend(warnings)
        for check in checks:
            if check.extra_columns:
                report.warnings.append(f"{check.file.path.name}: extra columns ignored: "
                                       f"{', '.join(check.extra_columns)}")
        log.info("ingest.preflight", run_id=self.run_id,
                 files={c.file.table.name: c.rows for c in checks})
        if self.bulk is not None:
            # Refuses unless the database is empty (so no dealer is known yet), then stops
            # the server; the schema is set up once the importer has built the store.
            self.bulk.prepare(self.runner)
        else:
            ensure_schema(self.runner)
            self.known_dealers = {r["id"] for r in self.runner.read(load.EXISTING_DEALERS)}
        self.folder.mkdir(parents=True, exist_ok=True)
        quarantine = Quarantine(self.folder)
        try:
            with self._progress() as progress, RowChecker(self.pseudo, self.today,
                                                          self.workers) as checker:
                remaining = checks
                if self.bulk is not None:
                    remaining = self._bulk_load(self.bulk, checks, checker, quarantine,
                                                progress, report)
                for check in remaining:
                    counts = self._load_table(check, checker, quarantine, progress, report)
                    report.tables[check.file.table.name] = counts
                    log.info("ingest.table", table=check.file.table.name, read=counts.read,
                             loaded=counts.loaded, updated=counts.updated,
                             unchanged=counts.unchanged, quarantined=counts.quarantined)
        finally:
            quarantine.close()
        report.placeholder_dealers = sorted(self.placeholders)
        report.quarantine_files = quarantine.paths()
        report.exit_status = EXIT_QUARANTINED if report.quarantined else EXIT_OK
        report.finished_at = datetime.now(UTC).isoformat()
        report.duration_s = round(time.monotonic() - started, 3)
        self.runner.write(load.RECORD_RUN, run_id=self.run_id, props=_run_props(report))
        report.write(self.folder)
        return report

    def _progress(self) -> Progress:
        return Progress(TextColumn("{task.description:<13}"), BarColumn(), MofNCompleteColumn(),
                        TimeRemainingColumn(), disable=not self.show_progress, transient=False)

    def _load_table(self, check: FileCheck, checker: RowChecker, quarantine: Quarantine,
                    progress: Progress, report: IngestReport) -> TableCounts:
        table = check.file.table
        counts = TableCounts(file=str(check.file.path))
        task = progress.add_task(table.name, total=check.rows)
        pending: list[tuple[Future[load.Outcome], _Batch]] = []
        number = 0
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as writer:
            for batch in self._batches(check.file, checker, counts, quarantine):
                number += 1
                pending.append((writer.submit(self._write, batch, number), batch))
                # At most one batch in flight beside the one being validated: bounded memory.
                while len(pending) > 1:
                    self._settle(*pending.pop(0), counts, quarantine, report, progress, task)
            while pending:
                self._settle(*pending.pop(0), counts, quarantine, report, progress, task)
        progress.update(task, completed=check.rows)
        return counts

    # ------------------------------------------------------------ bulk load

    def _bulk_load(self, bulk: BulkTarget, checks: list[FileCheck], checker: RowChecker,
                   quarantine: Quarantine, progress: Progress,
                   report: IngestReport) -> list[FileCheck]:
        """Dealers and applications through the offline importer; returns the tables left
        for the transactional path."""
        staged = [c for c in checks if c.file.table in (DEALERS, APPLICATIONS)]
        clock = _Clock(report.steps)
        files = StoreFiles(self.folder / "bulk")
        deferred: list[_Batch] = []
        linked = _LinkedNodes()
        with cyclic_gc_paused():
            try:
                self._stage_tables(staged, checker, quarantine, progress, report,
                                   StageTarget(self.run_id, files.folder), linked, deferred)
            finally:
                release_parts(files.folder)
        linked.stage(files, self.known_dealers)
        files.close()
        report.relationships_created += files.application_relationships
        clock.lap("validate_and_write_files")
        log.info("ingest.bulk_import", run_id=self.run_id,
                 applications=files.rows(Label.APPLICATION), relationships=files.relationships)
        report.bulk_import = " ".join(bulk.load(files, self.folder / "import.log").split())
        clock.lap("import")
        bulk.start(self.runner)
        clock.lap("start")
        ensure_schema(self.runner, parallel=SCHEMA_SESSIONS)
        clock.lap("schema")
        bulk.check(self.runner, files)
        for batch in deferred:
            self._count(self._write(batch, 0), batch, report.tables[batch.table.name],
                        quarantine, report)
        bulk.finish()
        files.remove()
        clock.lap("check_and_updates")
        return [c for c in checks if c not in staged]

    def _stage_tables(self, staged: list[FileCheck], checker: RowChecker,
                      quarantine: Quarantine, progress: Progress, report: IngestReport,
                      stage: StageTarget, linked: _LinkedNodes, deferred: list[_Batch]) -> None:
        """Validate the bulk tables' rows; the validating processes write them as importer
        files, except a row whose key was seen before in this run, which is kept for the
        transactional path (it updates the earlier one there, as on that path)."""
        for check in staged:
            counts = TableCounts(file=str(check.file.path))
            task = progress.add_task(check.file.table.name, total=check.rows)
            repeated = _RepeatedKeys(_KEY_COLUMNS[check.file.table])
            number = 0
            for batch in self._batches(check.file, checker, counts, quarantine, stage,
                                       repeated.lines):
                number += 1
                for row in batch.records:
                    assert isinstance(row, StagedRow)
                    if not row.written:
                        deferred.append(self._revalidated(batch, row.key))
                        continue
                    counts.loaded += 1
                    linked.add(row)
                progress.advance(task, len(batch.records))
                if self.on_batch is not None:
                    self.on_batch(check.file.table.name, number)
            report.tables[check.file.table.name] = counts
            log.info("ingest.table", table=check.file.table.name, read=counts.read,
                     staged=counts.loaded, quarantined=counts.quarantined)

    def _revalidated(self, batch: _Batch, key: str) -> _Batch:
        """A staged row again as a record, for the transactional path."""
        line, raw = batch.raws[key]
        record = validator(batch.table, self.pseudo, self.today)(raw)
        return _Batch(batch.table, [record], {key: (line, raw)})

    def _batches(self, file: TableFile, checker: RowChecker, counts: TableCounts,
                 quarantine: Quarantine, stage: StageTarget | None = None,
                 skip: Callable[[Chunk], frozenset[int]] | None = None) -> Iterator[_Batch]:
        table = file.table
        batch = _Batch(table, [], {})
        for line, raw, checked in self._checked(file, checker, stage, skip):
            counts.read += 1
            if isinstance(checked, str):
                counts.quarantined += 1
                quarantine.add(table.name, table.column_names, line, raw, checked)
                continue
            record = self._accept(table, checked)
            for column in record.warnings:
                counts.warn(column)
            if record.key in batch.raws:
                # The same key twice: the later row updates the earlier one, in order.
                yield batch
                batch = _Batch(table, [], {})
            batch.records.append(record)
            batch.raws[record.key] = (line, raw)
            if len(batch.records) >= self.batch_size:
                yield batch
                batch = _Batch(table, [], {})
        if batch.records:
            yield batch

    def _checked(self, file: TableFile, checker: RowChecker, stage: StageTarget | None = None,
                 skip: Callable[[Chunk], frozenset[int]] | None = None,
                 ) -> Iterable[tuple[int, RawRow, records.Record | StagedRow | str]]:
        """Every row with its record or the reason it is rejected, in file order."""
        rows = iter_rows(file)
        chunks = iter(lambda: list(islice(rows, self.batch_size)), [])
        for chunk, results in checker.check(file.table, chunks, stage, skip):
            for (line, raw), result in zip(chunk, results, strict=True):
                yield line, raw, result

    def _accept(self, table: Table,
                record: records.Record | StagedRow) -> records.Record | StagedRow:
        # Which dealers are known is this run's state (the dealers table loads first), so
        # it is checked here, not where the rows are validated.
        if table is DEALERS:
            self.known_dealers.add(record.key)
        elif table is APPLICATIONS:
            dealer = record.props["dealer_id"]
            if dealer not in self.known_dealers:
                self.placeholders.add(dealer)
                record.warnings.append("dealer_id (unknown dealer: placeholder kept)")
        return record

    def _write(self, batch: _Batch, number: int) -> load.Outcome:
        with self.runner.transaction() as tx:
            outcome = _WRITERS[batch.table.name](tx, batch.records, self.run_id)
        if self.on_batch is not None:
            self.on_batch(batch.table.name, number)
        return outcome

    def _settle(self, future: Future[load.Outcome], batch: _Batch, counts: TableCounts,
                quarantine: Quarantine, report: IngestReport, progress: Progress,
                task: int) -> None:
        self._count(future.result(), batch, counts, quarantine, report)
        progress.advance(task, len(batch.records))

    @staticmethod
    def _count(outcome: load.Outcome, batch: _Batch, counts: TableCounts,
               quarantine: Quarantine, report: IngestReport) -> None:
        """What a written batch did, into the table's counts and the quarantine."""
        counts.loaded += outcome.new
        counts.updated += outcome.updated
        counts.unchanged += outcome.unchanged
        report.relationships_created += outcome.relationships
        for key in outcome.missing:
            line, raw = batch.raws[key]
            counts.quarantined += 1
            quarantine.add(batch.table.name, batch.table.column_names, line, raw,
                           "application_id: names no loaded application")


class _Clock:
    """Seconds per named step, into ``steps``."""

    def __init__(self, steps: dict[str, float]) -> None:
        self.steps = steps
        self.last = time.monotonic()

    def lap(self, step: str) -> None:
        now = time.monotonic()
        self.steps[step] = round(now - self.last, 3)
        self.last = now


_KEY_COLUMNS = {DEALERS: "dealer_id", APPLICATIONS: "application_id"}


class _RepeatedKeys:
    """A bulk table's keys seen so far in the run, read from the raw rows in file order
    (before validation, which happens elsewhere and out of order)."""

    def __init__(self, column: str) -> None:
        self.column = column
        self.seen: set[str] = set()

    def lines(self, chunk: Chunk) -> frozenset[int]:
        """The lines of a chunk whose key an earlier row had."""
        repeated = []
        for line, raw in chunk:
            value = raw.get(self.column)
            try:
                key = plain_id(value) if isinstance(value, str) else None
            except InvalidValue:
                key = None  # the row is quarantined by its validation
            if key is None:
                continue
            if key in self.seen:
                repeated.append(line)
            else:
                self.seen.add(key)
        return frozenset(repeated)


@dataclass
class _LinkedNodes:
    """Nodes many applications share, gathered during a bulk load and written once."""

    dealers: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)
    works_at: set[tuple[str, str]] = field(default_factory=set)

    def add(self, row: StagedRow) -> None:
        dealer, agent = row.props.get("dealer_id"), row.props.get("sales_agent_id")
        if dealer is not None:
            self.dealers.add(dealer)
            if agent:
                self.agents.add(agent)
                self.works_at.add((agent, dealer))

    def stage(self, files: StoreFiles, known_dealers: set[str]) -> None:
        for dealer in sorted(self.dealers - known_dealers):
            files.node(Label.DEALER, dealer, load.placeholder_dealer(dealer))
        for agent in sorted(self.agents):
            files.node(Label.SALES_AGENT, agent, {})
        for agent, dealer in sorted(self.works_at):
            files.relationship(Rel.WORKS_AT, (Label.SALES_AGENT, agent), (Label.DEALER, dealer))


def _run_props(report: IngestReport) -> dict[str, object]:
    props: dict[str, object] = {
        "source": report.source,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "exit_status": report.exit_status,
    }
    for name, counts in report.tables.items():
        for field_name in ("read", "loaded", "updated", "unchanged", "quarantined"):
            props[f"{name}_{field_name}"] = getattr(counts, field_name)
    return props


_WRITERS: dict[str, Callable[[Transaction, list[records.Record], str], load.Outcome]] = {
    DEALERS.name: lambda tx, rows, _run: load.write_dealers(tx, rows),
    APPLICATIONS.name: load.write_applications,
    REPAYMENTS.name: lambda tx, rows, _run: load.write_installments(tx, rows),
    LABEL_TABLE.name: lambda tx, rows, _run: load.write_labels(tx, rows),
}


def ingest_folder(source: Path, runner: QueryRunner, pseudo: Pseudonymiser, report_root: Path,
                  **options: object) -> IngestReport:
    """Load an export folder; see ``IngestPipeline`` for the options."""
    return IngestPipeline(runner, pseudo, report_root, **options).run(source)  # type: ignore[arg-type]
