"""Rings for investigators: one page of a detection run's rings with filters, and one
ring whole (members, shared identifiers, timeline, how it grew across runs, its graph).

What leaves here is masked: applicant names and personal identifiers only in their
masked form, never a token or a ciphertext. The API serves these (``/v1/rings``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from graph.explore import node_json
from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, Label, Rel
from rings import runs
from rings.read import fpd_cutoff

A, RING, RUN = Label.APPLICATION.value, Label.RING.value, Label.DETECTION_RUN.value
MEMBER_OF, DETECTED_IN = Rel.MEMBER_OF.value, Rel.DETECTED_IN.value
_TYPES = "|".join(rel.value for rel in IDENTIFIER_RELS)
RingSort = Literal["score", "size", "last_seen"]
#: A ring nobody has dispositioned yet; the lifecycle sets ``confirmed_fraud``.
CANDIDATE = "candidate"

# Sorting keys cannot be parameters: one CASE per key, only the chosen one is non-null.
LIST_RINGS = Query(
    "rings.browse.list",
    f"""
    MATCH (g:{RING} {{run_id: $run_id}})
    WHERE ($min_score IS NULL OR g.score >= $min_score)
      AND ($max_score IS NULL OR g.score <= $max_score)
      AND ($min_size IS NULL OR g.size >= $min_size)
      AND ($status IS NULL OR coalesce(g.status, '{CANDIDATE}') = $status)
      AND ($dealer_id IS NULL OR EXISTS {{
            MATCH (g)<-[:{MEMBER_OF}]-(:{A} {{dealer_id: $dealer_id}}) }})
    WITH g ORDER BY CASE WHEN $sort = 'size' THEN g.size END DESC,
                    CASE WHEN $sort = 'last_seen' THEN g.last_seen END DESC,
                    g.score DESC, g.size DESC, g.ring_id
    WITH collect(g) AS rings
    RETURN size(rings) AS total,
           [g IN rings[$skip..$skip + $limit] | properties(g)] AS page
    """,
)

GET_RING = Query(
    "rings.browse.ring",
    f"MATCH (g:{RING} {{ring_key: $ring_key}}) RETURN properties(g) AS props",
)

HISTORY = Query(
    "rings.browse.history",
    f"""
    MATCH (g:{RING} {{ring_id: $ring_id}})-[:{DETECTED_IN}]->(d:{RUN})
    WHERE coalesce(d.status, 'complete') = 'complete'
    RETURN d.run_id AS run_id, d.started_at AS detected_at, g.size AS size,
           g.score AS score
    ORDER BY detected_at
    """,
)

MEMBERS = Query(
    "rings.browse.members",
    f"""
    MATCH (g:{RING} {{ring_key: $ring_key}})<-[:{MEMBER_OF}]-(a:{A})
    RETURN a.application_id AS application_id, a.applicant_name_masked AS applicant,
           a.dealer_id AS dealer_id, a.sales_agent_id AS agent_id,
           a.submitted_at AS submitted_at, a.status AS status, a.label AS label,
           a.labeled_at AS labeled_at, a.tier AS tier, a.decided_at AS decided_at,
           a['gnn_score'] AS score,
           COLLECT {{ MATCH (a)-[:{Rel.HAS_INSTALLMENT.value}]->(i)
                      WHERE i.installment_no = 1 AND i.paid_date IS NULL
                        AND i.due_date <= $cutoff
                      RETURN i.due_date }} AS unpaid_first
    ORDER BY submitted_at, application_id
    """,
)

# The identifiers two or more members share, with the masked form only.
SHARED = Query(
    "rings.browse.shared",
    f"""
    MATCH (g:{RING} {{ring_key: $ring_key}})<-[:{MEMBER_OF}]-(a:{A})-[r:{_TYPES}]->(n)
    WITH n, collect(DISTINCT a.application_id) AS apps, collect([a.application_id, type(r)])
         AS links
    WHERE size(apps) >= 2
    RETURN labels(n)[0] AS label, properties(n) AS props, apps, links,
           COUNT {{ (n)<-[:{_TYPES}]-() }} AS degree
    ORDER BY size(apps) DESC, label
    """,
)


class RingReason(BaseModel):
    code: str | None
    text: str


class RingSummary(BaseModel):
    ring_id: str
    run_id: str
    score: float
    size: int
    status: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    dealers: int | None = None
    agents: int | None = None
    persons: int | None = None
    reasons: list[RingReason]


class RingPage(BaseModel):
    run_id: str | None
    items: list[RingSummary]
    total: int
    page: int
    size: int


class RingMember(BaseModel):
    application_id: str
    applicant: str | None
    dealer_id: str | None
    agent_id: str | None
    submitted_at: datetime | None
    status: str | None
    label: str | None
    tier: str | None
    score: float | None


class SharedIdentifier(BaseModel):
    kind: str
    display: str
    node: str  # 'Label:key', for the graph views and the audited reveal
    degree: int  # applications in the whole portfolio that carry it
    applications: list[str]


class TimelineEvent(BaseModel):
    date: datetime | date
    application_id: str
    event: str


class RingRun(BaseModel):
    run_id: str
    detected_at: datetime | None
    size: int
    score: float


class RingDetail(RingSummary):
    members: list[RingMember]
    shared_identifiers: list[SharedIdentifier]
    timeline: list[TimelineEvent]
    history: list[RingRun]
    graph: dict[str, Any]  # GraphView: nodes and edges as /v1/graph/neighbourhood sends


class RingNotFound(LookupError):
    """No ring with that id in the run asked for."""


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def summary(props: dict[str, Any]) -> RingSummary:
    """A ring node's properties as the summary the API lists."""
    codes = list(props.get("reason_codes") or [])
    texts = list(props.get("reasons") or [])
    # The lifecycle appends reasons without codes (a member confirmed as fraud...).
    reasons = [RingReason(code=codes[i] if i < len(codes) else None, text=str(text))
               for i, text in enumerate(texts)]
    return RingSummary(
        ring_id=props["ring_id"], run_id=props["run_id"], score=float(props.get("score") or 0),
        size=int(props.get("size") or 0), status=props.get("status") or CANDIDATE,
        first_seen=_native(props.get("first_seen")), last_seen=_native(props.get("last_seen")),
        dealers=props.get("dealers"), agents=props.get("agents"),
        persons=props.get("persons"), reasons=reasons)


