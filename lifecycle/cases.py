"""Review cases: tier B, PIPL Art. 24 human-review requests, and graph early warnings.

A case has an assignee, a status (open, in progress, confirmed fraud, cleared), notes, the
evidence snapshot of its opening, and an SLA in Chinese working days with a warning, a
breach and an escalation to a supervisor. Closing a case with a disposition writes the
training label with its time, and confirmed fraud feeds the watchlist and its rings.
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from graph.runner import Query, QueryRunner, Transaction
from graph.schema import Label, Rel
from lifecycle import audit, rings_link, transitions, watchlist
from lifecycle.clock import new_id
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, InvalidInput, NotFound
from lifecycle.sla import SlaState, add_working_days, sla_state
from lifecycle.states import LoanState


class CaseKind(StrEnum):
    REVIEW = "review"  # tier B at origination
    HUMAN_REVIEW = "human_review"  # applicant asked for a human (PIPL Art. 24)
    EARLY_WARNING = "early_warning"  # a ring's first-payment default flagged this loan


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CONFIRMED_FRAUD = "confirmed_fraud"
    CLEARED = "cleared"


CASE_TRANSITIONS: dict[CaseStatus, tuple[CaseStatus, ...]] = {
    CaseStatus.OPEN: (CaseStatus.IN_PROGRESS,),
    CaseStatus.IN_PROGRESS: (CaseStatus.IN_PROGRESS, CaseStatus.CONFIRMED_FRAUD,
                             CaseStatus.CLEARED),
    CaseStatus.CONFIRMED_FRAUD: (),
    CaseStatus.CLEARED: (),
}


class Disposition(StrEnum):
    FIRST_PARTY = "first_party_fraud"
    SYNTHETIC_IDENTITY = "synthetic_identity"
    IDENTITY_THEFT = "identity_theft"
    DEALER_COLLUSION = "dealer_collusion"
    STRAW_BORROWER = "straw_borrower"
    SUSPICIOUS_NOT_PROVEN = "suspicious_not_proven"
    FALSE_POSITIVE = "false_positive"
    LEGITIMATE_RELATIONSHIP = "legitimate_relationship"


FRAUD_DISPOSITIONS = frozenset({Disposition.FIRST_PARTY, Disposition.SYNTHETIC_IDENTITY,
                                Disposition.IDENTITY_THEFT, Disposition.DEALER_COLLUSION,
                                Disposition.STRAW_BORROWER})
LEGIT_DISPOSITIONS = frozenset({Disposition.FALSE_POSITIVE,
                                Disposition.LEGITIMATE_RELATIONSHIP})
#: How much a confirmed fraud raises the score of each ring it belongs to.
RING_BUMP_CONFIRMED = 0.2


def label_for(disposition: Disposition) -> str | None:
    """The training label a disposition gives: fraud, legit, or none (not proven)."""
    if disposition in FRAUD_DISPOSITIONS:
        return "fraud"
    if disposition in LEGIT_DISPOSITIONS:
        return "legit"
    return None


class Case(BaseModel):
    case_id: str
    application_id: str
    kind: CaseKind
    status: CaseStatus
    assignee: str | None = None
    opened_at: datetime
    due_at: datetime
    sla_state: SlaState
    escalated_to: str | None = None
    evidence: dict[str, Any]
    disposition: Disposition | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    notes: list[dict[str, Any]] = []


class Closure(BaseModel):
    case_id: str
    status: CaseStatus
    label: str | None
    application_status: str
    watchlist_entries: list[str]
    rings_bumped: list[str]
    approval_id: str | None = None


A, C = Label.APPLICATION.value, Label.CASE.value
# Reuses a live case of the kind, or opens one with its audit event: one round trip (it
# was three, look-up, create and audit, each a millisecond or two of Neo4j CPU on every
# tier B decision).
OPEN_CASE = Query(
    "lifecycle.cases.open",
    f"""
    MATCH (a:{A} {{application_id: $application_id}})
    OPTIONAL MATCH (a)-[:{Rel.HAS_CASE}]->(live:{C})
    WHERE live.kind = $kind AND live.status IN ['open', 'in_progress']
    WITH a, head(collect(live.case_id)) AS existing
    OPTIONAL CALL (a, existing) {{
      WITH a, existing WHERE existing IS NULL
      SET a.case_count = coalesce(a.case_count, 0) + 1
      CREATE (a)-[:{Rel.HAS_CASE}]->(c:{C} {{
          case_id: 'CASE-' + a.application_id + '-' + toString(a.case_count),
          application_id: a.application_id, kind: $kind, status: 'open', opened_at: $at,
          due_at: $due_at, sla_state: 'ok', evidence: $evidence}})
      {audit.create_event(event_id="$event_id", actor="'system'", at="$at",
                          action="'case.open'", target="c.case_id", params="$audit_params",
                          recorded_ns="$recorded_ns")}
      RETURN c.case_id AS opened
    }}
    RETURN coalesce(existing, opened) AS case_id
    """,
)
GET = Query(
    "lifecycle.cases.get",
    f"""
    MATCH (c:{C} {{case_id: $case_id}})
    RETURN c {{.*}} AS c, COLLECT {{
        MATCH (c)-[:{Rel.HAS_NOTE}]->(n:{Label.CASE_NOTE})
        RETURN n {{.*}} AS n ORDER BY n.seq }} AS notes
    """,
)
SET_STATUS = Query(
    "lifecycle.cases.set_status",
    f"MATCH (c:{C} {{case_id: $case_id}}) WHERE c.status = $from_status "
    "SET c.status = $to_status, c += $props RETURN c.case_id AS case_id",
)
ADD_NOTE = Query(
    "lifecycle.cases.add_note",
    f"""
    MATCH (c:{C} {{case_id: $case_id}})
    SET c.note_count = coalesce(c.note_count, 0) + 1
    CREATE (c)-[:{Rel.HAS_NOTE}]->(n:{Label.CASE_NOTE} {{
        note_id: c.case_id + '#N' + toString(c.note_count), seq: c.note_count,
        author: $author, at: $at, text: $text}})
    RETURN n.note_id AS note_id
    """,
)
SET_LABEL = Query(
    "lifecycle.cases.set_label",
    f"MATCH (a:{A} {{application_id: $application_id}}) "
    "SET a.disposition = $disposition, a.disposition_at = $at, "
    "a.label = coalesce($label, a.label), "
    "a.label_source = CASE WHEN $label IS NULL THEN a.label_source ELSE 'case:' + $case_id END, "
    "a.labeled_at = CASE WHEN $label IS NULL THEN a.labeled_at ELSE $at END",
)
LIVE_CASES = Query(
    "lifecycle.cases.live",
    f"MATCH (c:{C}) WHERE c.status IN ['open', 'in_progress'] "
    "RETURN c.case_id AS case_id, c.opened_at AS opened_at, c.due_at AS due_at, "
    "c.sla_state AS sla_state",
)
SET_SLA = Query(
    "lifecycle.cases.set_sla",
    f"UNWIND $rows AS r MATCH (c:{C} {{case_id: r.case_id}}) "
    "SET c.sla_state = r.state, c.sla_checked_at = $now, "
    "c.escalated_to = CASE WHEN r.state = 'escalated' THEN $supervisor ELSE c.escalated_to END",
)
QUEUE = Query(
    "lifecycle.cases.queue",
    f"MATCH (c:{C}) WHERE c.status IN ['open', 'in_progress'] "
    f"MATCH (a:{A} {{application_id: c.application_id}}) "
    "RETURN c.case_id AS case_id, c.application_id AS application_id, c.kind AS kind, "
    "c.status AS status, c.assignee AS assignee, c.due_at AS due_at, "
    "c.sla_state AS sla_state, c.escalated_to AS escalated_to, "
    "coalesce(a.risk_points, 0) AS risk_points "
    "ORDER BY risk_points DESC, c.due_at",
)


def open_case(tx: Transaction, application_id: str, kind: CaseKind, *, at: datetime,
              sla_days: int, evidence: dict[str, Any]) -> str:
    """Open a case inside ``tx``; an open case of the same kind is reused (idempotent)."""
    rows = tx.run(OPEN_CASE, application_id=application_id, kind=kind.value, at=at,
                  due_at=add_working_days(at, sla_days),
                  evidence=json.dumps(evidence, sort_keys=True, default=str,
                                      ensure_ascii=False),
                  event_id=new_id("EVT"), recorded_ns=time.time_ns(),
                  audit_params=audit.params_json({"application_id": application_id,
                                                  "kind": kind.value}))
    if not rows:
        raise NotFound("application", application_id)
    return str(rows[0]["case_id"])


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def get_case(runner: QueryRunner | Transaction, case_id: str) -> Case:
    rows = (runner.read(GET, case_id=case_id) if isinstance(runner, QueryRunner)
            else runner.run(GET, case_id=case_id))
    if not rows:
        raise NotFound("case", case_id)
    c = {k: _native(v) for k, v in rows[0]["c"].items()}
    c["evidence"] = json.loads(c["evidence"])
    c["notes"] = [{k: _native(v) for k, v in n.items()} for n in rows[0]["notes"]]
    return Case.model_validate(c)


def _move(tx: Transaction, case: Case, target: CaseStatus, props: dict[str, Any]) -> None:
    allowed = CASE_TRANSITIONS[case.status]
    if target not in allowed:
        raise IllegalTransition("case", case.case_id, case.status.value, target.value,
                                tuple(s.value for s in allowed))
    if not tx.run(SET_STATUS, case_id=case.case_id, from_status=case.status.value,
                  to_status=target.value, props=props):
        raise IllegalTransition("case", case.case_id, "(changed meanwhile)", target.value, ())


def assign(ctx: Lifecycle, case_id: str, assignee: str, *, by: str) -> Case:
    """Give the case to a reviewer; an open case goes in progress."""
    if not assignee.strip():
        raise InvalidInput("assignee", "name the reviewer")
    at = ctx.clock()
    with ctx.runner.transaction() as tx:
        case = get_case(tx, case_id)
        _move(tx, case, CaseStatus.IN_PROGRESS, {"assignee": assignee, "assigned_at": at})
        audit.record(tx, actor=by, at=at, action="case.assign", target=case_id,
                     params={"assignee": assignee})
    return get_case(ctx.runner, case_id)


def add_note(ctx: Lifecycle, case_id: str, *, author: str, text: str) -> str:
    if not text.strip():
        raise InvalidInput("text", "a note cannot be empty")
    at = ctx.clock()
    with ctx.runner.transaction() as tx:
        rows = tx.run(ADD_NOTE, case_id=case_id, author=author, at=at, text=text)
        if not rows:
            raise NotFound("case", case_id)
        audit.record(tx, actor=author, at=at, action="case.note", target=case_id)
    return str(rows[0]["note_id"])


def close_case(ctx: Lifecycle, case_id: str, disposition: Disposition | str, *, by: str,
               reason: str) -> Closure:
    """Decide a case in progress with a disposition; see the module docstring for effects.

    A cleared human-review case of an automatic decline cannot approve by itself: it
    opens a four-eyes ``override_decline`` request, returned as ``approval_id``.
    """
    try:
        disposition = Disposition(disposition)
    except ValueError:
        raise InvalidInput("disposition", f"{disposition!r} is not one of "
                                          f"{', '.join(d.value for d in Disposition)}") from None
    if not reason.strip():
        raise InvalidInput("reason", "say why the case is closed")
    at = ctx.clock()
    label = label_for(disposition)
    status = CaseStatus.CONFIRMED_FRAUD if label == "fraud" else CaseStatus.CLEARED
    entries: list[str] = []
    rings: list[str] = []
    needs_override = False
    with ctx.runner.transaction() as tx:
        case = get_case(tx, case_id)
        _move(tx, case, status, {"disposition": disposition.value, "closed_by": by,
                                 "closed_at": at, "close_reason": reason})
        app_id = case.application_id
        tx.run(SET_LABEL, application_id=app_id, disposition=disposition.value, label=label,
               at=at, case_id=case_id)
        app_status = transitions.current_status(tx, app_id)
        if app_status == LoanState.IN_REVIEW:
            if label == "fraud" or disposition == Disposition.SUSPICIOUS_NOT_PROVEN:
                transitions.apply(tx, app_id, app_status, LoanState.DECLINED, actor=by, at=at,
                                  reason=f"case {case_id}: {disposition.value}")
            elif case.kind == CaseKind.HUMAN_REVIEW:
                needs_override = True
            else:
                transitions.apply(tx, app_id, app_status, LoanState.APPROVED, actor=by, at=at,
                                  reason=f"case {case_id}: {disposition.value}")
        if label == "fraud":
            entries = watchlist.add_from_application(
                tx, app_id, reason=f"confirmed fraud ({disposition.value}) in case {case_id}",
                added_by=f"system:case:{by}", at=at)
            rings = [str(r["ring_id"]) for r in rings_link.bump(
                tx, app_id, amount=RING_BUMP_CONFIRMED,
                reason=f"member {app_id} confirmed as {disposition.value}", at=at)]
        audit.record(tx, actor=by, at=at, action="case.close", target=case_id,
                     params={"application_id": app_id, "disposition": disposition.value,
                             "label": label, "watchlist": len(entries), "rings": rings})
        app_status = transitions.current_status(tx, app_id)
    approval_id = None
    if needs_override:
        from lifecycle import approvals

        approval_id = approvals.request(
            ctx.runner, approvals.Action.OVERRIDE_DECLINE, {"application_id": app_id},
            requested_by=by, reason=f"human review {case_id} cleared: {reason}",
            at=at).approval_id
    return Closure(case_id=case_id, status=status, label=label,
                   application_status=app_status, watchlist_entries=entries,
                   rings_bumped=rings, approval_id=approval_id)


ESCALATE = Query(
    "lifecycle.cases.escalate",
    f"MATCH (c:{C} {{case_id: $case_id}}) WHERE c.status IN ['open', 'in_progress'] "
    "SET c.escalated_to = $to, c.escalated_at = $at, c.escalated_by = $by "
    "RETURN c.case_id AS case_id",
)
#: Who a reviewer hands a case up to; the SLA sweep escalates to the same desk.
SUPERVISOR = "supervisor"


def escalate(ctx: Lifecycle, case_id: str, *, by: str, reason: str,
             to: str = SUPERVISOR) -> Case:
    """A reviewer hands a live case up (the SLA sweep does it on breach): the case stays
    in the queue, ``escalated_to`` is set and the reason is kept as a case note."""
    if len(reason.strip()) < 3:
        raise InvalidInput("reason", "say why the case goes up (3 characters or more)")
    at = ctx.clock()
    with ctx.runner.transaction() as tx:
        case = get_case(tx, case_id)
        if not tx.run(ESCALATE, case_id=case_id, to=to, at=at, by=by):
            # Only live cases go up; a decided case is final.
            raise IllegalTransition("case", case_id, case.status.value, "escalated", ())
        tx.run(ADD_NOTE, case_id=case_id, author=by, at=at,
               text=f"escalated to {to}: {reason.strip()}")
        audit.record(tx, actor=by, at=at, action="case.escalate", target=case_id,
                     params={"to": to, "reason": reason.strip()})
    return get_case(ctx.runner, case_id)


def request_human_review(ctx: Lifecycle, application_id: str, *, requested_by: str,
                         reason: str) -> str:
    """PIPL Art. 24: an applicant declined without a human asks for one; opens a case."""
    from lifecycle.decision import decisions

    at = ctx.clock()
    history = decisions(ctx.runner, application_id)
    with ctx.runner.transaction() as tx:
        status = transitions.current_status(tx, application_id)
        if status != LoanState.DECLINED:
            raise IllegalTransition("application", application_id, status,
                                    LoanState.IN_REVIEW.value, ())
        if not history or not history[-1].automated:
            raise InvalidInput("application_id", f"{application_id!r} was declined by a "
                               "person, not by automation; the human-review right does "
                               "not apply")
        transitions.apply(tx, application_id, status, LoanState.IN_REVIEW,
                          actor=requested_by, at=at,
                          reason=f"applicant asked for human review (PIPL Art. 24): {reason}")
        last = history[-1]
        case_id = open_case(tx, application_id, CaseKind.HUMAN_REVIEW, at=at,
                            sla_days=ctx.sla_working_days,
                            evidence={"decision_id": last.decision_id,
                                      "reasons": [r.model_dump() for r in last.reasons],
                                      "applicant_statement": reason})
        audit.record(tx, actor=requested_by, at=at, action="case.human_review_request",
                     target=application_id, params={"case_id": case_id})
    return case_id


class SlaSweep(BaseModel):
    checked: int
    changed: dict[str, int]


def sla_sweep(ctx: Lifecycle, now: datetime | None = None, *,
              supervisor: str = "supervisor") -> SlaSweep:
    """Move every live case's SLA state to where ``now`` puts it (idempotent)."""
    now = now or ctx.clock()
    rows = ctx.runner.read(LIVE_CASES)
    changes: list[dict[str, str]] = []
    for row in rows:
        state = sla_state(now, row["opened_at"].to_native(), row["due_at"].to_native())
        if state.value != row["sla_state"]:
            changes.append({"case_id": row["case_id"], "state": state.value})
    if changes:
        with ctx.runner.transaction() as tx:
            tx.run(SET_SLA, rows=changes, now=now, supervisor=supervisor)
            for change in changes:
                if change["state"] == SlaState.ESCALATED:
                    audit.record(tx, actor="system:sla", at=now, action="case.escalate",
                                 target=change["case_id"], params={"to": supervisor})
    counts: dict[str, int] = {}
    for change in changes:
        counts[change["state"]] = counts.get(change["state"], 0) + 1
    return SlaSweep(checked=len(rows), changed=counts)


def queue(runner: QueryRunner) -> list[dict[str, Any]]:
    """Live cases, riskiest first, then by deadline."""
    return [{k: _native(v) for k, v in row.items()} for row in runner.read(QUEUE)]
