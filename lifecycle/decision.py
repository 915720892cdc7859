"""Decision at origination: upsert the application, gather signals, apply the policy,
store the decision with its frozen inputs and policy version, move the state, open a
review case for tier B.

``submit_application`` takes one contract row (the same fields as one row of
``applications``) and reuses ingest's validation and upsert, so there is one write path.

Round trips are the cost of a decision (Neo4j spends a millisecond or two of CPU on each
statement, however small, and the driver a few hundred microseconds on each message), so
a submission is one session and one transaction: the upsert (two statements), one read
(:mod:`lifecycle.snapshot`: status, rule facts, active policy, what the ring scorer
needs) and one write statement (transitions, decision, policy, audit event; a tier B case
adds its own). It commits as a whole or not at all: no application is left submitted and
undecided by a failure half way.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from fraudgraph.logs import get_logger
from graph.runner import Query, QueryError, QueryRunner, Transaction
from graph.schema import Label, Rel
from ingest import load, records
from ingest.errors import RowError
from lifecycle import cases, rules, transitions
from lifecycle.clock import new_id
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, InvalidInput, PolicyError, StaleState
from lifecycle.policy import Policy, Reason, Tier, Verdict, decide, parse_policy
from lifecycle.signals import RiskSignals, ScoreSignal
from lifecycle.snapshot import Snapshot, SnapshotReader, read_snapshot
from lifecycle.states import LoanState, check_transition

log = get_logger("lifecycle.decision")
A = Label.APPLICATION.value

TIER_STATE = {Tier.A: LoanState.APPROVED, Tier.B: LoanState.IN_REVIEW,
              Tier.C: LoanState.DECLINED}

STORE_DECISION = Query(
    "lifecycle.decision.store",
    f"""
    MATCH (a:{A} {{application_id: $application_id}})
    SET a.decision_count = coalesce(a.decision_count, 0) + 1
    CREATE (a)-[:{Rel.HAS_DECISION}]->(d:{Label.DECISION} {{
        decision_id: a.application_id + '#D' + toString(a.decision_count),
        application_id: a.application_id, seq: a.decision_count, tier: $tier,
        outcome: $outcome, points: $points, reasons: $reasons, inputs: $inputs,
        policy_version: $policy_version, decided_at: $at, decided_by: $actor,
        automated: $automated}})
    SET a.tier = coalesce($tier, a.tier), a.risk_points = coalesce($points, a.risk_points),
        a.last_decision_id = d.decision_id, a.decided_at = $at,
        a.decided_automatically = $automated,
        a.ring_score = coalesce($ring_score, a.ring_score),
        a.gnn_score = coalesce($gnn_score, a.gnn_score)
    RETURN d.decision_id AS decision_id, d.seq AS seq
    """,
)

DECISIONS = Query(
    "lifecycle.decision.list",
    f"MATCH (:{A} {{application_id: $application_id}})-[:{Rel.HAS_DECISION}]->"
    f"(d:{Label.DECISION}) RETURN d {{.*}} AS d ORDER BY d.seq",
)


class Decision(BaseModel):
    """A stored decision: enough to explain it later."""

    decision_id: str
    application_id: str
    seq: int
    tier: Tier | None = None
    outcome: str
    points: float | None = None
    reasons: list[Reason]
    policy_version: str | None = None
    decided_at: datetime
    decided_by: str
    automated: bool
    signals: RiskSignals | None = None
    case_id: str | None = None


def store_decision(tx: Any, application_id: str, *, outcome: str, actor: str, at: datetime,
                   automated: bool, reasons: list[Reason], tier: Tier | None = None,
                   points: float | None = None, signals: RiskSignals | None = None,
                   policy_version: str | None = None) -> str:
    return _store(tx, application_id, outcome=outcome, actor=actor, at=at,
                  automated=automated, reasons=reasons, tier=tier, points=points,
                  signals=signals, policy_version=policy_version).decision_id


def _store(tx: Any, application_id: str, *, outcome: str, actor: str, at: datetime,
           automated: bool, reasons: list[Reason], tier: Tier | None = None,
           points: float | None = None, signals: RiskSignals | None = None,
           policy_version: str | None = None) -> Decision:
    """Write one decision and return it as it now stands in the graph."""
    ring = signals.score("ring") if signals else None
    gnn = signals.score("gnn") if signals else None
    row = tx.run(
        STORE_DECISION, application_id=application_id,
        tier=tier.value if tier else None, outcome=outcome, points=points,
        reasons=json.dumps([r.model_dump() for r in reasons], ensure_ascii=False),
        inputs=signals.model_dump_json() if signals else None,
        policy_version=policy_version, at=at, actor=actor, automated=automated,
        ring_score=ring.score if ring and ring.available else None,
        gnn_score=gnn.score if gnn and gnn.available else None,
    )[0]
    return Decision(decision_id=row["decision_id"], application_id=application_id,
                    seq=row["seq"], tier=tier, outcome=outcome, points=points,
                    reasons=reasons, policy_version=policy_version, decided_at=at,
                    decided_by=actor, automated=automated, signals=signals)


def assemble_signals(ctx: Lifecycle, application_id: str, hub_cap: int = 6) -> RiskSignals:
    """Rule hits from the graph plus every scorer's signal."""
    snapshot = read_snapshot(ctx.runner, application_id, hub_cap=hub_cap,
                             ring_cap=_ring_cap(ctx))
    return _signals(ctx, ctx.runner, application_id, snapshot, {})


