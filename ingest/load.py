"""Batched writes of validated records into Neo4j.

Each batch is one explicit transaction (all statements commit together or not at all),
so a run stopped anywhere leaves whole batches, and re-running converges. An unchanged
row (same keyed fingerprint) costs one MERGE and nothing else.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.runner import Query, Transaction
from graph.schema import LINKS, NODE_KEYS, Label, Rel
from ingest.records import Record

#: Every node an application row links to: its identifiers, its dealer and its agent.
LINKED_LABELS = sorted({link.kind.label for link in LINKS} | {Label.DEALER, Label.SALES_AGENT})


def _param(label: Label) -> str:
    return label.value.lower()


def _merge_linked_nodes() -> Query:
    # One statement finds or creates the nodes of every label, one subquery per label
    # (labels cannot be parameters where an index must be used): one round trip per
    # batch, which is what a single submitted application pays for too.
    blocks = [
        f"CALL () {{ UNWIND ${_param(label)} AS r "
        f"MERGE (n:{label.value} {{{NODE_KEYS.get(label, 'key')}: r.key}}) "
        f"ON CREATE SET n += r.props "
        f"RETURN collect([r.key, elementId(n)]) AS {_param(label)} }}"
        for label in LINKED_LABELS
    ]
    returned = ", ".join(_param(label) for label in LINKED_LABELS)
    return Query("ingest.merge_linked_nodes", "\n".join(blocks) + f"\nRETURN {returned}")


MERGE_LINKED_NODES = _merge_linked_nodes()

# One statement for every link of a batch, whatever its type: the type is a parameter
# (Neo4j 5.26 dynamic types) whose values come from graph.schema, never from input. Both
# ends are addressed by element id, so no index is searched.
CREATE_RELATIONSHIPS = Query(
    "ingest.create_relationships",
    """
    UNWIND $rows AS r
    MATCH (a) WHERE elementId(a) = r.app
    MATCH (n) WHERE elementId(n) = r.node
    CREATE (a)-[:$(r.type)]->(n)
    RETURN count(*) AS created
    """,
)

MERGE_WORKS_AT = Query(
    "ingest.merge_works_at",
    """
    UNWIND $rows AS r
    MATCH (s) WHERE elementId(s) = r.agent
    MATCH (d) WHERE elementId(d) = r.dealer
    MERGE (s)-[:WORKS_AT]->(d)
    """,
)

READ_APPLICATIONS = Query(
    "ingest.read_applications",
    """
    UNWIND $keys AS k
    MATCH (a:Application {application_id: k})
    RETURN k AS key, a.fingerprint AS old, elementId(a) AS eid
    """,
)

CREATE_APPLICATIONS = Query(
    "ingest.create_applications",
    """
    UNWIND $rows AS r
    CREATE (a:Application {application_id: r.key})
    SET a += r.props, a.fingerprint = r.fingerprint, a.ingest_run = $run_id,
        a.status = 'submitted'
    RETURN r.key AS key, elementId(a) AS eid
    """,
)

UPDATE_APPLICATIONS = Query(
    "ingest.update_applications",
    """
    UNWIND $rows AS r
    MATCH (a) WHERE elementId(a) = r.eid
    SET a += r.props, a.fingerprint = r.fingerprint, a.ingest_run = $run_id,
        a.status = coalesce(a.status, 'submitted')
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

def _upsert(name: str, find: str, node: str, fingerprint: str = "fingerprint",
            then: str = "") -> Query:
    """Find or create ``node`` per row; set its properties only when the row's keyed
    fingerprint differs from the stored one, and return the old fingerprint so the caller
    can tell new, updated and unchanged rows apart."""
    return Query(
        f"ingest.{name}",
        f"""
        UNWIND $rows AS r
        {find}
        WITH *, {node}.{fingerprint} AS old
        CALL (*) {{
          WITH * WHERE old IS NULL OR old <> r.fingerprint
          SET {node} += r.props, {node}.{fingerprint} = r.fingerprint
          {then}
        }}
        RETURN r.key AS key, old
        """,
    )


UPSERT_DEALERS = _upsert("upsert_dealers", "MERGE (d:Dealer {dealer_id: r.key})", "d")
UPSERT_INSTALLMENTS = _upsert(
    "upsert_installments",
    "MATCH (a:Application {application_id: r.props.application_id}) "
    "MERGE (i:Installment {key: r.key})",
    "i", then="MERGE (a)-[:HAS_INSTALLMENT]->(i)")
SET_LABELS = _upsert("set_labels", "MATCH (a:Application {application_id: r.key})", "a",
                     fingerprint="label_fingerprint")

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
    node_ids: dict[tuple[Label, str], str] = field(default_factory=dict)  # nodes merged
    works_at: set[tuple[str, str]] = field(default_factory=set)


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


class StaleNodeIds(RuntimeError):
    """A remembered element id no longer names a node (deleted while the run went on)."""


