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

Submissions that arrive together can be decided together (``submit_together``, which the
API's batcher calls): the same statements with one row per application, one transaction,
so the per-statement and per-transaction costs are paid once for all of them. Any failure
there sends each submission through again on its own, so one bad submission never costs
another its decision, and each gets the answer it would have got alone. A scorer that
can score the whole batch at once (``BatchScorer``: the GNN, one read and one pass of its
network) is called once for it. The rules count only applications submitted earlier; the
GNN reads each neighbourhood after the batch is written, so two submissions of one batch
that share an identifier see each other, where one by one only the later sees the earlier.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from fraudgraph.logs import get_logger
from graph.runner import DatabaseUnavailable, Query, QueryError, QueryRunner, Transaction
from graph.schema import Label, Rel
from ingest import load, records
from ingest.errors import RowError
from lifecycle import audit, cases, rules, transitions
from lifecycle.clock import new_id
from lifecycle.context import Lifecycle
from lifecycle.errors import (
    IllegalTransition,
    InvalidInput,
    NotFound,
    PolicyError,
    StaleState,
)
from lifecycle.policy import Policy, Reason, Tier, Verdict, decide, parse_policy
from lifecycle.signals import BatchScorer, RiskSignals, ScoreSignal
from lifecycle.snapshot import (
    GuardedReader,
    Snapshot,
    SnapshotReader,
    read_snapshot,
    read_snapshots,
)
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
             snapshot: Snapshot, refused: dict[int, Exception],
             together: list[dict[str, ScoreSignal]] | None = None) -> RiskSignals:
    # Scorers get a reader that answers the ring queries from the snapshot and anything
    # else from ``db``: inside a submission, its transaction (the only one that sees the
    # application yet). A signal a scorer already gave for the whole batch is taken as
    # it is.
    scores: list[ScoreSignal] = []
    for index, scorer in enumerate(ctx.scorers):
        given = together[index].get(application_id) if together else None
        if given is not None:
            scores.append(given)
            continue
        reader = SnapshotReader(db, snapshot, application_id, refused=refused.get(index))
        scores.append(scorer(reader, application_id))  # type: ignore[arg-type]
        _check_read(index, reader, db)
    return RiskSignals(application_id=application_id,
                       rule_hits=rules.hits_from_facts(snapshot.facts), scores=scores)


def _check_read(index: int, reader: GuardedReader, db: QueryRunner | Transaction) -> None:
    failure = reader.failure
    if failure is not None and isinstance(db, Transaction):
        # A failed statement ends the transaction. A failed query is the scorer's
        # problem (it reported itself unavailable, as it does outside a transaction);
        # anything else (a deadlock, the server gone) is the submission's, for the
        # driver to retry or report.
        raise _ScorerReadFailed(index, failure) if isinstance(failure, QueryError) \
            else failure


def _score_together(ctx: Lifecycle, tx: Transaction, application_ids: list[str],
                    refused: dict[int, Exception]) -> list[dict[str, ScoreSignal]]:
    """Per scorer, the signals of those that score a batch at once (``BatchScorer``:
    the GNN reads every neighbourhood in one statement and runs its network once), by
    application id; the others, and a scorer whose reads are refused, get an empty map
    and are called per application."""
    together: list[dict[str, ScoreSignal]] = []
    for index, scorer in enumerate(ctx.scorers):
        if not isinstance(scorer, BatchScorer) or index in refused or not application_ids:
            together.append({})
            continue
        reader = GuardedReader(tx)
        together.append(scorer.score_many(reader, application_ids))  # type: ignore[arg-type]
        _check_read(index, reader, tx)
    return together


def _policy_and_snapshots(ctx: Lifecycle, tx: Transaction, application_ids: list[str]
                          ) -> tuple[Policy, dict[str, Snapshot]]:
    """The active policy and the decision's reads, in one statement as a rule: the
    snapshots are read with the hub cap of the policy the last decision used, and only
    read again when the active policy turns out to have another."""
    ring_cap = _ring_cap(ctx)
    guess = ctx.policies.guess(ctx.policy_file)
    snapshots = read_snapshots(tx, application_ids, hub_cap=guess.hub_cap, ring_cap=ring_cap)
    first = next(iter(snapshots.values()), None)
    policy = ctx.policies.resolve(first.policy_body if first else None, ctx.policy_file)
    if first is not None and policy.hub_cap != first.hub_cap:
        snapshots = read_snapshots(tx, application_ids, hub_cap=policy.hub_cap,
                                   ring_cap=ring_cap)
    return policy, snapshots


