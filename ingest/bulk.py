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
import functools
import io
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from fraudgraph.settings import Settings
from graph import server
from graph.runner import Query, QueryRunner
from graph.schema import LINK_KINDS, NODE_KEYS, Label, Rel
from ingest.errors import IngestError
from ingest.load import application_links, link_kinds
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
    LINK_KINDS: ("string[]", list),  # the importer's default array delimiter: ';'
}


def _cell(name: str, value: Any) -> str:
    if value is None:
        return ""  # the importer runs with --ignore-empty-strings: no property
    declared = PROPERTY_TYPES.get(name)
    expected = declared[1] if declared else str
    if type(value) is not expected and (not isinstance(value, expected) or expected is int):
        raise BulkLoadError(f"property {name} holds a {type(value).__name__}, declared "
                            f"{expected.__name__} (ingest.bulk.PROPERTY_TYPES)")
    if expected is str:
        return value  # type: ignore[no-any-return]
    if expected is list:
        return ";".join(value)
    if expected is bool:
        return "true" if value else "false"
    if expected is float:
        return repr(value)
    if expected in (datetime, date):
        return value.isoformat()  # type: ignore[no-any-return]
    return str(value)


def _formatter(name: str) -> Callable[[Any], str]:
    """``_cell`` for one property, with a short path for the common case, a string."""
    if name in PROPERTY_TYPES:
        return functools.partial(_cell, name)

    def text(value: Any) -> str:
        return value if type(value) is str else _cell(name, value)
    return text


def csv_line(cells: list[str]) -> str:
    """One CSV line as ``csv.writer`` writes it (quotes only where needed), built by a
    join: nearly every row needs no quoting, and the writer costs several times more."""
    line = ",".join(cells)
    if line and line.count(",") == len(cells) - 1 and '"' not in line and "\n" not in line \
            and "\r" not in line:
        return line + "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


@dataclass(frozen=True)
class StageTarget:
    """Where a bulk load's validation writes the importer's files, and the run it is."""

    run_id: str
    folder: Path


@dataclass
class StagedRow:
    """A validated dealer or application row whose importer rows the validating process
    has written (``written``), or, for a key already seen in this run, has not: the parent
    loads that one through the transactional path after the import. ``props`` keeps what
    the parent decides on (the dealer and agent)."""

    key: str
    warnings: list[str]
    props: dict[str, Any]
    written: bool


def stage_record(parts: PartFiles, table_name: str, record: Record, run_id: str) -> None:
    """Write a dealer or application record's importer rows: its own node, and for an
    application its identifier nodes and every relationship it starts."""
    if table_name == "dealers":
        parts.node(Label.DEALER.value, record.key,
                   {**record.props, "fingerprint": record.fingerprint})
        return
    application = Label.APPLICATION.value
    parts.node(application, record.key, {
        **record.props, "fingerprint": record.fingerprint, "ingest_run": run_id,
        "status": "submitted", LINK_KINDS: link_kinds(record)})
    for label, key, props, rel in application_links(record):
        if label not in (Label.DEALER, Label.SALES_AGENT):  # written once, by the parent
            parts.node(label.value, key, props)
        parts.relationship(rel.value, (application, record.key), (label.value, key))


def staged_row(record: Record, written: bool) -> StagedRow:
    return StagedRow(record.key, record.warnings,
                     {"dealer_id": record.props.get("dealer_id"),
                      "sales_agent_id": record.props.get("sales_agent_id")}, written)


#: Keys per label a process remembers to skip repeated identifier rows (about 100 bytes
#: each): a shared identifier (a dealer's tablet, a NAT IP, a switchboard) comes with
#: every application that names it.
RECENT_KEYS = 50_000


class _NodePart:
    """One label's node rows from one process. Its columns are fixed by the first row
    (every record of a label has the same properties)."""

    def __init__(self, path: Path, label: str, columns: tuple[str, ...]) -> None:
        self.path = path
        self.label = label
        self.columns = columns
        self.format = [_formatter(name) for name in columns]
        self.handle: IO[str] = path.open("w", encoding="utf-8")
        self.recent: set[str] = set()
        self.rows = 0

    def write(self, key: str, props: Mapping[str, Any]) -> None:
        # Keys written lately are not written again, which spares the importer most
        # duplicates; the set is bounded (cleared when full), and the importer skips the
        # duplicates that remain.
        if key in self.recent:
            return
        if len(self.recent) >= RECENT_KEYS:
            self.recent.clear()
        columns = tuple(props)
        if columns != self.columns:
            raise BulkLoadError(f"{self.label} rows differ in their properties: "
                                f"{sorted(set(columns) ^ set(self.columns))}")
        cells = [key]
        cells += [cell(value) for cell, value in zip(self.format, props.values(), strict=True)]
        self.recent.add(key)
        self.handle.write(csv_line(cells))
        self.rows += 1