class NodeCache:
    """Element ids of the linked nodes this run has written, the most recently used kept.

    Shared identifiers (a dealer's tablet, a carrier NAT IP, a big employer's switchboard)
    recur in thousands of rows; knowing where their node is skips a MERGE per repeat.
    Bounded, so the loader's memory stays flat however large the input. Entries are added
    only after their transaction committed.
    """

    def __init__(self, limit: int = 400_000) -> None:
        self.limit = limit
        self._ids: OrderedDict[tuple[Label, str], str] = OrderedDict()
        self.works_at: set[tuple[str, str]] = set()  # agent and dealer ids already linked

    def get(self, label: Label, key: str) -> str | None:
        eid = self._ids.get((label, key))
        if eid is not None:
            self._ids.move_to_end((label, key))
        return eid

    def remember(self, outcome: Outcome) -> None:
        self._ids.update(outcome.node_ids)
        while len(self._ids) > self.limit:
            self._ids.popitem(last=False)
        self.works_at.update(outcome.works_at)

    def clear(self) -> None:
        self._ids.clear()
        self.works_at.clear()

    def __len__(self) -> int:
        return len(self._ids)


def write_applications(tx: Transaction, rows: Sequence[Record], run_id: str,
                       cache: NodeCache | None = None) -> Outcome:
    """Upsert applications; only new or changed ones get their links (re)written."""
    found = {r["key"]: r for r in tx.run(READ_APPLICATIONS, keys=[r.key for r in rows])}
    fresh = [r for r in rows if r.key not in found]
    created = tx.run(CREATE_APPLICATIONS, rows=_payload(fresh), run_id=run_id) if fresh else []
    returned = list(found.values()) + [{**c, "old": None} for c in created]
    out = _classify(rows, returned)
    stale = [r for r in rows if r.key in found and r.key in out.changed]
    if stale:
        tx.run(UPDATE_APPLICATIONS, run_id=run_id, rows=[
            {"eid": found[r.key]["eid"], "props": r.props, "fingerprint": r.fingerprint}
            for r in stale])
    if out.changed:
        # A new application has no links yet: only updated ones have links to drop.
        if out.replaced:
            tx.run(DROP_ROW_LINKS, keys=sorted(out.replaced), types=ROW_RELS)
        changed = [r for r in rows if r.key in out.changed]
        _write_links(tx, changed, out, cache if cache is not None else NodeCache())
    return out


def _linked_nodes(rows: Sequence[Record]) -> list[tuple[Record, Rel, Label, str, dict[str, Any]]]:
    """Every (application, relationship, node label, node key, node properties) of rows."""
    links = []
    for record in rows:
        for ref in record.identifiers:
            links.append((record, ref.link.rel, ref.link.kind.label, ref.key, ref.props))
        dealer = record.props["dealer_id"]
        links.append((record, Rel.SUBMITTED_VIA, Label.DEALER, dealer,
                      {"placeholder": True, "name": dealer}))
        if record.props.get("sales_agent_id"):
            links.append((record, Rel.HANDLED_BY, Label.SALES_AGENT,
                          record.props["sales_agent_id"], {}))
    return links


def _write_links(tx: Transaction, rows: Sequence[Record], out: Outcome,
                 cache: NodeCache) -> None:
    links = _linked_nodes(rows)
    node_ids: dict[tuple[Label, str], str] = {}
    missing: dict[Label, dict[str, dict[str, Any]]] = {}
    for _, _, label, key, props in links:
        eid = cache.get(label, key)
        if eid is None:
            missing.setdefault(label, {}).setdefault(key, props)
        else:
            node_ids[(label, key)] = eid
    if missing:
        merged = tx.run(MERGE_LINKED_NODES, **{
            _param(label): [{"key": k, "props": p} for k, p in missing.get(label, {}).items()]
            for label in LINKED_LABELS})[0]
        for label in missing:
            for key, eid in merged[_param(label)]:
                node_ids[(label, key)] = out.node_ids[(label, key)] = eid
    relationships = [{"app": out.element_ids[record.key], "node": node_ids[(label, key)],
                      "type": rel.value} for record, rel, label, key, _ in links]
    created = tx.run(CREATE_RELATIONSHIPS, rows=relationships)[0]["created"]
    if created != len(relationships):
        raise StaleNodeIds(f"{len(relationships) - created} remembered nodes are gone")
    out.relationships = created
    _link_agents_to_dealers(tx, rows, node_ids, out, cache)


def _link_agents_to_dealers(tx: Transaction, rows: Sequence[Record],
                            node_ids: dict[tuple[Label, str], str], out: Outcome,
                            cache: NodeCache) -> None:
    pairs = {(r.props["sales_agent_id"], r.props["dealer_id"]) for r in rows
             if r.props.get("sales_agent_id")} - cache.works_at
    if pairs:
        tx.run(MERGE_WORKS_AT, rows=[
            {"agent": node_ids[(Label.SALES_AGENT, agent)],
             "dealer": node_ids[(Label.DEALER, dealer)]} for agent, dealer in sorted(pairs)])
        out.works_at = pairs