@dataclass(frozen=True)
class _Request:
    """One application to decide: a submission (``record`` set: it is upserted first, in
    the same transaction) or one already stored."""

    application_id: str
    actor: str
    at: datetime
    allowed: tuple[LoanState, ...]
    target: LoanState
    record: records.Record | None = None


@dataclass(frozen=True)
class Submission:
    """A validated submission waiting for its decision (``prepare`` makes one)."""

    record: records.Record
    actor: str
    at: datetime

    def request(self) -> _Request:
        return _Request(self.record.key, self.actor, self.at, allowed=(LoanState.SUBMITTED,),
                        target=LoanState.SUBMITTED, record=self.record)


def prepare(ctx: Lifecycle, raw: dict[str, str | None], *, actor: str = "system:origination",
            at: datetime | None = None) -> Submission:
    """Validate one contract row as ingest does; a bad row raises ``InvalidInput``."""
    at = at or ctx.clock()
    clean = {k: (v if v not in ("", None) else None) for k, v in raw.items()}
    try:
        record = records.to_application(clean, ctx.pseudo, at.date())
    except RowError as exc:
        raise InvalidInput(exc.column, exc.reason) from None
    return Submission(record, actor, at)


def submit_application(ctx: Lifecycle, raw: dict[str, str | None], *,
                       actor: str = "system:origination", at: datetime | None = None
                       ) -> Decision:
    """Validate and upsert one contract row, then decide it in one pass, all in one
    transaction: a submission is decided entirely or not written at all.

    A bad row raises ``InvalidInput`` and writes nothing; an application already decided
    raises ``IllegalTransition`` and stays as it was (the upsert is rolled back).
    """
    submission = prepare(ctx, raw, actor=actor, at=at)
    return _decide_alone(ctx, submission.request())


def submit_together(ctx: Lifecycle, submissions: list[Submission]
                    ) -> list[Decision | Exception]:
    """Decide several submissions in one transaction; each gets its decision, or the
    exception it would have raised alone, in order.

    When anything fails in the shared transaction (a resubmitted application, a scorer's
    read, a stale state), each submission runs again on its own: a failure is only
    ever its own submission's. Neo4j being down is everyone's, and is not retried."""
    if len(submissions) == 1:
        return [_outcome(lambda: _decide_alone(ctx, submissions[0].request()))]
    requests = [s.request() for s in submissions]
    try:
        decided = ctx.runner.write_work(lambda tx: _decide_all(ctx, tx, requests, {}))
    except DatabaseUnavailable as exc:
        return [exc for _ in submissions]
    except Exception as exc:
        log.info("decided alone", submissions=len(submissions), cause=type(exc).__name__)
        return [_outcome(lambda r=r: _decide_alone(ctx, r)) for r in requests]  # type: ignore[misc]
    for d in decided:
        _log_decided(d)
    return list(decided)


def _outcome(decide_one: Callable[[], Decision]) -> Decision | Exception:
    try:
        return decide_one()
    except Exception as exc:
        return exc


def decide_application(ctx: Lifecycle, application_id: str, *, actor: str = "system:origination",
                       at: datetime | None = None) -> Decision:
    """Screen and decide an application in state ``submitted`` (or ``screened`` after a
    crash between the two steps of an earlier version).

    One transaction: the decision's reads (status, rule facts, policy, ring neighbourhood:
    one statement, ``lifecycle.snapshot``), then screening and the decision recorded as
    two transitions with the decision, so an application is never left screened without
    one.
    """
    return _decide_alone(ctx, _Request(application_id, actor, at or ctx.clock(),
                                       allowed=(LoanState.SUBMITTED, LoanState.SCREENED),
                                       target=LoanState.SCREENED))


def _decide_alone(ctx: Lifecycle, request: _Request) -> Decision:
    """Decide one application as one write transaction, retried as a whole on a deadlock
    (concurrent submissions merge the same dealer, agent or shared identifier), and
    started again without a scorer's database reads when one of them failed (each
    scorer at most once, so this ends)."""
    refused: dict[int, Exception] = {}
    while True:
        try:
            decided = ctx.runner.write_work(
                lambda tx: _decide_all(ctx, tx, [request], refused)[0])
        except _ScorerReadFailed as failed:
            refused[failed.index] = failed.cause
            continue
        _log_decided(decided)
        return decided


