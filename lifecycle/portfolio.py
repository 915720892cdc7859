"""Portfolio figures for the console: funnel, tier mix, approval and fraud rates by dealer
and agent, delinquency by stage, and the same cut by ring risk; and loans by collection
stage crossed with ring-risk band (``stage_by_ring_risk``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from graph.runner import Query, QueryRunner
from graph.schema import Label, Rel
from lifecycle import rings_link
from lifecycle.collection import Stage
from lifecycle.states import LoanState
from rings.scoring import SCORE_MAX

A = Label.APPLICATION.value
FUNNEL_STATES = [LoanState.SCREENED, LoanState.APPROVED, LoanState.IN_REVIEW,
                 LoanState.DECLINED, LoanState.CONTRACTED, LoanState.DISBURSED]
LOAN_STATES = [LoanState.DISBURSED.value, LoanState.CURRENT.value,
               LoanState.DELINQUENT.value, LoanState.PAID_OFF.value,
               LoanState.CHARGED_OFF.value]
#: Ring-risk bands from none to high: the order of the crossed table's rows.
RING_BANDS = ("no ring", "ring risk low", "ring risk high")
#: The collection ladder (lifecycle.collection): reminder -3..0 days past due, m1 1-30
#: (phone), m2 31-60 (home visit), m3 61-90 (lawyer's letter), severe 90+ (litigation and
#: asset disposal). A loan in none of them is counted in its band's loans only.
LADDER = (Stage.REMINDER.value, Stage.M1.value, Stage.M2.value, Stage.M3.value,
          Stage.SEVERE.value)

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


class StageBand(BaseModel):
    """Loans of one ring-risk band in one collection stage."""

    band: str
    stage: str
    loans: int = 0
    overdue_amount: float = 0.0
    #: The band's loans (every collection stage, and none): the share's denominator.
    band_loans: int = 0
    #: loans / band_loans, 0 when the band has no loan.
    share: float = 0.0


class PortfolioFigures(BaseModel):
    funnel: dict[str, int]
    tier_mix: dict[str, int]
    by_dealer: list[dict[str, object]]
    by_agent: list[dict[str, object]]
    delinquency_by_stage: dict[str, dict[str, float]]
    by_ring_risk: list[dict[str, object]] = Field(default_factory=list)
    #: Every band that has a loan, crossed with every stage of the ladder (zeros kept, so
    #: the console draws one bar per stage and band).
    stage_by_ring_risk: list[StageBand] = Field(default_factory=list)


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


def _cross(loans: list[tuple[str, str | None, float]]) -> list[StageBand]:
    """(band, stage, overdue) per loan -> the band x stage table, in ladder order."""
    cells: dict[tuple[str, str], StageBand] = {}
    band_loans: dict[str, int] = {}
    for band, stage, overdue in loans:
        band_loans[band] = band_loans.get(band, 0) + 1
        if stage in LADDER:
            cell = cells.setdefault((band, stage), StageBand(band=band, stage=stage))
            cell.loans += 1
            cell.overdue_amount = round(cell.overdue_amount + overdue, 2)
    table = []
    for band in sorted(band_loans, key=RING_BANDS.index):
        for stage in LADDER:
            cell = cells.get((band, stage)) or StageBand(band=band, stage=stage)
            cell.band_loans = band_loans[band]
            cell.share = round(cell.loans / cell.band_loans, 4)
            table.append(cell)
    return table


def _in_ladder_order(stages: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Current loans ("none") first, then the ladder from reminder to severe."""
    order = [s for s in (Stage.NONE.value, *LADDER) if s in stages]
    return {s: stages[s] for s in order + sorted(set(stages) - set(order))}


def portfolio_figures(runner: QueryRunner) -> PortfolioFigures:
    funnel = {LoanState.SUBMITTED.value: 0} | {s.value: 0 for s in FUNNEL_STATES}
    tiers: dict[str, int] = {"A": 0, "B": 0, "C": 0}
    dealers: dict[str, Rates] = {}
    agents: dict[str, Rates] = {}
    bands: dict[str, Rates] = {}
    stages: dict[str, dict[str, float]] = {}
    loans: list[tuple[str, str | None, float]] = []
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
        if row["status"] in LOAN_STATES:
            loans.append((band, row["stage"], row["overdue"]))
        if row["status"] in LOAN_STATES and row["stage"]:
            cell = stages.setdefault(row["stage"], {"loans": 0, "overdue_amount": 0.0})
            cell["loans"] += 1
            cell["overdue_amount"] = round(cell["overdue_amount"] + row["overdue"], 2)

    def table(buckets: dict[str, Rates]) -> list[dict[str, object]]:
        return [b.as_row() for b in sorted(buckets.values(),
                                           key=lambda b: (-b.applications, b.key))]

    return PortfolioFigures(funnel=funnel, tier_mix=tiers, by_dealer=table(dealers),
                            by_agent=table(agents),
                            delinquency_by_stage=_in_ladder_order(stages),
                            by_ring_risk=table(bands), stage_by_ring_risk=_cross(loans))
