"""After approval: contract, disbursement to the dealer's account, repayments, and the
servicing run that moves every loan to its collection stage (idempotently), with the
graph early warning on first-payment defaults inside rings."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from fraudgraph.logs import get_logger
from graph.runner import Query
from graph.schema import Label, Rel
from ingest import load, records
from ingest.errors import RowError
from lifecycle import audit, cases, rings_link, transitions
from lifecycle.clock import start_of
from lifecycle.collection import CHARGE_OFF_DPD, Installment, Stage, standing
from lifecycle.context import Lifecycle
from lifecycle.errors import InvalidInput, NotFound
from lifecycle.states import ACTIVE_LOAN, LoanState

log = get_logger("lifecycle.servicing")
A = Label.APPLICATION.value
S = LoanState
#: Loans whose other ring members get an early-warning case.
WARNABLE = [S.APPROVED.value, S.CONTRACTED.value, S.DISBURSED.value, S.CURRENT.value,
            S.DELINQUENT.value]
RING_BUMP_FPD = 0.15

LOANS = Query(
    "lifecycle.servicing.loans",
    f"""
    MATCH (a:{A}) WHERE a.status IN $states
    RETURN a.application_id AS application_id, a.status AS status,
           a.term_months AS term_months, coalesce(a.fpd_flagged, false) AS fpd_flagged,
           COLLECT {{ MATCH (a)-[:{Rel.HAS_INSTALLMENT}]->(i:{Label.INSTALLMENT})
                      RETURN i {{.installment_no, .due_date, .amount_due, .paid_date,
                                 .amount_paid}} }} AS installments
    ORDER BY application_id
    """,
)
SET_STANDING = Query(
    "lifecycle.servicing.set_standing",
    f"UNWIND $rows AS r MATCH (a:{A} {{application_id: r.application_id}}) "
    "SET a.dpd = r.dpd, a.collection_stage = r.stage, a.overdue_amount = r.overdue, "
    "a.serviced_as_of = $as_of",
)
FLAG_FPD = Query(
    "lifecycle.servicing.flag_fpd",
    f"MATCH (a:{A} {{application_id: $application_id}}) SET a.fpd_flagged = true, "
    "a.fpd_at = $at",
)
FLAG_WARNING = Query(
    "lifecycle.servicing.flag_warning",
    f"MATCH (a:{A} {{application_id: $application_id}}) SET a.early_warning = true, "
    "a.early_warning_source = $source",
)
LOAN_FACTS = Query(
    "lifecycle.servicing.loan_facts",
    f"MATCH (a:{A} {{application_id: $application_id}}) "
    f"OPTIONAL MATCH (a)-[:{Rel.SUBMITTED_VIA}]->(d:{Label.DEALER}) "
    "RETURN a.status AS status, a.loan_amount AS loan_amount, a.dealer_id AS dealer_id, "
    "coalesce(d.suspended, false) AS dealer_suspended",
)
SET_DISBURSED = Query(
    "lifecycle.servicing.set_disbursed",
    f"MATCH (a:{A} {{application_id: $application_id}}) SET a.disbursed_at = $at, "
    "a.disbursed_amount = $amount, a.disbursed_to = $to",
)


class ServicingReport(BaseModel):
    as_of: date
    loans: int
    transitions: dict[str, int] = Field(default_factory=dict)
    stages: dict[str, int] = Field(default_factory=dict)
    first_payment_defaults: int = 0
    rings_bumped: int = 0
    early_warning_cases: list[str] = Field(default_factory=list)


def _facts(ctx: Lifecycle, application_id: str) -> dict[str, Any]:
    rows = ctx.runner.read(LOAN_FACTS, application_id=application_id)
    if not rows:
        raise NotFound("application", application_id)
    return rows[0]


def contract(ctx: Lifecycle, application_id: str, *, by: str) -> str:
    """The contract is signed at the dealer: approved -> contracted."""
    return transitions.transition(ctx.runner, application_id, S.CONTRACTED, actor=by,
                                  at=ctx.clock(), reason="contract signed at the dealer")


def disburse(ctx: Lifecycle, application_id: str, *, by: str) -> str:
    """Funds go to the dealer's account: contracted -> disbursed. A suspended dealer is
    not paid."""
    facts = _facts(ctx, application_id)
    if facts["dealer_suspended"]:
        raise InvalidInput("application_id", f"dealer {facts['dealer_id']!r} of "
                                             f"{application_id!r} is suspended")
    at = ctx.clock()
    with ctx.runner.transaction() as tx:
        tid = transitions.apply(tx, application_id, facts["status"], S.DISBURSED, actor=by,
                                at=at, reason=f"disbursed to dealer {facts['dealer_id']}")
        tx.run(SET_DISBURSED, application_id=application_id, at=at,
               amount=facts["loan_amount"], to=f"dealer:{facts['dealer_id']}")
        audit.record(tx, actor=by, at=at, action="loan.disburse", target=application_id,
                     params={"amount": facts["loan_amount"], "dealer_id": facts["dealer_id"]})
    return tid


def post_repayment(ctx: Lifecycle, row: dict[str, str | None]) -> str:
    """Upsert one installment (a contract ``repayments`` row) through ingest's path."""
    clean = {k: (v if v not in ("", None) else None) for k, v in row.items()}
    try:
        record = records.to_installment(clean, ctx.pseudo)
    except RowError as exc:
        raise InvalidInput(exc.column, exc.reason) from None
    if record.warnings:  # ingest drops a bad optional value; one posted alone is refused
        raise InvalidInput(", ".join(record.warnings), "not a valid value")
    with ctx.runner.transaction() as tx:
        outcome = load.write_installments(tx, [record])
        if outcome.missing:
            raise NotFound("application", str(record.props["application_id"]))
    return record.key


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _path(status: str, dpd: int, paid_off: bool, has_installments: bool) -> list[str]:
    """The states a loan moves through to reach where its standing puts it."""
    if paid_off:
        return [S.PAID_OFF.value]
    if not has_installments:
        return []
    if dpd >= CHARGE_OFF_DPD:
        return ([] if status == S.DELINQUENT else [S.DELINQUENT.value]) + [S.CHARGED_OFF.value]
    if dpd > 0:
        return [] if status == S.DELINQUENT else [S.DELINQUENT.value]
    return [] if status == S.CURRENT else [S.CURRENT.value]


