"""Counts of what the graph holds."""

from __future__ import annotations

from graph.runner import Query, QueryRunner

NODE_COUNTS = Query(
    "stats.node_counts",
    "CALL db.labels() YIELD label "
    "CALL (label) { MATCH (n) WHERE label IN labels(n) RETURN count(n) AS n } "
    "RETURN label, n ORDER BY label",
)
REL_COUNTS = Query(
    "stats.rel_counts",
    "CALL db.relationshipTypes() YIELD relationshipType AS type "
    "CALL (type) { MATCH ()-[r]->() WHERE type(r) = type RETURN count(r) AS n } "
    "RETURN type, n ORDER BY type",
)


def graph_counts(runner: QueryRunner) -> tuple[dict[str, int], dict[str, int]]:
    """Nodes per label and relationships per type."""
    nodes = {row["label"]: row["n"] for row in runner.read(NODE_COUNTS)}
    rels = {row["type"]: row["n"] for row in runner.read(REL_COUNTS)}
    return nodes, rels