def _log_decided(decided: Decision) -> None:
    log.info("decided", application_id=decided.application_id, tier=str(decided.tier),
             points=decided.points,
             hits=len(decided.signals.rule_hits) if decided.signals else 0)


@dataclass
class _Plan:
    """One application's verdict, worked out and not yet written."""

    request: _Request
    snapshot: Snapshot
    signals: RiskSignals
    verdict: Verdict
    outcome: LoanState
    moves: list[dict[str, str]]
    case_id: str | None = None

    @property
    def decision_id(self) -> str:
        return f"{self.request.application_id}#D{self.snapshot.decision_count + 1}"


def _decide_all(ctx: Lifecycle, tx: Transaction, requests: list[_Request],
                refused: dict[int, Exception]) -> list[Decision]:
    """Upsert the submissions, read, score, decide and record, all inside ``tx``; an
    application whose status is not one its request allows raises
    ``IllegalTransition``."""
    _upsert(tx, [r for r in requests if r.record is not None])
    policy, snapshots = _policy_and_snapshots(ctx, tx, [r.application_id for r in requests])
    # Every status is checked before anything is scored: one that fails ends the shared
    # transaction anyway, so the batch's scorers only ever see applications to decide.
    states = [_allowed(request, snapshots) for request in requests]
    together = _score_together(ctx, tx, [r.application_id for r in requests], refused)
    plans = [_plan(ctx, tx, request, snapshot, policy, refused, together)
             for request, snapshot in zip(requests, states, strict=True)]
    _record_verdicts(ctx, tx, plans, policy)
    return [Decision(decision_id=p.decision_id, application_id=p.request.application_id,
                     seq=p.snapshot.decision_count + 1, tier=p.verdict.tier,
                     outcome=p.outcome.value, points=p.verdict.points,
                     reasons=p.verdict.reasons, policy_version=policy.version,
                     decided_at=p.request.at, decided_by=p.request.actor, automated=True,
                     signals=p.signals, case_id=p.case_id) for p in plans]


def _upsert(tx: Transaction, requests: list[_Request]) -> None:
    """The submissions' rows, as ingest writes them; the run id names the submitter."""
    by_actor: dict[str, list[records.Record]] = {}
    for request in requests:
        assert request.record is not None
        by_actor.setdefault(request.actor, []).append(request.record)
    for actor, rows in by_actor.items():
        load.write_applications(tx, rows, run_id=f"submit:{actor}")


def _allowed(request: _Request, snapshots: dict[str, Snapshot]) -> Snapshot:
    """The request's snapshot; ``NotFound`` or ``IllegalTransition`` when its application
    is missing or in a status the request does not allow."""
    application_id = request.application_id
    snapshot = snapshots.get(application_id)
    if snapshot is None:
        raise NotFound("application", application_id)
    if snapshot.status not in request.allowed:
        raise IllegalTransition("application", application_id, str(snapshot.status),
                                request.target.value, ())
    return snapshot


def _plan(ctx: Lifecycle, tx: Transaction, request: _Request, snapshot: Snapshot,
          policy: Policy, refused: dict[int, Exception],
          together: list[dict[str, ScoreSignal]]) -> _Plan:
    application_id = request.application_id
    signals = _signals(ctx, tx, application_id, snapshot, refused, together)
    verdict = decide(signals, policy)
    outcome = TIER_STATE[verdict.tier]
    return _Plan(request, snapshot, signals, verdict, outcome,
                 _moves(application_id, str(snapshot.status), outcome, verdict))


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


