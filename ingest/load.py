"""Batched writes of validated records into Neo4j.

Each batch is one explicit transaction (all statements commit together or not at all),
so a run stopped anywhere leaves whole batches, and re-running converges. An unchanged
row (same keyed fingerprint) costs one MERGE and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.runner import Query, QueryRunner, Transaction
from graph.schema import IDENTIFIER_LABELS, LINK_KINDS, NODE_KEYS, ROW_RELS, Label, Rel
from ingest.records import Record

#: Every node an application row links to: its identifiers, its dealer and its agent.
LINKED_LABELS: tuple[Label, ...] = (*IDENTIFIER_LABELS, Label.DEALER, Label.SALES_AGENT)


def _param(label: Label) -> str:
    return label.value.lower()


def _link_applications() -> Query:
    # One statement links a batch to every node its rows name: per label, each distinct
    # node is merged once (a dealer named by 300 rows of the batch: one index seek) and
    # gets all its relationships. Labels and relationship types come from graph.schema,
    # never from input; a type travels as a value (Neo4j 5.26 dynamic types) so one
    # subquery serves the three kinds of phone link. Applications are addressed by the
    # element ids their upsert returned.
    blocks = [
        f"CALL () {{ UNWIND ${_param(label)} AS r "
        f"MERGE (n:{label.value} {{{NODE_KEYS[label]}: r.key}}) ON CREATE SET n += r.props "
        f"WITH n, r UNWIND r.links AS link "
        f"MATCH (a) WHERE elementId(a) = link[0] "
        f"CREATE (a)-[:$(link[1])]->(n) }}"
        for label in LINKED_LABELS
    ]
    # An agent works at the dealers of the applications they handled; merged after both
    # nodes exist (subqueries run in order).
    blocks.append("CALL () { UNWIND $works_at AS w "
                  "MATCH (s:SalesAgent {agent_id: w[0]}) MATCH (d:Dealer {dealer_id: w[1]}) "
                  "MERGE (s)-[:WORKS_AT]->(d) }")
    return Query("ingest.link_applications", "\n".join(blocks))


LINK_APPLICATIONS = _link_applications()

UPSERT_APPLICATIONS = Query(
    "ingest.upsert_applications",
    f"""
    UNWIND $rows AS r
    MERGE (a:Application {{application_id: r.key}})
    WITH a, r, a.fingerprint AS old
    CALL (a, r, old) {{
      WITH a, r, old WHERE old IS NULL OR old <> r.fingerprint
      SET a += r.props, a.fingerprint = r.fingerprint, a.ingest_run = $run_id,
          a.status = coalesce(a.status, 'submitted'), a.{LINK_KINDS} = r.link_kinds
    }}
    RETURN r.key AS key, old, elementId(a) AS eid
    """,
)


DROP_ROW_LINKS = Query(
    "ingest.drop_row_links",
    """
    UNWIND $keys AS k
    MATCH (a:Application {application_id: k})-[r]->()
    WHERE type(r) IN $types
    DELETE r
    """,
)

UPSERT_DEALERS = Query(
    "ingest.upsert_dealers",
    """
    UNWIND $rows AS r
    MERGE (d:Dealer {dealer_id: r.key})
    WITH d, r, d.fingerprint AS old
    CALL (d, r, old) {
      WITH d, r, old WHERE old IS NULL OR old <> r.fingerprint
      SET d += r.props, d.fingerprint = r.fingerprint
    }
    RETURN r.key AS key, old
    """,
)

UPSERT_INSTALLMENTS = Query(
    "ingest.upsert_installments",
    """
    UNWIND $rows AS r
    MATCH (a:Application {application_id: r.props.application_id})
    MERGE (i:Installment {key: r.key})
    WITH a, i, r, i.fingerprint AS old
    CALL (a, i, r, old) {
      WITH a, i, r, old WHERE old IS NULL OR old <> r.fingerprint
      SET i += r.props, i.fingerprint = r.fingerprint
      MERGE (a)-[:HAS_INSTALLMENT]->(i)
    }
    RETURN r.key AS key, old
    """,
)

SET_LABELS = Query(
    "ingest.set_labels",
    """
    UNWIND $rows AS r
    MATCH (a:Application {application_id: r.key})
    WITH a, r, a.label_fingerprint AS old
    CALL (a, r, old) {
      WITH a, r, old WHERE old IS NULL OR old <> r.fingerprint
      SET a += r.props, a.label_fingerprint = r.fingerprint
    }
    RETURN r.key AS key, old
    """,
)

EXISTING_DEALERS = Query("ingest.existing_dealers",
                         "MATCH (d:Dealer) WHERE NOT coalesce(d.placeholder, false) "
                         "RETURN d.dealer_id AS id")

RECORD_RUN = Query(
    "ingest.record_run",
    "MERGE (r:IngestRun {run_id: $run_id}) SET r += $props",
)


@dataclass
class Outcome:
    """What one batch did: keys new, updated and unchanged, keys not found, links made."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    missing: tuple[str, ...] = ()
    relationships: int = 0
    changed: frozenset[str] = frozenset()
    replaced: frozenset[str] = frozenset()  # changed keys that existed before this batch
    element_ids: dict[str, str] = field(default_factory=dict)


