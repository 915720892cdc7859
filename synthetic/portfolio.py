"""Generate a whole synthetic portfolio: the four contract tables and the ground truth.

The portfolio is cut into chunks of :data:`CHUNK` applications. A chunk is a pure
function of the seed and its index: it gets its own random stream, its own partition
of phone, account, VIN and IP numbers, and its share of every group kind (fraud
patterns and honest look-alikes); it is filled up with plain honest applications,
shuffled, numbered, and turned into rows. Chunks can therefore be built in worker
processes in any order, and the parent writes them in index order: the files are the
same byte for byte whatever the number of workers, and memory stays flat.

What chunks share is built once from the seed (the *world*: dealers, employers, number
permutations). The only cross-chunk reconciliation is ID numbers, which the parent
keeps unique as it writes (:class:`~synthetic.identities.IdRegistry`).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path

from ingest.contract import APPLICATIONS, DEALERS, LABEL_TABLE, REPAYMENTS, ColumnType
from synthetic.applications import ApplicationFactory, Draft
from synthetic.dealers import DealerNetwork
from synthetic.employers import EmployerPool
from synthetic.identities import IdentityFactory, IdentitySpace, IdRegistry
from synthetic.investigations import investigate, review_singleton
from synthetic.loans import LoanFactory, repayment_rows
from synthetic.patterns import STRUCTURES, Patterns
from synthetic.rng import Rng
from synthetic.timeline import DEFAULT_AS_OF, Timeline
from synthetic.writers import FORMAT_NAMES, Layout, Payload, Row, TableFile, check_format

#: Applications built, shuffled and written together.
CHUNK = 5_000
#: Kind of the applications that belong to no group.
NO_GROUP = "none"
TRUTH_DIR = "truth"
TRUTH_APPLICATION_COLUMNS = ("application_id", "group_id", "group_kind", "is_fraud", "pattern")
TRUTH_GROUP_COLUMNS = ("group_id", "group_kind", "is_fraud", "size", "description")
_TRUTH_APPLICATIONS = Layout(TRUTH_APPLICATION_COLUMNS, [ColumnType.STRING] * 5, "csv")
_TRUTH_GROUPS = Layout(TRUTH_GROUP_COLUMNS, [ColumnType.STRING] * 5, "csv")
_TABLES = (DEALERS, APPLICATIONS, REPAYMENTS, LABEL_TABLE)
_APPLICATION_FIELDS = APPLICATIONS.column_names[1:]  # all but application_id
_ID_COLUMN = APPLICATIONS.column_names.index("applicant_id_number")


@dataclass(frozen=True)
class GenerationSummary:
    """What one generation run wrote."""

    out_dir: Path
    fmt: str
    seed: int
    as_of: date
    applications: int
    dealers: int
    repayments: int
    labels: int
    fraud_applications: int
    #: Groups written per group kind (every kind listed, zero included).
    groups: dict[str, int] = field(default_factory=dict)
    #: Table name (and ``truth/applications``, ``truth/groups``) to the file written.
    paths: dict[str, Path] = field(default_factory=dict)

    @property
    def fraud_share(self) -> float:
        return self.fraud_applications / self.applications if self.applications else 0.0


@dataclass(frozen=True)
class _Job:
    """Everything a chunk depends on besides its index."""

    seed: int
    applications: int
    as_of: date
    fmt: str


class _World:
    """What every chunk shares, built from the seed alone: dealers, employers, numbering."""

    def __init__(self, job: _Job) -> None:
        rng = Rng(f"world:{job.seed}")
        self.space = IdentitySpace(rng)
        setup = IdentityFactory(self.space, rng, job.as_of, partition=0)
        self.dealers = DealerNetwork(setup, job.applications, Timeline(rng, job.as_of).start)
        self.employers = EmployerPool(setup, job.applications)


@dataclass
class _Chunk:
    """One chunk's output. Applications stay rows: the parent may still fix ID numbers."""

    applications: list[Row]
    repayments: Payload
    labels: Payload
    truth: Payload
    groups: Payload
    repayment_count: int
    label_count: int
    fraud_count: int
    group_counts: dict[str, int]


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _build_chunk(job: _Job, world: _World, index: int) -> _Chunk:
    """Build chunk ``index``: its groups, its singletons, and all their rows."""
    rng = Rng(f"chunk:{job.seed}:{index}")
    identities = IdentityFactory(world.space, rng, job.as_of, partition=index + 1)
    timeline = Timeline(rng, job.as_of)
    factory = ApplicationFactory(
        identities, world.employers, world.dealers, LoanFactory(identities), timeline
    )
    patterns = Patterns(factory)
    first = index * CHUNK
    size = min(CHUNK, job.applications - first)

    batch: list[tuple[Draft, str, str]] = []
    group_rows: list[Row] = []
    group_counts = {s.kind: 0 for s in STRUCTURES}
    for structure in STRUCTURES:
        owed = structure.share * size
        smallest = min(structure.sizes)
        while owed > 0:
            n = min(rng.choice(structure.sizes), int(owed))
            if n < smallest:
                # Too little left for a whole group: build one anyway, with the odds
                # that keep the expected number of applications right.
                if rng.random() >= owed / smallest:
                    break
                n = smallest
            if len(batch) + n > size:
                break
            group = structure.build(patterns, n)
            investigate(group, job.as_of, rng)
            group_id = f"G{index:05d}-{len(group_rows) + 1:04d}"
            group_rows.append(
                (group_id, group.kind, _flag(group.is_fraud), len(group.drafts), group.description)
            )
            group_counts[group.kind] += 1
            owed -= len(group.drafts)
            batch.extend((d, group_id, group.kind) for d in group.drafts)
    while len(batch) < size:
        draft = patterns.singleton()
        review_singleton(draft, job.as_of, rng)
        batch.append((draft, "", NO_GROUP))

    # Shuffled before numbering, so neither file position nor id reveals a group.
    rng.shuffle(batch)
    app_rows: list[Row] = []
    repay_rows: list[Row] = []
    label_rows: list[Row] = []
    truth_rows: list[Row] = []
    for number, (draft, group_id, kind) in enumerate(batch, start=first + 1):
        app_id = f"APP{number:010d}"
        row = draft.row
        app_rows.append((app_id, *[row.get(c) for c in _APPLICATION_FIELDS]))
        truth_rows.append((app_id, group_id, kind, _flag(draft.is_fraud), draft.role))
        if draft.disbursed is not None:
            repay_rows += repayment_rows(
                app_id, draft.loan, draft.disbursed, draft.stop_at, job.as_of, rng
            )
        if draft.label is not None:
            label = draft.label
            label_rows.append((app_id, label.label, label.source, label.labeled_at.isoformat()))
    return _Chunk(
        applications=app_rows,
        repayments=Layout.of(REPAYMENTS, job.fmt).encode(repay_rows),
        labels=Layout.of(LABEL_TABLE, job.fmt).encode(label_rows),
        truth=_TRUTH_APPLICATIONS.encode(truth_rows),
        groups=_TRUTH_GROUPS.encode(group_rows),
        repayment_count=len(repay_rows),
        label_count=len(label_rows),
        fraud_count=sum(d.is_fraud for d, _, _ in batch),
        group_counts=group_counts,
    )


