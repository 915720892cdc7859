"""The initial load of an empty database through Neo4j's offline importer.

`MERGE` in transactions is the right tool for loading into a live graph, but on an empty
one most of its work is wasted: every row looks up keys that cannot exist yet, and index
entries and locks are kept up to date row by row. Neo4j's own answer for a first load is
``neo4j-admin database import full``, which writes the store files directly from CSV.

``fraudgraph ingest --bulk`` therefore validates the dealers and applications tables
exactly as the transactional path does (the same records, quarantine, warnings and
report), writes them as the importer's CSV files (``StoreFiles``), stops the project's
server, runs the importer, starts the server and sets up the schema. What the importer
cannot express loads through the transactional path afterwards: the repayments and labels
tables, and a row whose key was already seen in this run (the later row updates the
earlier one, as it does there). Re-running the folder afterwards finds every row
unchanged, because the imported applications carry the same fingerprints.

Only an empty database qualifies (checked before anything is stopped), and only the
project's own server (the importer writes its store). A marker file, written once the
database was found empty, lets a run that stopped half way be re-run with ``--bulk``:
what it left is only this load's own data, which the importer replaces.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from fraudgraph.settings import Settings
from graph import server
from graph.runner import Query, QueryRunner
from graph.schema import NODE_KEYS, Label, Rel
from ingest.errors import IngestError
from ingest.load import application_links
from ingest.records import Record


class BulkLoadError(IngestError):
    """A bulk load whose import failed or does not add up. Re-run it with ``--bulk``."""


class BulkRefused(BulkLoadError):
    """A bulk load that cannot run here (not an empty database, not the project's own
    server). Nothing was written or stopped."""


COUNT_NODES = Query("bulk.count_nodes", "MATCH (n) RETURN count(n) AS n")
COUNT_IMPORTED = Query(
    "bulk.count_imported",
    "MATCH (a:Application) WITH count(a) AS applications "
    "MATCH ()-[r]->() RETURN applications, count(r) AS relationships",
)

#: The properties that are not strings, with the importer's header type and the Python
#: type a record holds. Declared rather than inferred, because rows are formatted in the
#: validation workers and the header is written by the parent: a property of another
#: type is a ``BulkLoadError`` (a record changed shape), and the equivalence test fails.
PROPERTY_TYPES: dict[str, tuple[str, type]] = {
    "submitted_at": ("datetime", datetime),
    "vehicle_price": ("double", float),
    "loan_amount": ("double", float),
    "down_payment": ("double", float),
    "monthly_income": ("double", float),
    "term_months": ("long", int),
    "birth_year": ("long", int),
    "is_mobile": ("boolean", bool),
    "placeholder": ("boolean", bool),
    "onboarded_on": ("date", date),
}


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""  # the importer runs with --ignore-empty-strings: no property
    declared = PROPERTY_TYPES.get(name)
    expected = declared[1] if declared else str
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise BulkLoadError(f"property {name} holds a {type(value).__name__}, declared "
                            f"{expected.__name__} (ingest.bulk.PROPERTY_TYPES)")
    if expected is bool:
        return "true" if value else "false"
    if expected is float:
        return repr(value)
    if expected in (datetime, date):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def node_cells(key: str, props: Mapping[str, Any]) -> tuple[tuple[str, ...], list[str]]:
    """A node as the importer's columns (its key first, implied) and cells."""
    return tuple(props), [key, *(_cell(name, value) for name, value in props.items())]


@dataclass
class StagedRow:
    """A validated row as the importer's cells, formatted in the validation worker, so
    that the parent, which reads the input and writes every file, only writes lines.
    ``props`` keeps what the parent decides on (the dealer and agent)."""

    key: str
    warnings: list[str]
    props: dict[str, Any]
    # Labels and types as their plain string values, the cheapest to send.
    nodes: list[tuple[str, tuple[str, ...], list[str]]]
    rels: list[tuple[str, str, str]]


