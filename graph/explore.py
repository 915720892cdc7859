"""Reading the graph around a node, for investigators: look-ups, k-hop neighbourhoods with
a node limit, shortest paths. Nodes are addressed as ``Label:key`` references; what leaves
here is masked (no ciphertext, no fingerprints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graph.runner import Query, QueryRunner
from graph.schema import ENCRYPTED_VALUE, NODE_KEYS, Label

# Properties never sent to a client: ciphertexts, row fingerprints, name tokens.
_HIDDEN_SUFFIXES = ("_enc", "fingerprint", "_token", "password_hash")
_HIDDEN = {"enc"}
EXPLORABLE: tuple[Label, ...] = tuple(
    label for label in NODE_KEYS if label not in (Label.USER, Label.INGEST_RUN,
                                                  Label.AUDIT_EVENT))


class BadReference(ValueError):
    """A node reference that is not ``Label:key`` with an explorable label."""


@dataclass(frozen=True)
class NodeRef:
    label: Label
    key: str

    @classmethod
    def parse(cls, text: str) -> NodeRef:
        label, sep, key = text.partition(":")
        try:
            parsed = Label(label)
        except ValueError:
            parsed = None
        if not sep or not key or parsed not in EXPLORABLE:
            names = ", ".join(label.value for label in EXPLORABLE)
            raise BadReference(f"{text!r} is not a node reference 'Label:key' with a label "
                               f"among {names}")
        return cls(parsed, key)

    def __str__(self) -> str:
        return f"{self.label.value}:{self.key}"


@dataclass
class Subgraph:
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: list[dict[str, str]] = field(default_factory=list)
    truncated: bool = False


def public_props(props: dict[str, Any]) -> dict[str, Any]:
    """A node's properties without anything secret, with temporal values as ISO text."""
    out: dict[str, Any] = {}
    for key, value in props.items():
        if key in _HIDDEN or key.endswith(_HIDDEN_SUFFIXES):
            continue
        out[key] = value.iso_format() if hasattr(value, "iso_format") else value
    return out


def node_json(label: str, props: dict[str, Any]) -> dict[str, Any]:
    key_name = NODE_KEYS.get(Label(label), "key")
    key = props.get(key_name)
    caption = props.get("masked") or props.get("value") or props.get("name") or key
    return {"id": f"{label}:{key}", "label": label, "caption": str(caption),
            "props": public_props(props)}


def _match_clause(ref: NodeRef, var: str = "n") -> str:
    # Label and key property come from the schema declarations, the value is a parameter.
    return f"MATCH ({var}:{ref.label.value} {{{NODE_KEYS[ref.label]}: ${var}_key}})"


def get_node(runner: QueryRunner, ref: NodeRef) -> dict[str, Any] | None:
    query = Query(f"explore.node_{ref.label.value}",
                  f"{_match_clause(ref)} RETURN labels(n)[0] AS label, properties(n) AS props")
    rows = runner.read(query, n_key=ref.key)
    return node_json(rows[0]["label"], rows[0]["props"]) if rows else None


EXPAND = Query(
    "explore.expand",
    """
    UNWIND $ids AS id
    MATCH (x) WHERE elementId(x) = id
    CALL (x) {
      MATCH (x)-[r]-(y)
      WHERE NOT y:User AND NOT y:AuditEvent AND NOT y:IngestRun
      RETURN r, y LIMIT $per_node
    }
    RETURN elementId(x) AS from_id, labels(x)[0] AS from_label, properties(x) AS from_props,
           type(r) AS type, startNode(r) = x AS outgoing,
           elementId(y) AS to_id, labels(y)[0] AS to_label, properties(y) AS to_props
    """,
)


