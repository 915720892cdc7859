"""Generate a whole synthetic portfolio: the four contract tables and the ground truth.

Applications are produced in chunks. Each chunk gets its share of every group kind
(fraud patterns and honest look-alikes), is filled up with plain honest applications,
shuffled, numbered and written, with its repayments, labels and truth rows; then it is
dropped. Memory therefore stays flat however many applications are asked for. One
seeded :class:`~synthetic.rng.Rng` drives every draw in a fixed order, so a seed (with the same
count, format and export date) always yields byte-identical files.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingest.contract import APPLICATIONS, DEALERS, LABEL_TABLE, REPAYMENTS, Table
from synthetic.applications import ApplicationFactory, Draft
from synthetic.dealers import DealerNetwork
from synthetic.employers import EmployerPool
from synthetic.identities import IdentityFactory
from synthetic.investigations import investigate, review_singleton
from synthetic.loans import LoanFactory, repayment_rows
from synthetic.patterns import STRUCTURES, Patterns
from synthetic.rng import Rng
from synthetic.timeline import DEFAULT_AS_OF, Timeline
from synthetic.writers import FORMAT_NAMES, CsvWriter, TableWriter, open_writer

#: Applications generated, shuffled and written together.
CHUNK = 5_000
#: Kind of the applications that belong to no group.
NO_GROUP = "none"
TRUTH_DIR = "truth"
TRUTH_APPLICATION_COLUMNS = ("application_id", "group_id", "group_kind", "is_fraud", "pattern")
TRUTH_GROUP_COLUMNS = ("group_id", "group_kind", "is_fraud", "size", "description")
_APPLICATION_FIELDS = APPLICATIONS.column_names[1:]  # all but application_id


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


def _flag(value: bool) -> str:
    return "true" if value else "false"


def generate_portfolio(
    out_dir: Path,
    applications: int,
    seed: int,
    fmt: str = "csv",
    as_of: date | None = None,
) -> GenerationSummary:
    """Write a synthetic loan-origination export of ``applications`` applications.

    ``out_dir`` receives ``dealers``, ``applications``, ``repayments`` and ``labels`` in
    ``fmt`` (``csv``, ``parquet`` or ``jsonl``) with exactly the contract's columns, and
    ``truth/applications.csv`` and ``truth/groups.csv`` with the ground truth.
    Applications are submitted over the two years before ``as_of`` (default
    :data:`~synthetic.timeline.DEFAULT_AS_OF`), the export date.
    """
    if fmt not in FORMAT_NAMES:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMAT_NAMES)}")
    if applications < 1:
        raise ValueError(f"applications must be at least 1, got {applications}")
    as_of = as_of or DEFAULT_AS_OF
    out_dir = Path(out_dir)
    (out_dir / TRUTH_DIR).mkdir(parents=True, exist_ok=True)

    rng = Rng(seed)
    identities = IdentityFactory(rng, as_of)
    timeline = Timeline(rng, as_of)
    dealers = DealerNetwork(identities, applications, timeline.start)
    employers = EmployerPool(identities, applications)
    factory = ApplicationFactory(identities, employers, dealers, LoanFactory(identities), timeline)
    patterns = Patterns(factory)

    paths = {t.name: out_dir / f"{t.name}.{fmt}" for t in (DEALERS, APPLICATIONS, REPAYMENTS, LABEL_TABLE)}
    paths["truth/applications"] = out_dir / TRUTH_DIR / "applications.csv"
    paths["truth/groups"] = out_dir / TRUTH_DIR / "groups.csv"
    counts = {"repayments": 0, "labels": 0, "fraud": 0}
    groups = {s.kind: 0 for s in STRUCTURES}

    with ExitStack() as stack:

        def table(t: Table) -> TableWriter:
            writer = open_writer(paths[t.name], t.column_names, [c.type for c in t.columns], fmt)
            stack.callback(writer.close)
            return writer

        dealer_out, app_out, repay_out, label_out = (
            table(t) for t in (DEALERS, APPLICATIONS, REPAYMENTS, LABEL_TABLE)
        )
        truth_out = CsvWriter(paths["truth/applications"], TRUTH_APPLICATION_COLUMNS)
        stack.callback(truth_out.close)
        group_out = CsvWriter(paths["truth/groups"], TRUTH_GROUP_COLUMNS)
        stack.callback(group_out.close)

        dealer_out.write(d.row() for d in dealers.dealers)
        owed = {s.kind: 0.0 for s in STRUCTURES}
        next_id = 1
        for start in range(0, applications, CHUNK):
            size = min(CHUNK, applications - start)
            batch: list[tuple[Draft, str, str]] = []
            # Each kind is owed its share of this chunk plus what earlier chunks could
            # not fit; whole groups are built while the debt allows one.
            for structure in STRUCTURES:
                owed[structure.kind] += structure.share * size
                while True:
                    n = min(rng.choice(structure.sizes), int(owed[structure.kind]))
                    if n < min(structure.sizes) or len(batch) + n > size:
                        break
                    group = structure.build(patterns, n)
                    investigate(group, as_of, rng)
                    groups[group.kind] += 1
                    group_id = f"G{sum(groups.values()):06d}"
                    owed[group.kind] -= len(group.drafts)
                    batch.extend((d, group_id, group.kind) for d in group.drafts)
                    group_out.write(
                        [(group_id, group.kind, _flag(group.is_fraud), len(group.drafts), group.description)]
                    )
            while len(batch) < size:
                draft = patterns.singleton()
                review_singleton(draft, as_of, rng)
                batch.append((draft, "", NO_GROUP))
            # Shuffled before numbering, so neither file position nor id reveals a group.
            rng.shuffle(batch)
            app_rows, repay_rows, label_rows, truth_rows = [], [], [], []
            for draft, group_id, kind in batch:
                app_id = f"APP{next_id:010d}"
                next_id += 1
                row = draft.row
                app_rows.append((app_id, *[row.get(c) for c in _APPLICATION_FIELDS]))
                truth_rows.append((app_id, group_id, kind, _flag(draft.is_fraud), draft.role))
                if draft.disbursed is not None:
                    repay_rows += repayment_rows(app_id, draft.loan, draft.disbursed, draft.stop_at, as_of, rng)
                if draft.label is not None:
                    label = draft.label
                    label_rows.append((app_id, label.label, label.source, label.labeled_at.isoformat()))
                counts["fraud"] += draft.is_fraud
            app_out.write(app_rows)
            repay_out.write(repay_rows)
            label_out.write(label_rows)
            truth_out.write(truth_rows)
            counts["repayments"] += len(repay_rows)
            counts["labels"] += len(label_rows)

    return GenerationSummary(
        out_dir=out_dir,
        fmt=fmt,
        seed=seed,
        as_of=as_of,
        applications=applications,
        dealers=len(dealers.dealers),
        repayments=counts["repayments"],
        labels=counts["labels"],
        fraud_applications=counts["fraud"],
        groups=groups,
        paths=paths,
    )