def _ring_cap(ctx: Lifecycle) -> int:
    """How far the ring scorer expands (its hub cap), so the snapshot reads what it needs;
    -1 (expand nothing) without one."""
    caps = [getattr(scorer, "ring_cap", None) for scorer in ctx.scorers]
    return next((cap for cap in caps if isinstance(cap, int)), -1)


class _ScorerReadFailed(Exception):
    """A scorer's database read failed inside the decision's transaction, which cannot
    go on: the decision starts again with that scorer's reads refused."""

    def __init__(self, index: int, cause: Exception) -> None:
        super().__init__(f"scorer {index} failed to read: {cause}")
        self.index = index
        self.cause = cause


def _signals(ctx: Lifecycle, db: QueryRunner | Transaction, application_id: str,
             snapshot: Snapshot, refused: dict[int, Exception]) -> RiskSignals:
    # Scorers get a reader that answers the ring queries from the snapshot and anything
    # else from ``db``: inside a submission, its transaction (the only one that sees the
    # application yet).
    scores: list[ScoreSignal] = []
    for index, scorer in enumerate(ctx.scorers):
        reader = SnapshotReader(db, snapshot, application_id, refused=refused.get(index))
        scores.append(scorer(reader, application_id))  # type: ignore[arg-type]
        failure = reader.failure
        if failure is not None and isinstance(db, Transaction):
            # A failed statement ends the transaction. A failed query is the scorer's
            # problem (it reported itself unavailable, as it does outside a transaction);
            # anything else (a deadlock, the server gone) is the submission's, for the
            # driver to retry or report.
            raise _ScorerReadFailed(index, failure) if isinstance(failure, QueryError) \
                else failure
    return RiskSignals(application_id=application_id,
                       rule_hits=rules.hits_from_facts(snapshot.facts), scores=scores)


def _policy_and_snapshot(ctx: Lifecycle, tx: Transaction,
                         application_id: str) -> tuple[Policy, Snapshot]:
    """The active policy and the decision's reads, in one statement as a rule: the
    snapshot is read with the hub cap of the policy the last decision used, and only
    read again when the active policy turns out to have another."""
    ring_cap = _ring_cap(ctx)
    guess = ctx.policies.guess(ctx.policy_file)
    snapshot = read_snapshot(tx, application_id, hub_cap=guess.hub_cap, ring_cap=ring_cap)
    policy = ctx.policies.resolve(snapshot.policy_body, ctx.policy_file)
    if policy.hub_cap != snapshot.hub_cap:
        snapshot = read_snapshot(tx, application_id, hub_cap=policy.hub_cap,
                                 ring_cap=ring_cap)
    return policy, snapshot


def submit_application(ctx: Lifecycle, raw: dict[str, str | None], *,
                       actor: str = "system:origination", at: datetime | None = None
                       ) -> Decision:
    """Validate and upsert one contract row, then decide it in one pass, all in one
    transaction: a submission is decided entirely or not written at all.

    A bad row raises ``InvalidInput`` and writes nothing; an application already decided
    raises ``IllegalTransition`` and stays as it was (the upsert is rolled back).
    """
    at = at or ctx.clock()
    clean = {k: (v if v not in ("", None) else None) for k, v in raw.items()}
    try:
        record = records.to_application(clean, ctx.pseudo, at.date())
    except RowError as exc:
        raise InvalidInput(exc.column, exc.reason) from None

    def work(tx: Transaction, refused: dict[int, Exception]) -> Decision:
        load.write_applications(tx, [record], run_id=f"submit:{actor}")
        # The status comes with the decision's reads, after the upsert: a decided
        # application raises there, and the upsert is rolled back with the rest.
        return _decide(ctx, tx, record.key, actor, at, refused,
                       allowed=(LoanState.SUBMITTED,), target=LoanState.SUBMITTED)

    return _in_one_transaction(ctx, work)