class _RelationshipPart:
    def __init__(self, path: Path, ends: tuple[str, str]) -> None:
        self.path = path
        self.ends = ends
        self.handle: IO[str] = path.open("w", encoding="utf-8")
        self.rows = 0

    def write(self, start: str, end: str) -> None:
        self.handle.write(csv_line([start, end]))
        self.rows += 1


class PartFiles:
    """One process's share of the importer's input: per label and per relationship type
    its own data file (``nodes-Phone.w123.csv``), and a manifest of their columns and row
    counts, rewritten at each ``flush``. Validation worker processes write these
    themselves, so that the rows never travel back to the parent; the parent adds its own
    part (``StoreFiles``) and puts them together for the importer."""

    def __init__(self, folder: Path, part: str) -> None:
        self.folder = folder
        self.part = part
        self._nodes: dict[str, _NodePart] = {}
        self._rels: dict[str, _RelationshipPart] = {}

    def node(self, label: str, key: str, props: Mapping[str, Any]) -> None:
        file = self._nodes.get(label)
        if file is None:
            path = self.folder / f"nodes-{label}.{self.part}.csv"
            file = self._nodes[label] = _NodePart(path, label, tuple(props))
        file.write(key, props)

    def relationship(self, rel: str, start: tuple[str, str], end: tuple[str, str]) -> None:
        file = self._rels.get(rel)
        if file is None:
            path = self.folder / f"rels-{rel}.{self.part}.csv"
            file = self._rels[rel] = _RelationshipPart(path, (start[0], end[0]))
        elif file.ends != (start[0], end[0]):
            raise BulkLoadError(f"{rel} joins {file.ends} and {(start[0], end[0])}")
        file.write(start[1], end[1])

    def columns(self, label: str) -> tuple[str, ...] | None:
        file = self._nodes.get(label)
        return file.columns if file else None

    def flush(self) -> None:
        """Everything written so far on disk, and the manifest that describes it."""
        for file in [*self._nodes.values(), *self._rels.values()]:
            file.handle.flush()
        manifest = {
            "nodes": {label: {"path": f.path.name, "columns": f.columns, "rows": f.rows}
                      for label, f in self._nodes.items()},
            "relationships": {rel: {"path": f.path.name, "ends": f.ends, "rows": f.rows}
                              for rel, f in self._rels.items()},
        }
        path = self.folder / f"manifest-{self.part}.json"
        path.with_suffix(".tmp").write_text(json.dumps(manifest), encoding="utf-8")
        path.with_suffix(".tmp").replace(path)

    def close(self) -> None:
        self.flush()
        for file in [*self._nodes.values(), *self._rels.values()]:
            file.handle.close()


_parts: dict[Path, PartFiles] = {}


def process_parts(folder: Path) -> PartFiles:
    """This process's part of a load's files (a worker process serves one load)."""
    parts = _parts.get(folder)
    if parts is None:
        parts = _parts[folder] = PartFiles(folder, f"w{os.getpid()}")
    return parts


def release_parts(folder: Path) -> None:
    """Close this process's part of a load's files, if it wrote one (a load validated in
    this process rather than in workers)."""
    parts = _parts.pop(folder, None)
    if parts is not None:
        parts.close()


@dataclass
class _Group:
    """One label's or type's data files from every part, with what they hold."""

    columns: tuple[str, ...] | tuple[str, str]
    files: list[Path] = field(default_factory=list)
    rows: int = 0
    parent_rows: int = 0


