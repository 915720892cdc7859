"""The lifecycle's view of rings found by issue 3: ``(a:Application)-[:MEMBER_OF]->(r:Ring)``.

Ring label and relationship come from ``graph.schema`` once the rings package declares them
(``Label.RING``, ``Rel.MEMBER_OF``); until then the same names are used here, so these
queries simply match nothing when no ring exists.
"""

from __future__ import annotations

from datetime import datetime

from graph.runner import Query, Transaction
from graph.schema import Label, Rel
from rings.scoring import SCORE_MAX

RING = str(getattr(Label, "RING", "Ring"))
MEMBER_OF = str(getattr(Rel, "MEMBER_OF", "MEMBER_OF"))
A = Label.APPLICATION.value

BUMP = Query(
    "lifecycle.rings.bump",
    f"""
    MATCH (:{A} {{application_id: $application_id}})-[:{MEMBER_OF}]->(r:{RING})
    SET r.score = CASE WHEN coalesce(r.score, 0.0) + $bump > $max THEN $max
                       ELSE coalesce(r.score, 0.0) + $bump END,
        r.reasons = coalesce(r.reasons, []) + [$reason], r.score_updated_at = $at
    RETURN coalesce(r.ring_id, elementId(r)) AS ring_id, r.score AS score
    """,
)

OTHER_MEMBERS = Query(
    "lifecycle.rings.other_members",
    f"""
    MATCH (a:{A} {{application_id: $application_id}})-[:{MEMBER_OF}]->(:{RING})
          <-[:{MEMBER_OF}]-(o:{A})
    WHERE o <> a AND o.status IN $states
    RETURN DISTINCT o.application_id AS application_id
    """,
)

RING_MEMBERS = Query(
    "lifecycle.rings.members",
    f"MATCH (r:{RING}) WHERE coalesce(r.ring_id, elementId(r)) = $ring_id "
    f"OPTIONAL MATCH (o:{A})-[:{MEMBER_OF}]->(r) "
    "RETURN r.status AS status, collect(o.application_id) AS members",
)

CONFIRM = Query(
    "lifecycle.rings.confirm",
    f"MATCH (r:{RING}) WHERE coalesce(r.ring_id, elementId(r)) = $ring_id "
    "SET r.status = 'confirmed_fraud', r.confirmed_by = $by, r.confirmed_approved_by = "
    f"$approved_by, r.confirmed_at = $at, r.score = {SCORE_MAX} RETURN count(r) AS n",
)


def bump(tx: Transaction, application_id: str, *, amount: float, reason: str,
         at: datetime) -> list[dict[str, object]]:
    """Raise the score of every ring the application belongs to; returns ids and scores."""
    # ``amount`` is a share of the scale, like every score the lifecycle reads.
    return [{**row, "score": row["score"] / SCORE_MAX} for row in tx.run(
        BUMP, application_id=application_id, bump=amount * SCORE_MAX, max=SCORE_MAX,
        reason=reason, at=at)]


def other_members(tx: Transaction, application_id: str, states: list[str]) -> list[str]:
    return [r["application_id"] for r in
            tx.run(OTHER_MEMBERS, application_id=application_id, states=states)]
