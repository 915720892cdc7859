"""Write a detection run back to Neo4j, and read earlier runs.

``(:DetectionRun {run_id, started_at, params_json, counts_json})``,
``(:Ring {ring_key, ring_id, run_id, score, size, reasons, reason_codes, first_seen,
last_seen, ...})-[:DETECTED_IN]->(:DetectionRun)`` and
``(:Application)-[:MEMBER_OF {run_id}]->(:Ring)``. Earlier runs are never touched, so an
investigator can see when a ring appeared and how it grew: a ring that overlaps a ring of
the previous run strongly keeps its ``ring_id`` and ``first_seen``.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from graph.runner import Query, QueryRunner
from graph.schema import Label, Rel

A, RING, RUN = Label.APPLICATION.value, Label.RING.value, Label.DETECTION_RUN.value
MEMBER_OF, DETECTED_IN = Rel.MEMBER_OF.value, Rel.DETECTED_IN.value

CREATE_RUN = Query(
    "rings.create_run",
    f"CREATE (d:{RUN} {{run_id: $run_id}}) SET d += $props",
)

COMPLETE_RUN = Query(
    "rings.complete_run",
    f"MATCH (d:{RUN} {{run_id: $run_id}}) SET d.status = 'complete'",
)

CREATE_RINGS = Query(
    "rings.create_rings",
    f"""
    UNWIND $rows AS r
    MATCH (d:{RUN} {{run_id: $run_id}})
    CREATE (g:{RING} {{ring_key: r.ring_key}}) SET g += r.props
    CREATE (g)-[:{DETECTED_IN}]->(d)
    """,
)

CREATE_MEMBERSHIPS = Query(
    "rings.create_memberships",
    f"""
    UNWIND $rows AS r
    MATCH (g:{RING} {{ring_key: r.ring_key}})
    MATCH (a:{A} {{application_id: r.app}})
    CREATE (a)-[:{MEMBER_OF} {{run_id: $run_id}}]->(g)
    """,
)

# Only complete runs count: a run stopped half-way through its write-back is ignored.
LATEST_RUN = Query(
    "rings.latest_run",
    f"MATCH (d:{RUN}) WHERE coalesce(d.status, 'complete') = 'complete' "
    f"RETURN d.run_id AS run_id, d.started_at AS started_at, "
    f"d.params_json AS params_json, d.counts_json AS counts_json "
    f"ORDER BY d.started_at DESC, d.run_id DESC LIMIT 1",
)

# From the run's node, not a scan of every Ring: each run adds its tens of thousands.
RUN_MEMBERSHIPS = Query(
    "rings.run_memberships",
    f"""
    MATCH (:{RUN} {{run_id: $run_id}})<-[:{DETECTED_IN}]-(g:{RING})<-[:{MEMBER_OF}]-(a:{A})
    RETURN g.ring_id AS ring_id, g.first_seen AS first_seen, g.score AS score,
           collect(a.application_id) AS apps
    """,
)

LIST_RUNS = Query(
    "rings.list_runs",
    f"MATCH (d:{RUN}) OPTIONAL MATCH (g:{RING})-[:{DETECTED_IN}]->(d) "
    f"RETURN d.run_id AS run_id, d.started_at AS started_at, d.status AS status, "
    f"d.params_json AS params_json, count(g) AS rings ORDER BY started_at",
)


@dataclass
class PreviousRing:
    ring_id: str
    first_seen: object
    apps: set[str]


def new_run_id(now: datetime) -> str:
    return f"rings-{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def new_ring_id(taken: set[str]) -> str:
    """A fresh ring id not in ``taken`` (which it joins): 48 random bits, checked, since a
    large run makes tens of thousands of rings."""
    while True:
        ring_id = f"R-{secrets.token_hex(6).upper()}"
        if ring_id not in taken:
            taken.add(ring_id)
            return ring_id


def latest_run(runner: QueryRunner) -> dict | None:
    """The most recent detection run (run_id, started_at, params_json), or None."""
    rows = runner.read(LATEST_RUN)
    return rows[0] if rows else None


def previous_rings(runner: QueryRunner, run_id: str) -> list[PreviousRing]:
    return [PreviousRing(r["ring_id"], r["first_seen"], set(r["apps"]))
            for r in runner.read(RUN_MEMBERSHIPS, run_id=run_id)]


def match_ring_ids(new_rings: list[list[str]], old: list[PreviousRing],
                   min_jaccard: float) -> list[PreviousRing | None]:
    """For each new ring, the earlier ring it continues (best Jaccard >= ``min_jaccard``,
    each earlier ring continued at most once), else None."""
    ring_of = {app: i for i, ring in enumerate(old) for app in ring.apps}
    candidates = []
    for n, members in enumerate(new_rings):
        for i, shared in Counter(ring_of[a] for a in members if a in ring_of).items():
            jaccard = shared / (len(members) + len(old[i].apps) - shared)
            if jaccard >= min_jaccard:
                candidates.append((jaccard, n, i))
    matched: list[PreviousRing | None] = [None] * len(new_rings)
    used: set[int] = set()
    for _, n, i in sorted(candidates, reverse=True):
        if matched[n] is None and i not in used:
            matched[n] = old[i]
            used.add(i)
    return matched


def write_run(runner: QueryRunner, run_id: str, started_at: datetime, params: dict,
              counts: dict, rings: list[dict], batch_size: int = 2000) -> None:
    """Write one run: its node, its rings (dicts with ``ring_id``, ``members`` and ring
    properties) and their memberships, in explicit transactions of ``batch_size`` rows;
    the run is marked complete last, so a write-back stopped half-way is never read."""
    runner.write(CREATE_RUN, run_id=run_id, props={
        "started_at": started_at, "status": "writing",
        "params_json": json.dumps(params, sort_keys=True),
        "counts_json": json.dumps(counts, sort_keys=True), "rings": len(rings)})
    ring_rows = [{"ring_key": f"{r['ring_id']}@{run_id}",
                  "props": {k: v for k, v in r.items() if k != "members"} | {"run_id": run_id}}
                 for r in rings]
    member_rows = [{"ring_key": f"{r['ring_id']}@{run_id}", "app": app}
                   for r in rings for app in r["members"]]
    for query, rows in ((CREATE_RINGS, ring_rows), (CREATE_MEMBERSHIPS, member_rows)):
        for lo in range(0, len(rows), batch_size):
            with runner.transaction() as tx:
                tx.run(query, rows=rows[lo:lo + batch_size], run_id=run_id)
    runner.write(COMPLETE_RUN, run_id=run_id)
