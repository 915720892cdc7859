"""Applying state changes to applications: checked by the pure state machine, written
with a compare-and-set on the stored status, and recorded as a ``Transition`` node
(who, when, from, to, why) linked to the application."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from graph.runner import Query, QueryRunner, Transaction
from graph.schema import Label, Rel
from lifecycle.errors import InvalidInput, NotFound, StaleState
from lifecycle.states import check_transition

A = Label.APPLICATION.value

CURRENT_STATUS = Query(
    "lifecycle.current_status",
    f"MATCH (a:{A} {{application_id: $application_id}}) RETURN a.status AS status",
)

APPLY = Query(
    "lifecycle.apply_transition",
    f"""
    MATCH (a:{A} {{application_id: $application_id}})
    WHERE a.status = $from_state
    SET a.status = $to_state, a.status_at = $at,
        a.transition_count = coalesce(a.transition_count, 0) + 1
    CREATE (a)-[:{Rel.HAS_TRANSITION}]->(t:{Label.TRANSITION} {{
        transition_id: a.application_id + '#T' + toString(a.transition_count),
        application_id: a.application_id, seq: a.transition_count,
        from_state: $from_state, to_state: $to_state, actor: $actor, at: $at,
        reason: $reason}})
    RETURN t.transition_id AS transition_id
    """,
)

APPLY_MANY = Query(
    "lifecycle.apply_transitions",
    f"""
    UNWIND $rows AS r
    MATCH (a:{A} {{application_id: r.application_id}})
    WHERE a.status = r.from_state
    SET a.status = r.to_state, a.status_at = $at,
        a.transition_count = coalesce(a.transition_count, 0) + 1
    CREATE (a)-[:{Rel.HAS_TRANSITION}]->(t:{Label.TRANSITION} {{
        transition_id: a.application_id + '#T' + toString(a.transition_count),
        application_id: a.application_id, seq: a.transition_count,
        from_state: r.from_state, to_state: r.to_state, actor: $actor, at: $at,
        reason: r.reason}})
    RETURN count(t) AS applied
    """,
)

HISTORY = Query(
    "lifecycle.transition_history",
    f"MATCH (:{A} {{application_id: $application_id}})-[:{Rel.HAS_TRANSITION}]->"
    f"(t:{Label.TRANSITION}) RETURN t {{.*}} AS t ORDER BY t.seq",
)


class TransitionRecord(BaseModel):
    transition_id: str
    application_id: str
    seq: int
    from_state: str
    to_state: str
    actor: str
    at: datetime
    reason: str


def current_status(runner: QueryRunner | Transaction, application_id: str) -> str:
    rows = (runner.read(CURRENT_STATUS, application_id=application_id)
            if isinstance(runner, QueryRunner)
            else runner.run(CURRENT_STATUS, application_id=application_id))
    if not rows:
        raise NotFound("application", application_id)
    return str(rows[0]["status"])


def apply(tx: Transaction, application_id: str, current: str, target: str, *, actor: str,
          at: datetime, reason: str) -> str:
    """Move one application from ``current`` to ``target`` inside ``tx``.

    Raises ``IllegalTransition`` before writing anything, and ``StaleState`` when the stored
    status is no longer ``current``.
    """
    check_transition(application_id, current, target)
    rows = tx.run(APPLY, application_id=application_id, from_state=current,
                  to_state=target, actor=actor, at=at, reason=reason)
    if not rows:
        raise StaleState(f"application {application_id!r} is no longer {current!r}")
    return str(rows[0]["transition_id"])


def transition(runner: QueryRunner, application_id: str, target: str, *, actor: str,
               at: datetime, reason: str) -> str:
    """Read the status, check the move, write it; returns the transition id."""
    if not reason.strip():
        raise InvalidInput("reason", "every transition needs a reason")
    with runner.transaction() as tx:
        current = current_status(tx, application_id)
        return apply(tx, application_id, current, target, actor=actor, at=at, reason=reason)


def apply_many(tx: Transaction, rows: list[dict[str, str]], *, actor: str,
               at: datetime) -> int:
    """Batch of already-checked moves ``{application_id, from_state, to_state, reason}``."""
    for row in rows:
        check_transition(row["application_id"], row["from_state"], row["to_state"])
    if not rows:
        return 0
    return int(tx.run(APPLY_MANY, rows=rows, actor=actor, at=at)[0]["applied"])


def history(runner: QueryRunner, application_id: str) -> list[TransitionRecord]:
    out = []
    for row in runner.read(HISTORY, application_id=application_id):
        t = row["t"]
        t["at"] = t["at"].to_native()
        out.append(TransitionRecord.model_validate(t))
    return out