def run_servicing(ctx: Lifecycle, as_of: date, *, actor: str = "system:servicing"
                  ) -> ServicingReport:
    """Move every active loan to its stage on ``as_of``; running it twice changes nothing
    the second time."""
    at = start_of(as_of)
    loans = ctx.runner.read(LOANS, states=[s.value for s in ACTIVE_LOAN])
    report = ServicingReport(as_of=as_of, loans=len(loans))
    updates: list[dict[str, Any]] = []
    rounds: list[list[dict[str, str]]] = [[], []]
    fpds: list[str] = []
    for loan in loans:
        insts = [Installment(
            installment_no=i["installment_no"], due_date=_native(i["due_date"]),
            amount_due=float(i["amount_due"]), paid_date=_native(i.get("paid_date")),
            amount_paid=i.get("amount_paid")) for i in loan["installments"]]
        st = standing(insts, as_of, loan["term_months"])
        stage = st.stage if insts else Stage.NONE
        updates.append({"application_id": loan["application_id"], "dpd": st.dpd if insts
                        else None, "stage": stage.value, "overdue": st.overdue_amount})
        report.stages[stage.value] = report.stages.get(stage.value, 0) + 1
        current = loan["status"]
        for n, target in enumerate(_path(current, st.dpd, st.paid_off, bool(insts))):
            rounds[n].append({"application_id": loan["application_id"], "from_state": current,
                              "to_state": target,
                              "reason": f"servicing {as_of}: {st.dpd} days past due, "
                                        f"stage {stage.value}"})
            current = target
        if st.first_payment_default and not loan["fpd_flagged"]:
            fpds.append(loan["application_id"])
    with ctx.runner.transaction() as tx:
        tx.run(SET_STANDING, rows=updates, as_of=as_of)
        for moves in rounds:
            transitions.apply_many(tx, moves, actor=actor, at=at)
            for move in moves:
                report.transitions[move["to_state"]] = (
                    report.transitions.get(move["to_state"], 0) + 1)
        for app_id in fpds:
            tx.run(FLAG_FPD, application_id=app_id, at=at)
            bumped = rings_link.bump(tx, app_id, amount=RING_BUMP_FPD,
                                     reason=f"first-payment default of {app_id}", at=at)
            report.rings_bumped += len(bumped)
            for other in rings_link.other_members(tx, app_id, WARNABLE):
                tx.run(FLAG_WARNING, application_id=other, source=app_id)
                report.early_warning_cases.append(cases.open_case(
                    tx, other, cases.CaseKind.EARLY_WARNING, at=at,
                    sla_days=ctx.sla_working_days,
                    evidence={"first_payment_default": app_id,
                              "rings": [str(r["ring_id"]) for r in bumped]}))
        report.first_payment_defaults = len(fpds)
        audit.record(tx, actor=actor, at=at, action="servicing.run", target=str(as_of),
                     params={"loans": report.loans, "transitions": report.transitions,
                             "fpd": len(fpds)})
    report.early_warning_cases = sorted(set(report.early_warning_cases))
    log.info("servicing run", as_of=str(as_of), loans=report.loans,
             transitions=sum(report.transitions.values()), fpd=len(fpds))
    return report