class StoreFiles:
    """The importer's input for one load, in a private folder: the parts written by the
    validating processes, this process's own part (placeholder dealers, agents and where
    they work), and once closed one header file per label and per relationship type."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, mode=0o700)
        self._own = PartFiles(folder, "parent")
        self._nodes: dict[str, _Group] | None = None
        self._rels: dict[str, _Group] | None = None
        self._inputs: tuple[list[server.ImportInput], list[server.ImportInput]] | None = None

    def node(self, label: Label, key: str, props: Mapping[str, Any]) -> None:
        """A node this process adds (a placeholder dealer, an agent): fitted to the
        columns its label's other rows have, which may be more (a dealer from the dealers
        table)."""
        columns = self._own.columns(label.value) or self._worker_columns(label.value)
        if columns is not None:
            extra = sorted(set(props) - set(columns))
            if extra:
                raise BulkLoadError(f"{label.value} rows differ in their properties: {extra}")
            props = {name: props.get(name) for name in columns}
        self._own.node(label.value, key, props)

    def relationship(self, rel: Rel, start: tuple[Label, str], end: tuple[Label, str]) -> None:
        self._own.relationship(rel.value, (start[0].value, start[1]), (end[0].value, end[1]))

    def _worker_columns(self, label: str) -> tuple[str, ...] | None:
        for name, manifest in self._manifests():
            if name != "parent" and label in manifest["nodes"]:
                return tuple(manifest["nodes"][label]["columns"])
        return None

    def _manifests(self) -> list[tuple[str, dict[str, Any]]]:
        """Each part's name and manifest."""
        return [(path.stem.removeprefix("manifest-"), json.loads(path.read_text("utf-8")))
                for path in sorted(self.folder.glob("manifest-*.json"))]

    def close(self) -> tuple[list[server.ImportInput], list[server.ImportInput]]:
        """Put the parts together: a header per label and type, checked to agree. Once:
        later calls return the same files."""
        if self._inputs is not None:
            return self._inputs
        self._own.close()
        self._nodes, self._rels = {}, {}
        for name, manifest in self._manifests():
            for label, part in manifest["nodes"].items():
                self._join(self._nodes, label, tuple(part["columns"]), part)
            for rel, part in manifest["relationships"].items():
                group = self._join(self._rels, rel, tuple(part["ends"]), part)
                if name == "parent":
                    group.parent_rows += part["rows"]
        nodes = [server.ImportInput(label, (self._node_header(label, group), *group.files))
                 for label, group in self._nodes.items()]
        rels = [server.ImportInput(rel, (self._rel_header(rel, group), *group.files))
                for rel, group in self._rels.items()]
        self._inputs = (nodes, rels)
        return self._inputs

    def _join(self, groups: dict[str, _Group], name: str, columns: tuple[str, ...],
              part: dict[str, Any]) -> _Group:
        group = groups.setdefault(name, _Group(columns))
        if group.columns != columns:
            raise BulkLoadError(f"{name} rows differ in their properties or ends: "
                                f"{sorted(set(columns) ^ set(group.columns))}")
        group.files.append(self.folder / part["path"])
        group.rows += part["rows"]
        return group

    def _node_header(self, label: str, group: _Group) -> Path:
        header = [f"{NODE_KEYS[Label(label)]}:ID({label})"] + [
            f"{name}:{PROPERTY_TYPES[name][0]}" if name in PROPERTY_TYPES else name
            for name in group.columns]
        path = self.folder / f"nodes-{label}.header.csv"
        path.write_text(csv_line(header), encoding="utf-8")
        return path

    def _rel_header(self, rel: str, group: _Group) -> Path:
        start, end = group.columns
        path = self.folder / f"rels-{rel}.header.csv"
        path.write_text(f":START_ID({start}),:END_ID({end})\n", encoding="utf-8")
        return path

    def _closed(self) -> tuple[dict[str, _Group], dict[str, _Group]]:
        if self._nodes is None or self._rels is None:
            raise RuntimeError("StoreFiles counts rows once closed")
        return self._nodes, self._rels

    def rows(self, label: Label) -> int:
        group = self._closed()[0].get(label.value)
        return group.rows if group else 0

    @property
    def node_rows(self) -> int:
        return sum(group.rows for group in self._closed()[0].values())

    @property
    def relationships(self) -> int:
        return sum(group.rows for group in self._closed()[1].values())

    @property
    def application_relationships(self) -> int:
        """The relationships the staged rows start (not those this process added)."""
        return sum(group.rows - group.parent_rows for group in self._closed()[1].values())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class BulkTarget:
    """The project's own Neo4j, loaded offline: checked empty, stopped, imported, started."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.marker = server.store_dir(settings) / "bulk-load.pending"
        self.log: Path | None = None

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

    def load(self, files: StoreFiles, log: Path) -> str:
        """Run the importer on the files; its output goes to ``log`` (kept with the run's
        report: the importer's own account of each stage, without any row's data)."""
        nodes, relationships = files.close()
        self.log = log
        if not nodes:  # every row quarantined: the store stays as it is, empty
            return "nothing to import"
        return server.import_store(self.settings, nodes, relationships, log,
                                   duplicates=files.node_rows)

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
                f"{expected[1]:,} were written (see {self.log})")

    def finish(self) -> None:
        self.marker.unlink(missing_ok=True)
