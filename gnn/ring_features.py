"""Ring features: what issue 3's ring detection says about an application, as model input.

An application's ring is, by one rule at training and at scoring time:

1. the ring it is a member of in the latest complete detection run (``MEMBER_OF``);
2. otherwise, if it was submitted after that run started (the run never saw it), the ring
   the incremental assignment (``rings.incremental.score_application``) has it join or
   bridge, the highest-scored one;
3. otherwise none (the run saw it and left it out).

Features (``RING_FEATURES``): in a ring, log size, the ring's structural score, log time
window in days, kinds of identifier shared, density. The structural score is the ring's
score without the points of its label-based reasons (known fraud, cleared as legitimate,
unpaid first installments): with them every training example would see its own label
through its ring. Measured at 20k applications (gnn/README.md): they lift every model.

An application in a scored subgraph other than the one scored (a neighbour) gets rule 1
and 3 only: an incremental assignment per neighbour would cost a round trip each, and a
neighbour submitted after the latest run is rare until the next run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from graph.runner import Query, QueryRunner
from graph.schema import Label, Rel

APP, RING, RUN = Label.APPLICATION.value, Label.RING.value, Label.DETECTION_RUN.value
MEMBER_OF, DETECTED_IN = Rel.MEMBER_OF.value, Rel.DETECTED_IN.value

RING_FEATURES: tuple[str, ...] = ("ring_member", "ring_log_size", "ring_structural_score",
                                  "ring_log_window_days", "ring_shared_kinds",
                                  "ring_density")
#: Reasons of a ring's score that count labels (``rings.scoring.score_ring``).
LABEL_REASONS = frozenset({"KNOWN_FRAUD", "FIRST_PAYMENT_DEFAULT", "CLEARED_LEGIT"})
#: Score points run to this (``rings.scoring.SCORE_MAX``).
SCORE_MAX = 100.0

#: The ring properties the features need, as a Cypher map projection of ``g``.
RING_MAP = "g {.size, .window_days, .shared_kinds, .density, .reason_codes, .reason_points}"
#: Cypher: the latest complete detection run as ``run`` (null when there is none). The
#: same condition as ``rings.writeback.LATEST_RUN``: a run stopped half-way is ignored.
LATEST_RUN_CALL = f"""
    CALL () {{
      OPTIONAL MATCH (d:{RUN}) WHERE coalesce(d.status, 'complete') = 'complete'
      RETURN d AS run ORDER BY d.started_at DESC, d.run_id DESC LIMIT 1
    }}"""


def member_ring(var: str) -> str:
    """Cypher: application ``var``'s ring in ``run`` as a map (null when none)."""
    return f"head([({var})-[:{MEMBER_OF} {{run_id: run.run_id}}]->(g:{RING}) | {RING_MAP}])"


def ring_row(ring: Mapping[str, Any] | None) -> list[float]:
    """The feature values of one ring (zeros for none)."""
    if not ring:
        return [0.0] * len(RING_FEATURES)
    points = sum(p for code, p in zip(ring.get("reason_codes") or [],
                                      ring.get("reason_points") or [], strict=False)
                 if code not in LABEL_REASONS)
    return [1.0, float(np.log1p(ring.get("size") or 0)),
            float(np.clip(points, 0.0, SCORE_MAX)) / SCORE_MAX,
            float(np.log1p(max(float(ring.get("window_days") or 0.0), 0.0))),
            float(ring.get("shared_kinds") or 0), float(ring.get("density") or 0.0)]


def after_run(var: str) -> str:
    """Cypher: was application ``var`` submitted after ``run`` started (maybe never seen
    by it)? Epoch seconds, as the training side compares them; the run's own second
    counts as after, since whole seconds cannot tell which came first (a member of the
    run keeps its ring either way)."""
    return (f"(run IS NOT NULL AND "
            f"{var}.submitted_at.epochSeconds >= run.started_at.epochSeconds)")