def stage_record(table_name: str, record: Record, run_id: str) -> StagedRow:
    """A dealer or application record as importer rows: its own node, and for an
    application its identifier nodes and every relationship it starts."""
    if table_name == "dealers":
        node = node_cells(record.key, {**record.props, "fingerprint": record.fingerprint})
        return StagedRow(record.key, record.warnings, {}, [(Label.DEALER.value, *node)], [])
    nodes = [(Label.APPLICATION.value, *node_cells(record.key, {
        **record.props, "fingerprint": record.fingerprint, "ingest_run": run_id,
        "status": "submitted"}))]
    rels: list[tuple[str, str, str]] = []
    for label, key, props, rel in application_links(record):
        if label not in (Label.DEALER, Label.SALES_AGENT):  # written once, by the parent
            nodes.append((label.value, *node_cells(key, props)))
        rels.append((rel.value, label.value, key))
    return StagedRow(record.key, record.warnings,
                     {"dealer_id": record.props["dealer_id"],
                      "sales_agent_id": record.props.get("sales_agent_id")}, nodes, rels)


#: Keys per label remembered to skip repeated identifier rows (about 100 bytes each).
RECENT_KEYS = 200_000


class _NodeFile:
    """One label's node rows. Its columns are fixed by the first row (every record of a
    label has the same properties); the header is written last, to its own file, which
    the importer reads before the data."""

    def __init__(self, folder: Path, label: Label) -> None:
        self.label = label
        self.key = NODE_KEYS[label]
        self.data = folder / f"nodes-{label.value}.csv"
        self.header = folder / f"nodes-{label.value}.header.csv"
        self._handle: IO[str] = self.data.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self.columns: tuple[str, ...] | None = None
        self.recent: set[str] = set()
        self.rows = 0

    def write(self, columns: tuple[str, ...], cells: list[str]) -> None:
        if self.columns is None:
            self.columns = columns
        elif columns != self.columns:
            raise BulkLoadError(f"{self.label.value} rows differ in their properties: "
                                f"{sorted(set(columns) ^ set(self.columns))}")
        self._writer.writerow(cells)
        self.rows += 1

    def close(self) -> server.ImportInput:
        self._handle.close()
        header = [f"{self.key}:ID({self.label.value})"] + [
            f"{name}:{PROPERTY_TYPES[name][0]}" if name in PROPERTY_TYPES else name
            for name in self.columns or ()]
        with self.header.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerow(header)
        return server.ImportInput(self.label.value, (self.header, self.data))