def _classify(rows: Sequence[Record], returned: Iterable[dict[str, Any]]) -> Outcome:
    out = Outcome()
    fingerprints = {r.key: r.fingerprint for r in rows}
    seen: set[str] = set()
    changed: set[str] = set()
    replaced: set[str] = set()
    for item in returned:
        seen.add(item["key"])
        if "eid" in item:
            out.element_ids[item["key"]] = item["eid"]
        if item["old"] is None:
            out.new += 1
            changed.add(item["key"])
        elif item["old"] != fingerprints[item["key"]]:
            out.updated += 1
            changed.add(item["key"])
            replaced.add(item["key"])
        else:
            out.unchanged += 1
    out.missing = tuple(r.key for r in rows if r.key not in seen)
    out.changed = frozenset(changed)
    out.replaced = frozenset(replaced)
    return out


def _payload(rows: Sequence[Record]) -> list[dict[str, Any]]:
    return [{"key": r.key, "props": r.props, "fingerprint": r.fingerprint} for r in rows]


def write_dealers(tx: Transaction, rows: Sequence[Record]) -> Outcome:
    return _classify(rows, tx.run(UPSERT_DEALERS, rows=_payload(rows)))


def write_installments(tx: Transaction, rows: Sequence[Record]) -> Outcome:
    out = _classify(rows, tx.run(UPSERT_INSTALLMENTS, rows=_payload(rows)))
    out.relationships = out.new
    return out


def write_labels(tx: Transaction, rows: Sequence[Record]) -> Outcome:
    return _classify(rows, tx.run(SET_LABELS, rows=_payload(rows)))


_ROW_TYPES = [rel.value for rel in ROW_RELS]


def write_applications(tx: Transaction, rows: Sequence[Record], run_id: str) -> Outcome:
    """Upsert applications; only new or changed ones get their links (re)written.

    Two statements for any number of rows (three when some rows update an application
    that was already linked), one submitted application included.
    """
    payload = [{**item, "link_kinds": link_kinds(record)}
               for item, record in zip(_payload(rows), rows, strict=True)]
    out = _classify(rows, tx.run(UPSERT_APPLICATIONS, rows=payload, run_id=run_id))
    if out.changed:
        changed = [r for r in rows if r.key in out.changed]
        # A new application has no links yet: only updated ones have links to drop.
        if out.replaced:
            tx.run(DROP_ROW_LINKS, keys=sorted(out.replaced), types=_ROW_TYPES)
        out.relationships = _write_links(tx, changed, out.element_ids)
    return out


def application_links(record: Record) -> Iterator[tuple[Label, str, dict[str, Any], Rel]]:
    """Every node an application row links to, as (label, key, properties on creation,
    relationship type): its identifiers, its dealer and its sales agent."""
    for ref in record.identifiers:
        yield ref.link.kind.label, ref.key, ref.props, ref.link.rel
    dealer = record.props["dealer_id"]
    yield Label.DEALER, dealer, placeholder_dealer(dealer), Rel.SUBMITTED_VIA
    agent = record.props.get("sales_agent_id")
    if agent:
        yield Label.SALES_AGENT, agent, {}, Rel.HANDLED_BY


def link_kinds(record: Record) -> list[str]:
    """The relationship types an application row links it by, sorted and distinct: its
    ``graph.schema.LINK_KINDS`` property."""
    return sorted({rel.value for *_, rel in application_links(record)})


def placeholder_dealer(dealer_id: str) -> dict[str, Any]:
    """A dealer named by an application but absent from the dealers table."""
    return {"placeholder": True, "name": dealer_id}


def works_at(record: Record) -> tuple[str, str] | None:
    """(agent, dealer): an agent works at the dealers of the applications they handled."""
    agent = record.props.get("sales_agent_id")
    return (agent, record.props["dealer_id"]) if agent else None


def _write_links(tx: Transaction, rows: Sequence[Record], element_ids: dict[str, str]) -> int:
    nodes: dict[Label, dict[str, dict[str, Any]]] = {label: {} for label in LINKED_LABELS}
    employs: set[tuple[str, str]] = set()
    count = 0
    for record in rows:
        app = element_ids[record.key]
        for label, key, props, rel in application_links(record):
            node = nodes[label].get(key)
            if node is None:
                node = nodes[label][key] = {"key": key, "props": props, "links": []}
            node["links"].append([app, rel.value])
            count += 1
        pair = works_at(record)
        if pair:
            employs.add(pair)
    tx.run(LINK_APPLICATIONS, works_at=sorted(employs),
           **{_param(label): list(found.values()) for label, found in nodes.items()})
    return count


_ROW_PATTERN = "|".join(_ROW_TYPES)
MISSING_LINK_KINDS = Query(
    "ingest.missing_link_kinds",
    f"MATCH (a:Application) WHERE a.{LINK_KINDS} IS NULL RETURN a.application_id AS id",
)
WRITE_LINK_KINDS = Query(
    "ingest.write_link_kinds",
    f"""
    UNWIND $ids AS id
    MATCH (a:Application {{application_id: id}})
    SET a.{LINK_KINDS} = COLLECT {{
      MATCH (a)-[x:{_ROW_PATTERN}]->() RETURN DISTINCT type(x) AS kind ORDER BY kind
    }}
    """,
)


def backfill_link_kinds(runner: QueryRunner, batch_size: int = 10_000) -> int:
    """Write ``LINK_KINDS`` on every application that lacks it (loaded before ingest
    wrote it), from its relationships. Returns how many were written."""
    ids = [row["id"] for row in runner.stream(MISSING_LINK_KINDS)]
    for start in range(0, len(ids), batch_size):
        with runner.transaction() as tx:
            tx.run(WRITE_LINK_KINDS, ids=ids[start:start + batch_size])
    return len(ids)
