"""Read a stored detection run back from Neo4j: rings, members, shared identifiers, scores.

What the exports, the reports and `evaluate-rings` work from. Personal identifiers come
back masked only (``masked`` property); non-personal ones with their normalised value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, Label, Rel
from rings import writeback
from rings.read import fpd_cutoff

A, RING = Label.APPLICATION.value, Label.RING.value
MEMBER_OF = Rel.MEMBER_OF.value
_TYPES = "|".join(rel.value for rel in IDENTIFIER_RELS)

RINGS = Query(
    "rings.export_rings",
    f"MATCH (g:{RING} {{run_id: $run_id}}) WHERE $ring_id IS NULL OR g.ring_id = $ring_id "
    f"RETURN properties(g) AS props ORDER BY g.score DESC, g.size DESC",
)

MEMBERS = Query(
    "rings.export_members",
    f"""
    MATCH (g:{RING} {{run_id: $run_id}})<-[:{MEMBER_OF}]-(a:{A})
    WHERE $ring_id IS NULL OR g.ring_id = $ring_id
    OPTIONAL MATCH (a)-[:{Rel.HAS_INSTALLMENT.value}]->(i:{Label.INSTALLMENT.value})
      WHERE i.installment_no = 1
    RETURN g.ring_id AS ring_id, a.application_id AS application_id,
           toString(a.submitted_at) AS submitted_at, a.dealer_id AS dealer_id,
           a.sales_agent_id AS sales_agent_id, a.product AS product,
           a.applicant_name_masked AS applicant, a.loan_amount AS loan_amount,
           a.down_payment AS down_payment, a.vehicle_price AS vehicle_price,
           a.vehicle_model AS vehicle_model, a.status AS status, a.label AS label,
           a.label_source AS label_source, toString(i.due_date) AS first_due,
           CASE WHEN i IS NULL OR (i.paid_date IS NULL AND
                     ($cutoff IS NULL OR i.due_date > $cutoff)) THEN null
                ELSE i.paid_date IS NULL END AS first_unpaid
    ORDER BY ring_id, submitted_at
    """,
)

# Grouped on the server so only identifiers two members share come back; the degree is
# read from the relationship store (typed, no expansion), so hubs cost nothing.
IDENTIFIERS = Query(
    "rings.export_identifiers",
    f"""
    MATCH (g:{RING} {{run_id: $run_id}})<-[:{MEMBER_OF}]-(a:{A})-[r:{_TYPES}]->(n)
    WHERE $ring_id IS NULL OR g.ring_id = $ring_id
    WITH g, n, collect([a.application_id, type(r)]) AS holders
    WHERE size(holders) >= 2
    UNWIND holders AS holder
    RETURN g.ring_id AS ring_id, holder[0] AS application_id, holder[1] AS rel,
           labels(n)[0] AS kind, n.key AS key, coalesce(n.masked, n.value, '') AS shown,
           COUNT {{ (n)<-[:{_TYPES}]-() }} AS degree
    """,
)

APPLICATION_SCORES = Query(
    "rings.export_scores",
    f"""
    MATCH (a:{A})
    OPTIONAL MATCH (a)-[:{MEMBER_OF} {{run_id: $run_id}}]->(g:{RING})
    RETURN a.application_id AS application_id, g.ring_id AS ring_id,
           g.score AS ring_score, g.size AS ring_size, g.reason_codes AS reason_codes,
           g.reasons AS reasons, a['gnn_score'] AS gnn_score,
           a['gnn_model_version'] AS gnn_model_version
    ORDER BY application_id
    """,
)

PORTFOLIO_CONCENTRATION = Query(
    "rings.portfolio_concentration",
    f"""
    MATCH (a:{A}) WHERE a.dealer_id IN $dealers OR a.sales_agent_id IN $agents
    RETURN a.dealer_id AS dealer_id, a.sales_agent_id AS sales_agent_id, count(*) AS n,
           sum(CASE WHEN a.label = 'fraud' THEN 1 ELSE 0 END) AS fraud
    """,
)


BASE_RATES = Query(
    "rings.base_rates",
    f"""
    MATCH (a:{A})
    OPTIONAL MATCH (a)-[:{Rel.HAS_INSTALLMENT.value}]->(i:{Label.INSTALLMENT.value})
      WHERE i.installment_no = 1 AND (i.paid_date IS NOT NULL OR i.due_date <= $cutoff)
    RETURN count(a) AS applications,
           sum(CASE WHEN a.label = 'fraud' THEN 1 ELSE 0 END) AS fraud,
           count(i) AS due, sum(CASE WHEN i.paid_date IS NULL THEN 1 ELSE 0 END) AS unpaid
    """,
)


class NoDetectionRun(LookupError):
    """No detection run (or not the one asked for) is stored."""


@dataclass
class RunData:
    """One stored run, as tables."""

    run: dict
    rings: pd.DataFrame
    members: pd.DataFrame
    identifiers: pd.DataFrame  # only identifiers shared by 2+ members of a ring
    extra: dict = field(default_factory=dict)


def resolve_run(runner: QueryRunner, run_id: str | None) -> dict:
    """The run asked for, or the latest; raises NoDetectionRun."""
    latest = writeback.latest_run(runner)
    if run_id is None:
        if latest is None:
            raise NoDetectionRun("no detection run stored yet; run `fraudgraph detect` first")
        return latest
    runs = [r for r in runner.read(writeback.LIST_RUNS) if r["run_id"] == run_id]
    if not runs:
        raise NoDetectionRun(f"detection run {run_id!r} not found")
    return runs[0]


def load_run(runner: QueryRunner, run_id: str | None = None,
             ring_id: str | None = None, grace_days: int = 15) -> RunData:
    """Rings, members and shared identifiers of a run (all rings, or one)."""
    run = resolve_run(runner, run_id)
    rid = run["run_id"]
    cutoff = fpd_cutoff(runner, grace_days)
    rings = pd.DataFrame([r["props"] for r in runner.read(RINGS, run_id=rid,
                                                          ring_id=ring_id)])
    members = pd.DataFrame(runner.read(MEMBERS, run_id=rid, ring_id=ring_id, cutoff=cutoff))
    idents = pd.DataFrame(runner.read(IDENTIFIERS, run_id=rid, ring_id=ring_id),
                          columns=["ring_id", "application_id", "rel", "kind", "key",
                                   "shown", "degree"])
    counts = idents.groupby(["ring_id", "key"])["application_id"].transform("nunique")
    idents = idents[counts >= 2].reset_index(drop=True)
    base = runner.read(BASE_RATES, cutoff=cutoff)[0] if cutoff else {}
    return RunData(run, rings, members, idents, {"base_rates": base})


def application_scores(runner: QueryRunner, run_id: str | None = None) -> pd.DataFrame:
    """One row per application: its ring in the run, the ring's score and reasons, and the
    GNN's ``gnn_score`` and ``gnn_model_version`` (written by `fraudgraph score-portfolio`;
    empty before)."""
    run = resolve_run(runner, run_id)
    rows = runner.read(APPLICATION_SCORES, run_id=run["run_id"])
    frame = pd.DataFrame(rows, columns=["application_id", "ring_id", "ring_score",
                                        "ring_size", "reason_codes", "reasons", "gnn_score",
                                        "gnn_model_version"])
    for column in ("reason_codes", "reasons"):
        frame[column] = frame[column].map(lambda v: "; ".join(v) if v else "")
    frame.insert(1, "run_id", run["run_id"])
    return frame


def memberships(runner: QueryRunner, run_id: str | None = None
                ) -> tuple[dict, dict[str, list[str]], dict[str, float]]:
    """The run, ring id -> members, ring id -> score."""
    run = resolve_run(runner, run_id)
    rows = runner.read(writeback.RUN_MEMBERSHIPS, run_id=run["run_id"])
    return (run, {r["ring_id"]: sorted(r["apps"]) for r in rows},
            {r["ring_id"]: float(r["score"]) for r in rows})