class _RelationshipFile:
    def __init__(self, folder: Path, rel: Rel, start: Label, end: Label) -> None:
        self.rel = rel
        self.header = folder / f"rels-{rel.value}.header.csv"
        self.data = folder / f"rels-{rel.value}.csv"
        self.header.write_text(f":START_ID({start.value}),:END_ID({end.value})\n",
                               encoding="utf-8")
        self._handle: IO[str] = self.data.open("w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._handle)
        self.ends = (start, end)
        self.rows = 0

    def write(self, start: str, end: str) -> None:
        self._writer.writerow((start, end))
        self.rows += 1

    def close(self) -> server.ImportInput:
        self._handle.close()
        return server.ImportInput(self.rel.value, (self.header, self.data))


class StoreFiles:
    """The importer's input for one load, in a private folder: one node file per label
    (with a header file) and one relationship file per type."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        self._nodes: dict[Label, _NodeFile] = {}
        self._rels: dict[Rel, _RelationshipFile] = {}

    def node(self, label: Label, key: str, props: Mapping[str, Any]) -> None:
        """A node the parent adds (a placeholder dealer, an agent): fitted to the columns
        of its label's file, which may have more (a dealer from the dealers table)."""
        file = self._nodes.get(label)
        if file is not None and file.columns is not None:
            extra = sorted(set(props) - set(file.columns))
            if extra:
                raise BulkLoadError(f"{label.value} rows differ in their properties: {extra}")
            props = {name: props.get(name) for name in file.columns}
        self.node_row(label, *node_cells(key, props))

    def node_row(self, label: Label | str, columns: tuple[str, ...], cells: list[str]) -> None:
        file = self._nodes.get(label)  # type: ignore[call-overload]
        if file is None:
            file = self._nodes[Label(label)] = _NodeFile(self.folder, Label(label))
        # A shared identifier (a dealer's tablet, a NAT IP, a switchboard) comes with every
        # application that names it. Keys written lately are not written again, which
        # spares the importer most duplicates; the set is bounded (cleared when full), and
        # the importer skips the duplicates that remain.
        if cells[0] in file.recent:
            return
        if len(file.recent) >= RECENT_KEYS:
            file.recent.clear()
        file.recent.add(cells[0])
        file.write(columns, cells)

    def relationship(self, rel: Rel | str, start: tuple[Label | str, str],
                     end: tuple[Label | str, str]) -> None:
        file = self._rels.get(rel)  # type: ignore[call-overload]
        if file is None:
            file = self._rels[Rel(rel)] = _RelationshipFile(
                self.folder, Rel(rel), Label(start[0]), Label(end[0]))
        elif file.ends != (start[0], end[0]):
            raise BulkLoadError(f"{rel.value} joins {file.ends} and {(start[0], end[0])}")
        file.write(start[1], end[1])

    def rows(self, label: Label) -> int:
        file = self._nodes.get(label)
        return file.rows if file else 0

    @property
    def node_rows(self) -> int:
        return sum(file.rows for file in self._nodes.values())

    @property
    def relationships(self) -> int:
        return sum(file.rows for file in self._rels.values())

    def close(self) -> tuple[list[server.ImportInput], list[server.ImportInput]]:
        return ([file.close() for file in self._nodes.values()],
                [file.close() for file in self._rels.values()])

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class BulkTarget:
    """The project's own Neo4j, loaded offline: checked empty, stopped, imported, started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.marker = server.store_dir(settings) / "bulk-load.pending"

    def prepare(self, runner: QueryRunner) -> None:
        """Refuse unless the database is empty or holds a bulk load that stopped half way;
        then stop the server."""
        if not self.settings.manages_neo4j:
            raise BulkRefused(
                f"--bulk builds the store of the project's own Neo4j; NEO4J_URI="
                f"{self.settings.bolt_uri} is an external server: load without --bulk")
        # With the marker, the database holds at most a half-done bulk load (the server
        # may not even start on it): it is not read, and the importer replaces it.
        if not self.marker.exists():
            found = runner.read(COUNT_NODES)[0]["n"]
            if found:
                raise BulkRefused(
                    f"--bulk is for a first load into an empty database; this one holds "
                    f"{found:,} nodes: load without --bulk (nothing was written)")
            self.marker.parent.mkdir(parents=True, exist_ok=True)
            self.marker.write_text("a bulk load started; re-run it with --bulk\n")
        runner.close()
        server.stop(self.settings)

    def load(self, files: StoreFiles) -> str:
        nodes, relationships = files.close()
        if not nodes:  # every row quarantined: the store stays as it is, empty
            return "nothing to import"
        return server.import_store(self.settings, nodes, relationships,
                                   files.folder / "import.log", duplicates=files.node_rows)

    def start(self, runner: QueryRunner) -> None:
        server.start(self.settings)
        runner.reconnect()

    def check(self, runner: QueryRunner, files: StoreFiles) -> None:
        """The store holds every application and relationship that was written out."""
        found = runner.read(COUNT_IMPORTED)[0]
        expected = (files.rows(Label.APPLICATION), files.relationships)
        if (found["applications"], found["relationships"]) != expected:
            raise BulkLoadError(
                f"the importer stored {found['applications']:,} applications and "
                f"{found['relationships']:,} relationships; {expected[0]:,} and "
                f"{expected[1]:,} were written (see {files.folder / 'import.log'})")

    def finish(self) -> None:
        self.marker.unlink(missing_ok=True)
