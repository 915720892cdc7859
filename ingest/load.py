"""Batched writes of validated records into Neo4j.

Each batch is one explicit transaction (all statements commit together or not at all),
so a run stopped anywhere leaves whole batches, and re-running converges. An unchanged
row (same keyed fingerprint) costs one MERGE and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.runner import Query, Transaction
from graph.schema import LINKS, Link, Rel
from ingest.records import Record


def _create_link(link: Link) -> Query:
    # One statement per link finds-or-creates the identifier and links it: half the index
    # look-ups of a separate MERGE pass. Labels and types come from graph.schema, not input.
    label = link.kind.label.value
    return Query(
        f"ingest.link_{link.rel.value}",
        f"UNWIND $rows AS r "
        f"MATCH (a) WHERE elementId(a) = r.app "
        f"MERGE (n:{label} {{key: r.key}}) ON CREATE SET n += r.props "
        f"CREATE (a)-[:{link.rel.value}]->(n)",
    )


CREATE_LINKS = {link.rel: _create_link(link) for link in LINKS}

UPSERT_APPLICATIONS = Query(
    "ingest.upsert_applications",
    """
    UNWIND $rows AS r
    MERGE (a:Application {application_id: r.key})
    WITH a, r, a.fingerprint AS old
    CALL (a, r, old) {
      WITH a, r, old WHERE old IS NULL OR old <> r.fingerprint
      SET a += r.props, a.fingerprint = r.fingerprint, a.ingest_run = $run_id,
          a.status = coalesce(a.status, 'submitted')
    }
    RETURN r.key AS key, old, elementId(a) AS eid
    """,
)

# The links an application gets from its own row; an updated row replaces all of them.
ROW_RELS = [link.rel.value for link in LINKS] + [Rel.SUBMITTED_VIA.value, Rel.HANDLED_BY.value]

DROP_ROW_LINKS = Query(
    "ingest.drop_row_links",
    """
    UNWIND $keys AS k
    MATCH (a:Application {application_id: k})-[r]->()
    WHERE type(r) IN $types
    DELETE r
    """,
)

LINK_DEALERS = Query(
    "ingest.link_dealers",
    """
    UNWIND $rows AS r
    MERGE (d:Dealer {dealer_id: r.dealer})
      ON CREATE SET d.placeholder = true, d.name = r.dealer
    WITH d, r
    MATCH (a) WHERE elementId(a) = r.app
    CREATE (a)-[:SUBMITTED_VIA]->(d)
    """,
)

MERGE_AGENTS = Query(
    "ingest.merge_agents",
    """
    UNWIND $rows AS r
    MERGE (s:SalesAgent {agent_id: r.agent})
    WITH s, r
    MATCH (d:Dealer {dealer_id: r.dealer})
    MERGE (s)-[:WORKS_AT]->(d)
    """,
)

LINK_AGENTS = Query(
    "ingest.link_agents",
    """
    UNWIND $rows AS r
    MATCH (a) WHERE elementId(a) = r.app
    MATCH (s:SalesAgent {agent_id: r.agent})
    CREATE (a)-[:HANDLED_BY]->(s)
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


def write_applications(tx: Transaction, rows: Sequence[Record], run_id: str) -> Outcome:
    """Upsert applications; only new or changed ones get their links (re)written."""
    out = _classify(rows, tx.run(UPSERT_APPLICATIONS, rows=_payload(rows), run_id=run_id))
    if out.changed:
        changed = [r for r in rows if r.key in out.changed]
        # A new application has no links yet: only updated ones have links to drop.
        if out.replaced:
            tx.run(DROP_ROW_LINKS, keys=sorted(out.replaced), types=ROW_RELS)
        out.relationships = _write_links(tx, changed, out.element_ids)
    return out


def _write_links(tx: Transaction, rows: Sequence[Record], element_ids: dict[str, str]) -> int:
    # Applications are addressed by the element ids the upsert returned: an id seek per
    # link instead of a unique-index seek.
    by_rel: dict[Rel, list[dict[str, Any]]] = {}
    for record in rows:
        for ref in record.identifiers:
            by_rel.setdefault(ref.link.rel, []).append(
                {"app": element_ids[record.key], "key": ref.key, "props": ref.props})
    count = 0
    for rel, links in by_rel.items():
        tx.run(CREATE_LINKS[rel], rows=links)
        count += len(links)
    dealers = [{"app": element_ids[r.key], "dealer": r.props["dealer_id"]} for r in rows]
    tx.run(LINK_DEALERS, rows=dealers)
    agents = [{"app": element_ids[r.key], "agent": r.props["sales_agent_id"],
               "dealer": r.props["dealer_id"]} for r in rows if r.props.get("sales_agent_id")]
    if agents:
        pairs = {(a["agent"], a["dealer"]): a for a in agents}
        tx.run(MERGE_AGENTS, rows=list(pairs.values()))
        tx.run(LINK_AGENTS, rows=agents)
    return count + len(dealers) + len(agents)
