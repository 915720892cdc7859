"""Idempotent schema setup: a uniqueness constraint on every node key, and indexes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from graph.runner import Query, QueryRunner
from graph.schema import NODE_KEYS, Label


def _constraint(label: Label, key: str) -> Query:
    # Labels and property names cannot be parameters in Cypher; they come from the schema
    # declarations, never from input.
    name = f"{label.value.lower()}_{key}_unique"
    return Query(
        f"constraint.{name}",
        f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label.value}) REQUIRE n.{key} IS UNIQUE",
    )


INDEXES: tuple[Query, ...] = (
    Query(
        "index.application_submitted_at",
        "CREATE INDEX application_submitted_at IF NOT EXISTS "
        "FOR (a:Application) ON (a.submitted_at)",
    ),
    Query(
        "index.application_label",
        "CREATE INDEX application_label IF NOT EXISTS FOR (a:Application) ON (a.label)",
    ),
    # The API lists a run's rings and follows one ring id across runs.
    Query("index.ring_run_id",
          "CREATE INDEX ring_run_id IF NOT EXISTS FOR (g:Ring) ON (g.run_id)"),
    Query("index.ring_ring_id",
          "CREATE INDEX ring_ring_id IF NOT EXISTS FOR (g:Ring) ON (g.ring_id)"),
    # An application's audit trail (GET /v1/audit?target=).
    Query("index.audit_target",
          "CREATE INDEX audit_target IF NOT EXISTS FOR (e:AuditEvent) ON (e.target)"),
    Query("index.audit_actor",
          "CREATE INDEX audit_actor IF NOT EXISTS FOR (e:AuditEvent) ON (e.actor)"),
)

AWAIT_INDEXES = Query("schema.await", "CALL db.awaitIndexes(300)")


def ensure_schema(runner: QueryRunner, parallel: int = 1) -> int:
    """Create every constraint and index that does not exist yet; returns how many were
    declared (existing ones are left as they are).

    With ``parallel`` > 1 the statements run from that many sessions at once. On a store
    full of data (after a bulk load) each constraint's statement waits while its index is
    filled from the label's nodes, and those fillings then overlap."""
    statements = [_constraint(label, key) for label, key in NODE_KEYS.items()] + list(INDEXES)
    if parallel > 1:
        with ThreadPoolExecutor(parallel, thread_name_prefix="schema") as pool:
            list(pool.map(runner.write, statements))
    else:
        for statement in statements:
            runner.write(statement)
    runner.write(AWAIT_INDEXES)
    return len(statements)
