"""Decision at origination: upsert the application, gather signals, apply the policy,
store the decision with its frozen inputs and policy version, move the state, open a
review case for tier B.

``submit_application`` takes one contract row (the same fields as one row of
``applications``) and reuses ingest's validation and upsert, so there is one write path.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from fraudgraph.logs import get_logger
from graph.runner import Query, QueryRunner, Transaction
from graph.schema import Label, Rel
from ingest import load, records
from ingest.errors import RowError
from lifecycle import audit, cases, policy_store, rules, transitions
from lifecycle.context import Lifecycle
from lifecycle.errors import IllegalTransition, InvalidInput, NotFound
from lifecycle.policy import Policy, Reason, Tier, Verdict, decide
from lifecycle.signals import RiskSignals, ScoreSignal
from lifecycle.states import LoanState

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
    facts = rules.read_facts(ctx.runner, application_id, hub_cap)
    scores: list[ScoreSignal] = [scorer(ctx.runner, application_id) for scorer in ctx.scorers]
    return RiskSignals(application_id=application_id, rule_hits=rules.hits_from_facts(facts),
                       scores=scores)


def submit_application(ctx: Lifecycle, raw: dict[str, str | None], *,
                       actor: str = "system:origination", at: datetime | None = None
                       ) -> Decision:
    """Validate and upsert one contract row, then decide it in one pass.

    A bad row raises ``InvalidInput`` and writes nothing; an application already decided
    raises ``IllegalTransition`` and stays as it was.
    """
    at = at or ctx.clock()
    clean = {k: (v if v not in ("", None) else None) for k, v in raw.items()}
    try:
        record = records.to_application(clean, ctx.pseudo, at.date())
    except RowError as exc:
        raise InvalidInput(exc.column, exc.reason) from None

    def write(tx: Transaction) -> None:
        # The status check shares the upsert's transaction: one round trip fewer, and a
        # decided application cannot slip in between.
        try:
            status = transitions.current_status(tx, record.key)
        except NotFound:
            status = LoanState.SUBMITTED.value
        if status != LoanState.SUBMITTED.value:
            raise IllegalTransition("application", record.key, status,
                                    LoanState.SUBMITTED.value, ())
        load.write_applications(tx, [record], run_id=f"submit:{actor}")

    # Retried as a whole on a deadlock: concurrent submissions merge the same dealer,
    # agent or shared identifier.
    ctx.runner.write_work(write)
    return decide_application(ctx, record.key, actor=actor, at=at,
                              status=LoanState.SUBMITTED.value)


def decide_application(ctx: Lifecycle, application_id: str, *, actor: str = "system:origination",
                       at: datetime | None = None, status: str | None = None) -> Decision:
    """Screen and decide an application in state ``submitted`` (or ``screened`` after a
    crash between the two steps of an earlier version). ``status``: the caller has just
    read it.

    Screening and the decision are recorded as two transitions in one transaction with
    the decision, so an application is never left screened without one; signals are read
    before, outside any write transaction.
    """
    at = at or ctx.clock()
    status = status or transitions.current_status(ctx.runner, application_id)
    if status not in (LoanState.SUBMITTED, LoanState.SCREENED):
        raise IllegalTransition("application", application_id, status,
                                LoanState.SCREENED.value, ())
    policy = policy_store.active_policy(ctx.runner, ctx.policy_file)
    signals = assemble_signals(ctx, application_id, policy.hub_cap)
    verdict = decide(signals, policy)
    target = TIER_STATE[verdict.tier]

    def write(tx: Transaction) -> tuple[Decision, str | None]:
        return _record_verdict(ctx, tx, application_id, status, verdict, target, policy,
                               signals, actor, at)

    decided, case_id = ctx.runner.write_work(write)
    log.info("decided", application_id=application_id, tier=verdict.tier.value,
             points=verdict.points, hits=len(signals.rule_hits))
    return decided.model_copy(update={"case_id": case_id})


def _record_verdict(ctx: Lifecycle, tx: Transaction, application_id: str, status: str,
                    verdict: Verdict, target: LoanState, policy: Policy, signals: RiskSignals,
                    actor: str, at: datetime) -> tuple[Decision, str | None]:
    """Screening, decision, state, review case and audit event: one transaction."""
    if status == LoanState.SUBMITTED:
        transitions.apply(tx, application_id, LoanState.SUBMITTED, LoanState.SCREENED,
                          actor=actor, at=at, reason="automated screening started")
    policy_store.remember(tx, policy, at)
    decided = _store(tx, application_id, outcome=target.value, actor=actor, at=at,
                     automated=True, reasons=verdict.reasons, tier=verdict.tier,
                     points=verdict.points, signals=signals, policy_version=policy.version)
    decision_id = decided.decision_id
    transitions.apply(tx, application_id, LoanState.SCREENED, target, actor=actor, at=at,
                      reason=f"tier {verdict.tier}: {verdict.reasons[0].text}")
    case_id = None
    if verdict.tier == Tier.B:
        case_id = cases.open_case(
            tx, application_id, cases.CaseKind.REVIEW, at=at, sla_days=ctx.sla_working_days,
            evidence={"decision_id": decision_id, "tier": verdict.tier.value,
                      "points": verdict.points,
                      "reasons": [r.model_dump() for r in verdict.reasons],
                      "signals": signals.model_dump(mode="json")})
    audit.record(tx, actor=actor, at=at, action="decision.automated", target=application_id,
                 params={"decision_id": decision_id, "tier": verdict.tier.value,
                         "policy_version": policy.version, "points": verdict.points,
                         "codes": [r.code for r in verdict.reasons], "case_id": case_id})
    return decided, case_id


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