# Worker processes build the world once, then chunks on request.
_worker_state: tuple[_Job, _World] | None = None


def _start_worker(job: _Job) -> None:
    global _worker_state
    _worker_state = (job, _World(job))


def _chunk_in_worker(index: int) -> _Chunk:
    assert _worker_state is not None, "worker not started"
    job, world = _worker_state
    return _build_chunk(job, world, index)


def _chunks(job: _Job, world: _World, workers: int) -> Iterator[_Chunk]:
    """Every chunk in index order, built here or by ``workers`` processes."""
    count = -(-job.applications // CHUNK)
    if workers <= 1 or count <= 1:
        for index in range(count):
            yield _build_chunk(job, world, index)
        return
    # Spawned, not forked: safe even when the caller runs threads.
    context = get_context("spawn")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(job,)
    ) as pool:
        # A bounded window of chunks in flight keeps memory flat if writing lags.
        pending: deque[Future[_Chunk]] = deque()
        for index in range(count):
            pending.append(pool.submit(_chunk_in_worker, index))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _reconcile_ids(rows: list[Row], registry: IdRegistry) -> list[Row]:
    """Give any ID number an earlier chunk already used a fresh sequence number."""
    replacements = registry.claim(dict.fromkeys(str(r[_ID_COLUMN]).upper() for r in rows))
    if not replacements:
        return rows
    fixed: list[Row] = []
    for row in rows:
        typed = str(row[_ID_COLUMN])
        new = replacements.get(typed.upper())
        if new is not None:
            new = new[:-1] + "x" if typed.endswith("x") and new.endswith("X") else new
            row = (*row[:_ID_COLUMN], new, *row[_ID_COLUMN + 1 :])
        fixed.append(row)
    return fixed