def neighbourhood(runner: QueryRunner, ref: NodeRef, hops: int = 1, limit: int = 100,
                  per_node: int = 25) -> Subgraph:
    """Nodes within ``hops`` of ``ref``, breadth first, at most ``limit`` nodes and at most
    ``per_node`` neighbours of any one node (a dealer has thousands)."""
    start = Query(f"explore.start_{ref.label.value}",
                  f"{_match_clause(ref)} RETURN elementId(n) AS id, labels(n)[0] AS label, "
                  "properties(n) AS props")
    rows = runner.read(start, n_key=ref.key)
    graph = Subgraph()
    if not rows:
        return graph
    ids = {rows[0]["id"]: node_json(rows[0]["label"], rows[0]["props"])}
    graph.nodes[ids[rows[0]["id"]]["id"]] = ids[rows[0]["id"]]
    frontier = [rows[0]["id"]]
    seen_edges: set[tuple[str, str, str]] = set()
    for _ in range(hops):
        next_frontier: list[str] = []
        for row in runner.read(EXPAND, ids=frontier, per_node=per_node):
            source = ids[row["from_id"]]
            if row["to_id"] not in ids:
                if len(ids) >= limit:
                    graph.truncated = True
                    continue
                ids[row["to_id"]] = node_json(row["to_label"], row["to_props"])
                graph.nodes[ids[row["to_id"]]["id"]] = ids[row["to_id"]]
                next_frontier.append(row["to_id"])
            target = ids[row["to_id"]]
            a, b = (source, target) if row["outgoing"] else (target, source)
            key = (a["id"], b["id"], row["type"])
            if key not in seen_edges:
                seen_edges.add(key)
                graph.edges.append({"source": key[0], "target": key[1], "type": key[2]})
        frontier = next_frontier
        if not frontier:
            break
    return graph


def shortest_path(runner: QueryRunner, a: NodeRef, b: NodeRef) -> Subgraph:
    """The shortest path of at most 8 relationships between two nodes (empty if none)."""
    query = Query(
        f"explore.path_{a.label.value}_{b.label.value}",
        f"{_match_clause(a, 'a')} {_match_clause(b, 'b')} "
        "MATCH p = shortestPath((a)-[*..8]-(b)) "
        "RETURN [n IN nodes(p) | {label: labels(n)[0], props: properties(n)}] AS nodes, "
        "[r IN relationships(p) | {type: type(r), start: elementId(startNode(r))}] AS rels, "
        "[n IN nodes(p) | elementId(n)] AS ids",
    )
    rows = runner.read(query, a_key=a.key, b_key=b.key)
    graph = Subgraph()
    if not rows:
        return graph
    nodes = [node_json(n["label"], n["props"]) for n in rows[0]["nodes"]]
    element_ids = rows[0]["ids"]
    for node in nodes:
        graph.nodes[node["id"]] = node
    for i, rel in enumerate(rows[0]["rels"]):
        left, right = nodes[i], nodes[i + 1]
        forward = rel["start"] == element_ids[i]
        source, target = (left, right) if forward else (right, left)
        graph.edges.append({"source": source["id"], "target": target["id"], "type": rel["type"]})
    return graph


LINKED_APPLICATIONS = Query(
    "explore.linked_applications",
    """
    MATCH (n) WHERE elementId(n) = $id
    MATCH (a:Application)-[r]->(n)
    RETURN a.application_id AS application_id, type(r) AS relationship,
           a.submitted_at AS submitted_at, a.dealer_id AS dealer_id, a.status AS status
    ORDER BY submitted_at DESC LIMIT $limit
    """,
)


def linked_applications(runner: QueryRunner, ref: NodeRef, limit: int = 200
                        ) -> list[dict[str, Any]]:
    """The applications that point at a node, newest first, with the kind of link."""
    start = Query(f"explore.element_{ref.label.value}",
                  f"{_match_clause(ref)} RETURN elementId(n) AS id")
    rows = runner.read(start, n_key=ref.key)
    if not rows:
        return []
    out = runner.read(LINKED_APPLICATIONS, id=rows[0]["id"], limit=limit)
    for row in out:
        row["submitted_at"] = (row["submitted_at"].iso_format()
                               if row["submitted_at"] is not None else None)
    return out


def encrypted_value(runner: QueryRunner, ref: NodeRef) -> str | None:
    """The stored ciphertext of a personal identifier node or an applicant's name, or None."""
    prop = ENCRYPTED_VALUE.get(ref.label)
    if prop is None:
        return None
    query = Query(f"explore.enc_{ref.label.value}",
                  f"{_match_clause(ref)} RETURN n.{prop} AS enc")
    rows = runner.read(query, n_key=ref.key)
    return rows[0]["enc"] if rows and rows[0]["enc"] else None
