"""Audit records: who, when, action, target, parameters, outcome. Append-only.

Parameters are stored as JSON and must never hold clear personal data: callers pass
ids, tokens and masked values only.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from graph.runner import Query, QueryRunner, Transaction
from graph.schema import Label
from lifecycle.clock import new_id


def create_event(*, event_id: str, actor: str, at: str, action: str, target: str,
                 params: str, recorded_ns: str, outcome: str = "'ok'") -> str:
    """The Cypher that creates one audit event, each field a Cypher expression: for
    statements that write their own audit event (a round trip fewer than ``record``)."""
    return (f"CREATE (:{Label.AUDIT_EVENT} {{event_id: {event_id}, actor: {actor}, "
            f"at: {at}, action: {action}, target: {target}, params: {params}, "
            f"outcome: {outcome}, recorded_ns: {recorded_ns}}})")


def params_json(params: dict[str, Any] | None) -> str:
    """An event's parameters as stored: JSON, keys sorted."""
    return json.dumps(params or {}, sort_keys=True, default=str, ensure_ascii=False)


WRITE_EVENT = Query(
    "lifecycle.audit.write",
    create_event(event_id="$event_id", actor="$actor", at="$at", action="$action",
                 target="$target", params="$params", outcome="$outcome",
                 recorded_ns="$recorded_ns"),
)

EVENTS_FOR = Query(
    "lifecycle.audit.events_for",
    f"MATCH (e:{Label.AUDIT_EVENT}) WHERE e.target = $target "
    "RETURN e {.*} AS e ORDER BY e.at, e.recorded_ns",
)


class AuditEvent(BaseModel):
    event_id: str
    actor: str
    at: datetime
    action: str
    target: str
    params: dict[str, Any]
    outcome: str


def record(tx: Transaction | QueryRunner, *, actor: str, at: datetime, action: str,
           target: str, params: dict[str, Any] | None = None, outcome: str = "ok") -> str:
    """Write one audit event (inside the caller's transaction when given one)."""
    event_id = new_id("EVT")
    args = dict(event_id=event_id, actor=actor, at=at, action=action, target=target,
                params=params_json(params), outcome=outcome,
                recorded_ns=time.time_ns())
    if isinstance(tx, QueryRunner):
        tx.write(WRITE_EVENT, **args)
    else:
        tx.run(WRITE_EVENT, **args)
    return event_id


def events_for(runner: QueryRunner, target: str) -> list[AuditEvent]:
    out = []
    for row in runner.read(EVENTS_FOR, target=target):
        e = row["e"]
        e.pop("recorded_ns", None)
        e["at"] = e["at"].to_native()
        e["params"] = json.loads(e["params"])
        out.append(AuditEvent.model_validate(e))
    return out


SEARCH = Query(
    "lifecycle.audit.search",
    f"""
    MATCH (e:{Label.AUDIT_EVENT})
    WHERE ($target IS NULL OR e.target = $target) AND ($actor IS NULL OR e.actor = $actor)
      AND ($action IS NULL OR e.action STARTS WITH $action)
      AND ($since IS NULL OR e.at >= $since) AND ($until IS NULL OR e.at < $until)
    RETURN e {{.*}} AS e ORDER BY e.at DESC, e.recorded_ns DESC SKIP $skip LIMIT $limit
    """,
)


def search(runner: QueryRunner, *, target: str | None = None, actor: str | None = None,
           action: str | None = None, since: datetime | None = None,
           until: datetime | None = None, skip: int = 0, limit: int = 100
           ) -> list[AuditEvent]:
    """Events matching every filter given, newest first (``action`` is a prefix:
    ``reveal`` finds ``reveal_pii``, ``four_eyes.`` every four-eyes step)."""
    rows = runner.read(SEARCH, target=target, actor=actor, action=action, since=since,
                       until=until, skip=skip, limit=limit)
    return [_event(row["e"]) for row in rows]


def _event(e: dict[str, Any]) -> AuditEvent:
    e = dict(e)
    e.pop("recorded_ns", None)
    e["at"] = e["at"].to_native()
    e["params"] = json.loads(e["params"])
    return AuditEvent.model_validate(e)