def decide_application(ctx: Lifecycle, application_id: str, *, actor: str = "system:origination",
                       at: datetime | None = None) -> Decision:
    """Screen and decide an application in state ``submitted`` (or ``screened`` after a
    crash between the two steps of an earlier version).

    One transaction: the decision's reads (status, rule facts, policy, ring neighbourhood:
    one statement, ``lifecycle.snapshot``), then screening and the decision recorded as
    two transitions with the decision, so an application is never left screened without
    one.
    """
    at = at or ctx.clock()
    return _in_one_transaction(
        ctx, lambda tx, refused: _decide(ctx, tx, application_id, actor, at, refused,
                                         allowed=(LoanState.SUBMITTED, LoanState.SCREENED),
                                         target=LoanState.SCREENED))


def _in_one_transaction(ctx: Lifecycle,
                        work: Callable[[Transaction, dict[int, Exception]], Decision]
                        ) -> Decision:
    """Run a decision as one write transaction, retried as a whole on a deadlock
    (concurrent submissions merge the same dealer, agent or shared identifier), and
    started again without a scorer's database reads when one of them failed (each
    scorer at most once, so this ends)."""
    refused: dict[int, Exception] = {}
    while True:
        try:
            decided = ctx.runner.write_work(lambda tx: work(tx, refused))
        except _ScorerReadFailed as failed:
            refused[failed.index] = failed.cause
            continue
        log.info("decided", application_id=decided.application_id,
                 tier=str(decided.tier), points=decided.points,
                 hits=len(decided.signals.rule_hits) if decided.signals else 0)
        return decided


def _decide(ctx: Lifecycle, tx: Transaction, application_id: str, actor: str, at: datetime,
            refused: dict[int, Exception], *, allowed: tuple[LoanState, ...],
            target: LoanState) -> Decision:
    """Read, score, decide and record inside ``tx``; an application whose status is not
    one of ``allowed`` raises ``IllegalTransition`` (towards ``target``)."""
    policy, snapshot = _policy_and_snapshot(ctx, tx, application_id)
    status = snapshot.status
    if status not in allowed:
        raise IllegalTransition("application", application_id, str(status), target.value, ())
    signals = _signals(ctx, tx, application_id, snapshot, refused)
    verdict = decide(signals, policy)
    outcome = TIER_STATE[verdict.tier]
    moves = _moves(application_id, str(status), outcome, verdict)
    case_id = _record_verdict(ctx, tx, application_id, moves, verdict, outcome, policy,
                              signals, snapshot.decision_count, actor, at)
    return Decision(decision_id=f"{application_id}#D{snapshot.decision_count + 1}",
                    application_id=application_id, seq=snapshot.decision_count + 1,
                    tier=verdict.tier, outcome=outcome.value, points=verdict.points,
                    reasons=verdict.reasons, policy_version=policy.version, decided_at=at,
                    decided_by=actor, automated=True, signals=signals, case_id=case_id)


def _moves(application_id: str, status: str, target: LoanState,
           verdict: Verdict) -> list[dict[str, str]]:
    """The transitions of an automated decision, checked by the state machine."""
    moves = []
    if status == LoanState.SUBMITTED:
        moves.append({"from_state": LoanState.SUBMITTED.value,
                      "to_state": LoanState.SCREENED.value,
                      "reason": "automated screening started"})
    moves.append({"from_state": LoanState.SCREENED.value, "to_state": target.value,
                  "reason": f"tier {verdict.tier}: {verdict.reasons[0].text}"})
    for move in moves:
        check_transition(application_id, move["from_state"], move["to_state"])
    return moves