def list_rings(runner: QueryRunner, *, run_id: str | None = None, page: int = 1,
               size: int = 50, min_score: float | None = None,
               max_score: float | None = None, min_size: int | None = None,
               status: str | None = None, dealer_id: str | None = None,
               sort: RingSort = "score") -> RingPage:
    """One page of a run's rings (the latest complete run unless ``run_id``), best first."""
    try:
        run = runs.resolve_run(runner, run_id)
    except runs.NoDetectionRun:
        if run_id is not None:
            raise
        return RingPage(run_id=None, items=[], total=0, page=page, size=size)
    row = runner.read(LIST_RINGS, run_id=run["run_id"], min_score=min_score,
                      max_score=max_score, min_size=min_size, status=status,
                      dealer_id=dealer_id, sort=sort, skip=(page - 1) * size, limit=size)[0]
    return RingPage(run_id=run["run_id"], items=[summary(p) for p in row["page"]],
                    total=row["total"], page=page, size=size)


def ring_key(runner: QueryRunner, ring_id: str, run_id: str | None = None) -> str:
    """The node key of a ring in a run (the latest complete run by default)."""
    run = runs.resolve_run(runner, run_id)
    key = f"{ring_id}@{run['run_id']}"
    if not runner.read(GET_RING, ring_key=key):
        raise RingNotFound(f"ring {ring_id!r} is not in detection run {run['run_id']!r}")
    return key


def ring_detail(runner: QueryRunner, ring_id: str, run_id: str | None = None,
                grace_days: int = 15) -> RingDetail:
    """Everything an investigator reads about one ring; raises ``RingNotFound``.

    A first installment counts as unpaid when it fell due ``grace_days`` before the last
    repayment the graph knows of (the data's own "today")."""
    key = ring_key(runner, ring_id, run_id)
    props = runner.read(GET_RING, ring_key=key)[0]["props"]
    members = runner.read(MEMBERS, ring_key=key, cutoff=fpd_cutoff(runner, grace_days))
    shared = runner.read(SHARED, ring_key=key)
    history = [RingRun(run_id=r["run_id"], detected_at=_native(r["detected_at"]),
                       size=int(r["size"] or 0), score=float(r["score"] or 0))
               for r in runner.read(HISTORY, ring_id=ring_id)]
    identifiers = []
    for row in shared:
        node = node_json(row["label"], row["props"])
        identifiers.append(SharedIdentifier(
            kind=row["label"], display=node["caption"], node=node["id"],
            degree=int(row["degree"]), applications=sorted(row["apps"])))
    return RingDetail(
        **summary(props).model_dump(),
        members=[RingMember(**{k: _native(v) for k, v in m.items()
                               if k in RingMember.model_fields}) for m in members],
        shared_identifiers=identifiers,
        timeline=_timeline(members),
        history=history,
        graph=_graph(members, shared))


def _timeline(members: list[dict[str, Any]]) -> list[TimelineEvent]:
    events: list[TimelineEvent] = []
    for m in members:
        app = m["application_id"]
        if m["submitted_at"] is not None:
            events.append(TimelineEvent(date=_native(m["submitted_at"]), application_id=app,
                                        event=f"submitted at dealer {m['dealer_id']}"))
        if m["decided_at"] is not None:
            events.append(TimelineEvent(date=_native(m["decided_at"]), application_id=app,
                                        event=f"decided: tier {m['tier']}"))
        for due in m["unpaid_first"]:
            events.append(TimelineEvent(date=_native(due), application_id=app,
                                        event="first installment unpaid"))
        if m["labeled_at"] is not None and m["label"]:
            events.append(TimelineEvent(date=_native(m["labeled_at"]), application_id=app,
                                        event=f"labelled {m['label']}"))
    # Dates and datetimes side by side: order by their ISO text, which sorts by time.
    return sorted(events, key=lambda e: (e.date.isoformat(), e.application_id))


def _graph(members: list[dict[str, Any]], shared: list[dict[str, Any]]) -> dict[str, Any]:
    """Members and the identifiers they share, in the shape of the neighbourhood view."""
    nodes: dict[str, dict[str, Any]] = {}
    for m in members:
        props = {k: _native(v) for k, v in m.items() if k not in ("unpaid_first",)}
        props = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in props.items()}
        node = node_json(A, props)
        nodes[node["id"]] = node
    edges: list[dict[str, str]] = []
    for row in shared:
        node = node_json(row["label"], row["props"])
        nodes[node["id"]] = node
        for app, rel in sorted({(a, r) for a, r in row["links"]}):
            edges.append({"source": f"{A}:{app}", "target": node["id"], "type": rel})
    return {"nodes": list(nodes.values()), "edges": edges, "truncated": False}