RECORD_VERDICTS = Query(
    "lifecycle.decision.record_verdicts",
    f"""
    MERGE (p:{Label.POLICY} {{version: $policy_version}})
      ON CREATE SET p.body = $policy_body, p.created_at = $at, p.active = false
    WITH p
    CALL (p) {{
      UNWIND $verdicts AS v
      MATCH (a:{A} {{application_id: v.application_id}})
      WHERE a.status = v.from_state AND coalesce(a.decision_count, 0) = v.decision_count
      WITH a, v, coalesce(a.transition_count, 0) AS t0
      SET a.status = v.to_state, a.status_at = v.at,
          a.transition_count = t0 + size(v.moves),
          a.decision_count = v.decision_count + 1, a.tier = v.tier, a.risk_points = v.points,
          a.last_decision_id = v.decision_id, a.decided_at = v.at,
          a.decided_automatically = true,
          a.ring_score = coalesce(v.ring_score, a.ring_score),
          a.gnn_score = coalesce(v.gnn_score, a.gnn_score)
      FOREACH (i IN range(0, size(v.moves) - 1) |
        CREATE (a)-[:{Rel.HAS_TRANSITION}]->(:{Label.TRANSITION} {{
          transition_id: a.application_id + '#T' + toString(t0 + i + 1),
          application_id: a.application_id, seq: t0 + i + 1,
          from_state: v.moves[i].from_state, to_state: v.moves[i].to_state,
          actor: v.actor, at: v.at, reason: v.moves[i].reason}}))
      CREATE (a)-[:{Rel.HAS_DECISION}]->(:{Label.DECISION} {{
          decision_id: v.decision_id, application_id: a.application_id,
          seq: v.decision_count + 1, tier: v.tier, outcome: v.outcome, points: v.points,
          reasons: v.reasons, inputs: v.inputs, policy_version: $policy_version,
          decided_at: v.at, decided_by: v.actor, automated: true}})
      {audit.create_event(event_id="v.event_id", actor="v.actor", at="v.at",
                          action="'decision.automated'", target="a.application_id",
                          params="v.audit_params", recorded_ns="v.recorded_ns")}
      RETURN collect(a.application_id) AS recorded
    }}
    RETURN p.body AS policy_body, recorded
    """,
)


def _record_verdicts(ctx: Lifecycle, tx: Transaction, plans: list[_Plan],
                     policy: Policy) -> None:
    """Screening, decision, state, policy, review case and audit event of every plan:
    one statement (two more for each tier B case). The decision ids are known up front:
    the statement only writes while each application's decision counter is the one
    read."""
    for plan in plans:
        if plan.verdict.tier == Tier.B:
            plan.case_id = _open_review(ctx, tx, plan)
    body = policy.to_json()
    rows = tx.run(RECORD_VERDICTS, policy_version=policy.version, policy_body=body,
                  at=plans[0].request.at, verdicts=[_verdict_row(p, policy) for p in plans])
    recorded = set(rows[0]["recorded"])
    for plan in plans:
        if plan.request.application_id not in recorded:
            raise StaleState(f"application {plan.request.application_id!r} changed while it "
                             "was decided")
    stored = rows[0]["policy_body"]
    if stored != body and parse_policy(stored) != policy:
        raise PolicyError(f"policy version {policy.version!r} exists with a different body; "
                          "give the changed policy a new version")


def _open_review(ctx: Lifecycle, tx: Transaction, plan: _Plan) -> str:
    verdict = plan.verdict
    return cases.open_case(
        tx, plan.request.application_id, cases.CaseKind.REVIEW, at=plan.request.at,
        sla_days=ctx.sla_working_days,
        evidence={"decision_id": plan.decision_id, "tier": verdict.tier.value,
                  "points": verdict.points,
                  "reasons": [r.model_dump() for r in verdict.reasons],
                  "signals": plan.signals.model_dump(mode="json")})


def _verdict_row(plan: _Plan, policy: Policy) -> dict[str, Any]:
    verdict, signals = plan.verdict, plan.signals
    ring, gnn = signals.score("ring"), signals.score("gnn")
    return {
        "application_id": plan.request.application_id,
        "from_state": plan.moves[0]["from_state"], "to_state": plan.outcome.value,
        "moves": plan.moves, "decision_count": plan.snapshot.decision_count,
        "decision_id": plan.decision_id, "tier": verdict.tier.value,
        "outcome": plan.outcome.value, "points": verdict.points,
        "reasons": json.dumps([r.model_dump() for r in verdict.reasons], ensure_ascii=False),
        "inputs": signals.model_dump_json(), "at": plan.request.at,
        "actor": plan.request.actor,
        "ring_score": ring.score if ring and ring.available else None,
        "gnn_score": gnn.score if gnn and gnn.available else None,
        "event_id": new_id("EVT"), "recorded_ns": time.time_ns(),
        "audit_params": audit.params_json(
            {"decision_id": plan.decision_id, "tier": verdict.tier.value,
             "policy_version": policy.version, "points": verdict.points,
             "codes": [r.code for r in verdict.reasons], "case_id": plan.case_id}),
    }


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