def default_workers(applications: int) -> int:
    """Worker processes used when the caller does not say: one per core, at most 8."""
    chunks = -(-applications // CHUNK)
    return 1 if chunks <= 2 else min(os.cpu_count() or 1, chunks, 8)


def generate_portfolio(
    out_dir: Path,
    applications: int,
    seed: int,
    fmt: str = "csv",
    as_of: date | None = None,
    *,
    workers: int | None = None,
) -> GenerationSummary:
    """Write a synthetic loan-origination export of ``applications`` applications.

    ``out_dir`` receives ``dealers``, ``applications``, ``repayments`` and ``labels`` in
    ``fmt`` (``csv``, ``parquet`` or ``jsonl``) with exactly the contract's columns, and
    ``truth/applications.csv`` and ``truth/groups.csv`` with the ground truth.
    Applications are submitted over the two years before ``as_of`` (default
    :data:`~synthetic.timeline.DEFAULT_AS_OF`), the export date. Table files of the
    other formats already in ``out_dir`` are removed, so the folder holds one export.

    The same arguments always give byte-identical files, whatever ``workers`` is (worker
    processes, default :func:`default_workers`; 1 builds everything in this process).
    """
    check_format(fmt)
    if applications < 1:
        raise ValueError(f"applications must be at least 1, got {applications}")
    job = _Job(seed, applications, as_of or DEFAULT_AS_OF, fmt)
    world = _World(job)
    chunk_count = -(-applications // CHUNK)
    if chunk_count >= world.space.partitions:
        raise ValueError(
            f"applications must be at most {(world.space.partitions - 1) * CHUNK:,}, "
            f"got {applications:,}"
        )
    out_dir = Path(out_dir)
    (out_dir / TRUTH_DIR).mkdir(parents=True, exist_ok=True)
    paths = {t.name: out_dir / f"{t.name}.{fmt}" for t in _TABLES}
    # A table written earlier in another format would leave the folder ambiguous.
    for t in _TABLES:
        for other in FORMAT_NAMES:
            if other != fmt:
                (out_dir / f"{t.name}.{other}").unlink(missing_ok=True)
    paths["truth/applications"] = out_dir / TRUTH_DIR / "applications.csv"
    paths["truth/groups"] = out_dir / TRUTH_DIR / "groups.csv"
    totals = {"repayments": 0, "labels": 0, "fraud": 0}
    groups = {s.kind: 0 for s in STRUCTURES}
    registry = IdRegistry(Rng(f"ids:{seed}"))

    with ExitStack() as stack:

        def open_file(key: str, layout: Layout) -> TableFile:
            table_file = TableFile(paths[key], layout)
            stack.callback(table_file.close)
            return table_file

        dealer_file = open_file("dealers", Layout.of(DEALERS, fmt))
        app_file = open_file("applications", Layout.of(APPLICATIONS, fmt))
        repay_file = open_file("repayments", Layout.of(REPAYMENTS, fmt))
        label_file = open_file("labels", Layout.of(LABEL_TABLE, fmt))
        truth_file = open_file("truth/applications", _TRUTH_APPLICATIONS)
        group_file = open_file("truth/groups", _TRUTH_GROUPS)

        dealer_file.write_rows([d.row() for d in world.dealers.dealers])
        workers = default_workers(applications) if workers is None else workers
        for chunk in _chunks(job, world, workers):
            app_file.write_rows(_reconcile_ids(chunk.applications, registry))
            repay_file.write(chunk.repayments)
            label_file.write(chunk.labels)
            truth_file.write(chunk.truth)
            group_file.write(chunk.groups)
            totals["repayments"] += chunk.repayment_count
            totals["labels"] += chunk.label_count
            totals["fraud"] += chunk.fraud_count
            for kind, n in chunk.group_counts.items():
                groups[kind] += n

    return GenerationSummary(
        out_dir=out_dir,
        fmt=fmt,
        seed=seed,
        as_of=job.as_of,
        applications=applications,
        dealers=len(world.dealers.dealers),
        repayments=totals["repayments"],
        labels=totals["labels"],
        fraud_applications=totals["fraud"],
        groups=groups,
        paths=paths,
    )
