"""Score one new application against the latest run's rings, without a full re-run.

For the origination path: the application is already upserted in Neo4j. Its identifiers
are read with their degrees (hubs above the cap are not expanded, as in the batch
projection), the other applications on the small ones are weighed with the same formula
as `rings.projection`, and the rings of its strong neighbours decide: none -> no ring (or
a new candidate ring when there are enough strong neighbours), one -> it joins that
ring, several -> it bridges them.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from pydantic import BaseModel

from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, Label, Rel
from rings import writeback
from rings.config import RingConfig
from rings.projection import pair_weight
from rings.scoring import SCORE_MAX

A = Label.APPLICATION.value
_RELS = [rel.value for rel in IDENTIFIER_RELS]

_TYPES = "|".join(_RELS)

# One round trip. Degrees come from the relationship store first, so a hub (above the cap)
# is never expanded; below the cap the exact distinct-application degree is used, as in
# the batch projection.
NEIGHBOURHOOD = Query(
    "rings.incremental_neighbourhood",
    f"""
    MATCH (a:{A} {{application_id: $app}})-[r:{_TYPES}]->(n)
    WITH r, n, COUNT {{ (n)<-[:{_TYPES}]-() }} AS links
    CALL (n, links) {{
      WITH n, links WHERE links <= $cap + 1
      MATCH (n)<-[x:{_TYPES}]-(b:{A}) WHERE b.application_id <> $app
      RETURN collect([b.application_id, type(x)]) AS others, count(DISTINCT b) AS n_others
    }}
    RETURN type(r) AS rel, coalesce(n.is_mobile, false) AS mobile, links, others,
           n_others
    """,
)

RINGS_OF = Query(
    "rings.incremental_rings_of",
    f"""
    UNWIND $apps AS id
    MATCH (b:{A} {{application_id: id}})-[:{Rel.MEMBER_OF.value}]->(g:{Label.RING.value})
    WHERE g.run_id = $run_id
    RETURN DISTINCT g.ring_id AS ring_id, g.score AS score, g.size AS size,
           g.reasons AS reasons
    """,
)


class RingMatch(BaseModel):
    """How a new application relates to the existing rings."""

    application_id: str
    action: Literal["none", "linked", "new_ring", "joins", "bridges"]
    ring_ids: list[str]
    ring_score: float
    strong_neighbours: list[str]
    reasons: list[str]
    run_id: str | None


def _link_weight(rel: Rel, mobile: bool, config: RingConfig) -> float:
    if rel == Rel.EMPLOYER_PHONE and mobile:
        return config.employer_mobile_weight
    return config.weight(rel)


def neighbour_weights(runner: QueryRunner, application_id: str, config: RingConfig
                      ) -> tuple[dict[str, float], dict[str, list[str]], int]:
    """Pair weight to each neighbour, what is shared with it, and hub links not expanded."""
    weights: dict[str, float] = defaultdict(float)
    shared: dict[str, list[str]] = defaultdict(list)
    hubs = 0
    for row in runner.read(NEIGHBOURHOOD, app=application_id, cap=config.hub_cap):
        degree = row["n_others"] + 1
        if row["links"] > config.hub_cap + 1 or degree > config.hub_cap:
            hubs += 1
            continue
        w_a = _link_weight(Rel(row["rel"]), row["mobile"], config)
        for other, rel in row["others"]:
            w_b = _link_weight(Rel(rel), row["mobile"], config)
            weights[other] += pair_weight(w_a, w_b, degree, config)
            shared[other].append(f"{row['rel']}/{rel}")
    return dict(weights), dict(shared), hubs


def score_application(runner: QueryRunner, application_id: str,
                      config: RingConfig) -> RingMatch:
    """Join, bridge or start a ring for one application already in Neo4j."""
    weights, shared, hubs = neighbour_weights(runner, application_id, config)
    strong = sorted(o for o, w in weights.items() if w >= config.strong_threshold)
    latest = writeback.latest_run(runner)
    run_id = latest["run_id"] if latest else None
    rings = runner.read(RINGS_OF, apps=strong, run_id=run_id) if strong and run_id else []
    rings.sort(key=lambda r: -(r["score"] or 0.0))
    reasons = [f"strong link to {o}: shares {', '.join(sorted(set(shared[o])))} "
               f"(weight {weights[o]:.2f})" for o in strong[:5]]
    if hubs:
        reasons.append(f"{hubs} identifier(s) shared with over {config.hub_cap} applications "
                       "(weak evidence, not expanded)")
    if len(rings) >= 2:
        action = "bridges"
    elif rings:
        action = "joins"
    elif len(strong) + 1 >= config.min_ring_size:
        action = "new_ring"
    else:
        action = "linked" if strong else "none"
    for ring in rings[:3]:
        reasons.extend(f"{ring['ring_id']}: {text}" for text in (ring["reasons"] or [])[:3])
    return RingMatch(application_id=application_id, action=action,
                     ring_ids=[r["ring_id"] for r in rings],
                     ring_score=float(rings[0]["score"]) / SCORE_MAX if rings else 0.0,
                     strong_neighbours=strong, reasons=reasons, run_id=run_id)
