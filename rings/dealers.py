"""The dealers league table: where ring members, fraud labels and first-payment defaults
concentrate, per dealer and per sales agent, against the latest detection run.

A dealer's risk score (0-100) is ``100 * (0.5 ring-member share + 0.3 fraud-label rate +
0.2 first-payment-default rate)``, each rate taken over the dealer's applications plus
``PRIOR`` pseudo-applications with no event, so that a dealer with three applications, one
of them in a ring, does not top a table of dealers with thousands.

The pseudo-applications carry no event (not the portfolio's own rate): a prior at the
portfolio rate gave every dealer that rate's share of the score whatever its own record,
so a dealer with no ring member, fraud label or first-payment default scored about 21 on a
small portfolio with one ring. With this prior the score is the dealer's own evidence,
damped by its volume, and a dealer with none scores 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel

from graph.runner import Query, QueryRunner
from graph.schema import Label, Rel
from rings import runs
from rings.read import fpd_cutoff

A = Label.APPLICATION.value
DealerSort = Literal["risk", "applications", "ring_members"]
PRIOR = 50.0
WEIGHTS = {"ring": 0.5, "fraud": 0.3, "fpd": 0.2}

# The counts the table is made of, per (dealer, agent), in three reads that each touch
# only what they count: every application's own properties once (no expansion), the
# ring members of the run, and the unpaid first installments.
VOLUMES = Query(
    "rings.dealers.volumes",
    f"""
    MATCH (a:{A}) WHERE a.dealer_id IS NOT NULL
    RETURN a.dealer_id AS dealer_id, a.sales_agent_id AS agent_id, count(*) AS applications,
           sum(CASE WHEN a.label = 'fraud' THEN 1 ELSE 0 END) AS fraud_labels
    """,
)
RING_MEMBERS = Query(
    "rings.dealers.ring_members",
    f"""
    MATCH (g:{Label.RING.value} {{run_id: $run_id}})<-[:{Rel.MEMBER_OF.value}]-(a:{A})
    RETURN a.dealer_id AS dealer_id, a.sales_agent_id AS agent_id,
           count(DISTINCT a) AS ring_members, collect(DISTINCT g.ring_id) AS ring_ids
    """,
)
FIRST_DEFAULTS = Query(
    "rings.dealers.first_defaults",
    f"""
    MATCH (a:{A})-[:{Rel.HAS_INSTALLMENT.value}]->(i:{Label.INSTALLMENT.value})
    WHERE i.installment_no = 1 AND i.paid_date IS NULL AND i.due_date <= $cutoff
    RETURN a.dealer_id AS dealer_id, a.sales_agent_id AS agent_id,
           count(DISTINCT a) AS first_payment_defaults
    """,
)

NAMES = Query(
    "rings.dealers.names",
    f"MATCH (d:{Label.DEALER.value}) RETURN d.dealer_id AS dealer_id, d.name AS name",
)


class AgentRow(BaseModel):
    agent_id: str
    applications: int
    ring_members: int


class DealerRow(BaseModel):
    dealer_id: str
    name: str | None
    applications: int
    ring_members: int
    rings: int
    ring_member_share: float
    fraud_labels: int
    first_payment_defaults: int
    risk_score: float
    agents: list[AgentRow]
    ring_ids: list[str]


class DealerPage(BaseModel):
    run_id: str | None
    items: list[DealerRow]
    total: int
    page: int
    size: int


def _damped(count: int, n: int) -> float:
    """``count`` events over ``n`` applications and ``PRIOR`` event-free pseudo-ones."""
    return count / (n + PRIOR)


def risk_score(ring_members: int, fraud_labels: int, first_payment_defaults: int,
               applications: int) -> float:
    """The league's risk score, 0-100; 0 exactly when there is no risk evidence."""
    return 100 * (WEIGHTS["ring"] * _damped(ring_members, applications)
                  + WEIGHTS["fraud"] * _damped(fraud_labels, applications)
                  + WEIGHTS["fpd"] * _damped(first_payment_defaults, applications))