READ_APPLICATION_RING = Query(
    "gnn.read_application_ring",
    f"""
    {LATEST_RUN_CALL}
    MATCH (a:{APP} {{application_id: $application_id}})
    RETURN {member_ring("a")} AS ring, {after_run("a")} AS after_run
    """,
)
READ_RUN_MEMBERS = Query(
    "gnn.read_run_members",
    f"""
    {LATEST_RUN_CALL}
    WITH run WHERE run IS NOT NULL
    MATCH (run)<-[:{DETECTED_IN}]-(g:{RING})<-[:{MEMBER_OF}]-(a:{APP})
    RETURN run.run_id AS run_id, run.started_at.epochSeconds AS started,
           a.application_id AS app, {RING_MAP} AS ring
    """,
)
READ_LATEST_RUN = Query(
    "gnn.read_latest_run",
    f"""
    {LATEST_RUN_CALL}
    RETURN run.run_id AS run_id, run.started_at.epochSeconds AS started
    """,
)
READ_RING = Query(
    "gnn.read_ring",
    f"MATCH (g:{RING} {{ring_key: $ring_key}}) RETURN {RING_MAP} AS ring",
)


def joined_ring(runner: QueryRunner, match: Any) -> dict[str, Any] | None:
    """The ring an incremental assignment (``rings.incremental.RingMatch``) joins or
    bridges, its highest-scored one; None for none, a new candidate ring, or a link."""
    if match is None or match.action not in ("joins", "bridges") or not match.ring_ids:
        return None
    rows = runner.read(READ_RING, ring_key=f"{match.ring_ids[0]}@{match.run_id}")
    return rows[0]["ring"] if rows else None


def resolve_ring(runner: QueryRunner, application_id: str,
                 member: dict[str, Any] | None, submitted_after_run: bool,
                 ring_match: Any = None, ring_config: Any = None) -> dict[str, Any] | None:
    """The rule above, given what the graph says (``member``: the ring of rule 1). A
    ``ring_match`` the caller already has for this application (the decision path runs
    the incremental assignment anyway) saves running it again."""
    if member is not None or not submitted_after_run:
        return member
    if ring_match is not None and ring_match.application_id == application_id:
        return joined_ring(runner, ring_match)
    return incremental_ring(runner, application_id, ring_config)


def application_ring(runner: QueryRunner, application_id: str, ring_match: Any = None,
                     ring_config: Any = None) -> dict[str, Any] | None:
    """One application's ring by the rule above (None: no ring, or no application)."""
    rows = runner.read(READ_APPLICATION_RING, application_id=application_id)
    if not rows:
        return None
    return resolve_ring(runner, application_id, rows[0]["ring"], rows[0]["after_run"],
                        ring_match, ring_config)


def incremental_ring(runner: QueryRunner, application_id: str,
                     ring_config: Any = None) -> dict[str, Any] | None:
    """Rule 2: the ring the incremental assignment gives an application."""
    from rings.config import RingConfig
    from rings.incremental import score_application

    match = score_application(runner, application_id, ring_config or RingConfig())
    return joined_ring(runner, match)


def portfolio_ring_features(runner: QueryRunner, apps: pd.DataFrame,
                            ring_config: Any = None) -> np.ndarray:
    """``RING_FEATURES`` for every application of ``apps`` (``application_id``, ``ts``
    in epoch seconds), by the rule above; zeros everywhere when no run is stored."""
    out = np.zeros((len(apps), len(RING_FEATURES)), dtype=np.float32)
    latest = runner.read(READ_LATEST_RUN)
    if not latest or latest[0]["run_id"] is None:
        return out
    position = pd.Index(apps["application_id"].astype(str))
    members: set[int] = set()
    for row in runner.stream(READ_RUN_MEMBERS):
        i = position.get_indexer([row["app"]])[0]
        if i >= 0:
            out[i] = ring_row(row["ring"])
            members.add(int(i))
    after = np.flatnonzero(apps["ts"].to_numpy(dtype=float) >= latest[0]["started"])
    for i in after:
        if int(i) not in members:
            out[i] = ring_row(incremental_ring(runner, str(apps["application_id"].iloc[i]),
                                               ring_config))
    return out


def has_detection_run(runner: QueryRunner) -> bool:
    """Whether a complete ring detection run is stored."""
    rows = runner.read(READ_LATEST_RUN)
    return bool(rows) and rows[0]["run_id"] is not None
