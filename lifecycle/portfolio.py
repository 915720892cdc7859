"""Portfolio figures for the console: funnel, tier mix, approval and fraud rates by dealer
and agent, delinquency by stage, and the same cut by ring risk."""

from __future__ import annotations

from pydantic import BaseModel, Field

from graph.runner import Query, QueryRunner
from graph.schema import Label, Rel
from lifecycle import rings_link
from lifecycle.states import LoanState
from rings.scoring import SCORE_MAX

A = Label.APPLICATION.value
FUNNEL_STATES = [LoanState.SCREENED, LoanState.APPROVED, LoanState.IN_REVIEW,
                 LoanState.DECLINED, LoanState.CONTRACTED, LoanState.DISBURSED]
LOAN_STATES = [LoanState.DISBURSED.value, LoanState.CURRENT.value,
               LoanState.DELINQUENT.value, LoanState.PAID_OFF.value,
               LoanState.CHARGED_OFF.value]

ROWS = Query(
    "lifecycle.portfolio.rows",
    f"""
    MATCH (a:{A})
    RETURN a.dealer_id AS dealer_id, a.sales_agent_id AS agent_id, a.tier AS tier,
           a.status AS status, a.label AS label, a.collection_stage AS stage,
           coalesce(a.overdue_amount, 0.0) AS overdue,
           COLLECT {{ MATCH (a)-[:{Rel.HAS_TRANSITION}]->(t:{Label.TRANSITION})
                      RETURN DISTINCT t.to_state }} AS reached,
           coalesce(reduce(m = 0.0, s IN COLLECT {{
               MATCH (a)-[:{rings_link.MEMBER_OF}]->(r:{rings_link.RING})
               RETURN r.score / {SCORE_MAX} }}
               | CASE WHEN s > m THEN s ELSE m END), 0.0) AS ring_score,
           coalesce(a.ring_score, 0.0) AS decision_ring_score
    """,
)


class Rates(BaseModel):
    key: str
    applications: int = 0
    decided: int = 0
    approved: int = 0
    fraud: int = 0
    loans: int = 0
    delinquent: int = 0

    @property
    def approval_rate(self) -> float:
        return self.approved / self.decided if self.decided else 0.0

    @property
    def fraud_rate(self) -> float:
        return self.fraud / self.applications if self.applications else 0.0

    def as_row(self) -> dict[str, object]:
        return {**self.model_dump(), "approval_rate": round(self.approval_rate, 4),
                "fraud_rate": round(self.fraud_rate, 4),
                "delinquency_rate": round(self.delinquent / self.loans, 4)
                if self.loans else 0.0}


class PortfolioFigures(BaseModel):
    funnel: dict[str, int]
    tier_mix: dict[str, int]
    by_dealer: list[dict[str, object]]
    by_agent: list[dict[str, object]]
    delinquency_by_stage: dict[str, dict[str, float]]
    by_ring_risk: list[dict[str, object]] = Field(default_factory=list)


def ring_band(score: float) -> str:
    if score <= 0:
        return "no ring"
    return "ring risk high" if score >= 0.5 else "ring risk low"


def _count(bucket: Rates, row: dict[str, object], reached: set[str]) -> None:
    bucket.applications += 1
    bucket.decided += row["tier"] is not None
    bucket.approved += LoanState.APPROVED.value in reached
    bucket.fraud += row["label"] == "fraud"
    is_loan = bool(reached & set(LOAN_STATES))
    bucket.loans += is_loan
    bucket.delinquent += is_loan and (LoanState.DELINQUENT.value in reached)


def portfolio_figures(runner: QueryRunner) -> PortfolioFigures:
    funnel = {LoanState.SUBMITTED.value: 0} | {s.value: 0 for s in FUNNEL_STATES}
    tiers: dict[str, int] = {"A": 0, "B": 0, "C": 0}
    dealers: dict[str, Rates] = {}
    agents: dict[str, Rates] = {}
    bands: dict[str, Rates] = {}
    stages: dict[str, dict[str, float]] = {}
    for row in runner.read(ROWS):
        reached = set(row["reached"]) | {row["status"]}
        funnel[LoanState.SUBMITTED.value] += 1
        for state in FUNNEL_STATES:
            funnel[state.value] += state.value in reached
        if row["tier"]:
            tiers[row["tier"]] = tiers.get(row["tier"], 0) + 1
        _count(dealers.setdefault(row["dealer_id"], Rates(key=row["dealer_id"])), row, reached)
        if row["agent_id"]:
            _count(agents.setdefault(row["agent_id"], Rates(key=row["agent_id"])), row,
                   reached)
        band = ring_band(max(row["ring_score"], row["decision_ring_score"]))
        _count(bands.setdefault(band, Rates(key=band)), row, reached)
        if row["status"] in LOAN_STATES and row["stage"]:
            cell = stages.setdefault(row["stage"], {"loans": 0, "overdue_amount": 0.0})
            cell["loans"] += 1
            cell["overdue_amount"] = round(cell["overdue_amount"] + row["overdue"], 2)

    def table(buckets: dict[str, Rates]) -> list[dict[str, object]]:
        return [b.as_row() for b in sorted(buckets.values(),
                                           key=lambda b: (-b.applications, b.key))]

    return PortfolioFigures(funnel=funnel, tier_mix=tiers, by_dealer=table(dealers),
                            by_agent=table(agents), delinquency_by_stage=stages,
                            by_ring_risk=table(bands))