RECORD_VERDICT = Query(
    "lifecycle.decision.record_verdict",
    f"""
    MATCH (a:{A} {{application_id: $application_id}})
    WHERE a.status = $from_state AND coalesce(a.decision_count, 0) = $decision_count
    MERGE (p:{Label.POLICY} {{version: $policy_version}})
      ON CREATE SET p.body = $policy_body, p.created_at = $at, p.active = false
    WITH a, p, coalesce(a.transition_count, 0) AS t0
    SET a.status = $to_state, a.status_at = $at, a.transition_count = t0 + size($moves),
        a.decision_count = $decision_count + 1, a.tier = $tier, a.risk_points = $points,
        a.last_decision_id = $decision_id, a.decided_at = $at, a.decided_automatically = true,
        a.ring_score = coalesce($ring_score, a.ring_score),
        a.gnn_score = coalesce($gnn_score, a.gnn_score)
    FOREACH (i IN range(0, size($moves) - 1) |
      CREATE (a)-[:{Rel.HAS_TRANSITION}]->(:{Label.TRANSITION} {{
        transition_id: a.application_id + '#T' + toString(t0 + i + 1),
        application_id: a.application_id, seq: t0 + i + 1,
        from_state: $moves[i].from_state, to_state: $moves[i].to_state, actor: $actor,
        at: $at, reason: $moves[i].reason}}))
    CREATE (a)-[:{Rel.HAS_DECISION}]->(:{Label.DECISION} {{
        decision_id: $decision_id, application_id: a.application_id,
        seq: $decision_count + 1, tier: $tier, outcome: $outcome, points: $points,
        reasons: $reasons, inputs: $inputs, policy_version: $policy_version,
        decided_at: $at, decided_by: $actor, automated: true}})
    CREATE (:{Label.AUDIT_EVENT} {{event_id: $event_id, actor: $actor, at: $at,
        action: 'decision.automated', target: a.application_id, params: $audit_params,
        outcome: 'ok', recorded_ns: $recorded_ns}})
    RETURN p.body AS policy_body
    """,
)


def _record_verdict(ctx: Lifecycle, tx: Transaction, application_id: str,
                    moves: list[dict[str, str]], verdict: Verdict, target: LoanState,
                    policy: Policy, signals: RiskSignals, decision_count: int, actor: str,
                    at: datetime) -> str | None:
    """Screening, decision, state, policy, review case and audit event: one transaction,
    one statement (two more for a tier B case). The decision id is known up front: the
    statement only writes while the application's decision counter is the one read."""
    decision_id = f"{application_id}#D{decision_count + 1}"
    case_id = None
    if verdict.tier == Tier.B:
        case_id = cases.open_case(
            tx, application_id, cases.CaseKind.REVIEW, at=at, sla_days=ctx.sla_working_days,
            evidence={"decision_id": decision_id, "tier": verdict.tier.value,
                      "points": verdict.points,
                      "reasons": [r.model_dump() for r in verdict.reasons],
                      "signals": signals.model_dump(mode="json")})
    ring, gnn = signals.score("ring"), signals.score("gnn")
    body = policy.to_json()
    rows = tx.run(
        RECORD_VERDICT, application_id=application_id, from_state=moves[0]["from_state"],
        to_state=target.value, moves=moves, decision_count=decision_count,
        decision_id=decision_id, tier=verdict.tier.value, outcome=target.value,
        points=verdict.points, policy_version=policy.version, policy_body=body,
        reasons=json.dumps([r.model_dump() for r in verdict.reasons], ensure_ascii=False),
        inputs=signals.model_dump_json(), at=at, actor=actor,
        ring_score=ring.score if ring and ring.available else None,
        gnn_score=gnn.score if gnn and gnn.available else None,
        event_id=new_id("EVT"), recorded_ns=time.time_ns(),
        audit_params=json.dumps(
            {"decision_id": decision_id, "tier": verdict.tier.value,
             "policy_version": policy.version, "points": verdict.points,
             "codes": [r.code for r in verdict.reasons], "case_id": case_id},
            sort_keys=True, default=str, ensure_ascii=False))
    if not rows:
        raise StaleState(f"application {application_id!r} changed while it was decided")
    stored = rows[0]["policy_body"]
    if stored != body and parse_policy(stored) != policy:
        raise PolicyError(f"policy version {policy.version!r} exists with a different body; "
                          "give the changed policy a new version")
    return case_id


def decisions(runner: QueryRunner, application_id: str) -> list[Decision]:
    """Every decision on an application, oldest first, with frozen inputs and reasons."""
    rows = runner.read(DECISIONS, application_id=application_id)
    if not rows:
        transitions.current_status(runner, application_id)  # NotFound when absent
    out = []
    for row in rows:
        d = dict(row["d"])
        d["reasons"] = json.loads(d["reasons"])
        d["signals"] = json.loads(d["inputs"]) if d.get("inputs") else None
        d["decided_at"] = d["decided_at"].to_native()
        out.append(Decision.model_validate(d))
    return out