def league(runner: QueryRunner, *, sort: DealerSort = "risk", page: int = 1, size: int = 50,
           grace_days: int = 15, run_id: str | None = None,
           cache: Callable[[Hashable, Callable[[], list[DealerRow]]], list[DealerRow]]
           | None = None) -> DealerPage:
    """One page of the dealers, riskiest first (or by volume, or by ring members).

    The table reads every application, so a caller may keep it: ``cache(key, compute)``
    returns a kept table for ``key`` (the detection run and grace days) or computes it."""
    try:
        run: dict[str, Any] | None = runs.resolve_run(runner, run_id)
    except runs.NoDetectionRun:
        if run_id is not None:
            raise
        run = None
    resolved = run["run_id"] if run else None

    def compute() -> list[DealerRow]:
        return table(runner, resolved, grace_days)

    rows = cache(("dealers", resolved, grace_days), compute) if cache else compute()
    key = {"risk": lambda r: (-r.risk_score, -r.ring_members, r.dealer_id),
           "applications": lambda r: (-r.applications, r.dealer_id),
           "ring_members": lambda r: (-r.ring_members, -r.risk_score, r.dealer_id)}[sort]
    ordered = sorted(rows, key=key)
    start = (page - 1) * size
    return DealerPage(run_id=resolved, items=ordered[start:start + size], total=len(ordered),
                      page=page, size=size)


def table(runner: QueryRunner, run_id: str | None, grace_days: int) -> list[DealerRow]:
    """Every dealer's row of the league, against detection run ``run_id`` (None: no run)."""
    cutoff: date | None = fpd_cutoff(runner, grace_days)
    counts: dict[tuple[str, str | None], dict[str, Any]] = defaultdict(lambda: {
        "applications": 0, "fraud_labels": 0, "ring_members": 0, "first_payment_defaults": 0,
        "ring_ids": []})
    for row in runner.read(VOLUMES):
        counts[(row["dealer_id"], row["agent_id"])].update(row)
    if run_id is not None:
        for row in runner.read(RING_MEMBERS, run_id=run_id):
            counts[(row["dealer_id"], row["agent_id"])].update(row)
    if cutoff is not None:
        for row in runner.read(FIRST_DEFAULTS, cutoff=cutoff):
            counts[(row["dealer_id"], row["agent_id"])].update(row)
    names = {r["dealer_id"]: r["name"] for r in runner.read(NAMES)}
    dealers: dict[str, dict[str, Any]] = defaultdict(lambda: {
        "applications": 0, "ring_members": 0, "fraud_labels": 0,
        "first_payment_defaults": 0, "ring_ids": set(), "agents": []})
    for (dealer_id, agent_id), row in counts.items():
        d = dealers[dealer_id]
        for key in ("applications", "ring_members", "fraud_labels", "first_payment_defaults"):
            d[key] += row[key]
        d["ring_ids"].update(row["ring_ids"])
        if agent_id:
            d["agents"].append(AgentRow(agent_id=agent_id, applications=row["applications"],
                                        ring_members=row["ring_members"]))
    rows = []
    for dealer_id, d in dealers.items():
        n = d["applications"]
        risk = risk_score(d["ring_members"], d["fraud_labels"], d["first_payment_defaults"], n)
        rows.append(DealerRow(
            dealer_id=dealer_id, name=names.get(dealer_id), applications=n,
            ring_members=d["ring_members"], rings=len(d["ring_ids"]),
            ring_member_share=round(d["ring_members"] / n, 4) if n else 0.0,
            fraud_labels=d["fraud_labels"],
            first_payment_defaults=d["first_payment_defaults"], risk_score=round(risk, 2),
            agents=sorted(d["agents"], key=lambda a: (-a.ring_members, -a.applications,
                                                      a.agent_id)),
            ring_ids=sorted(d["ring_ids"])))
    return rows
