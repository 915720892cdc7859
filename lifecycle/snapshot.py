"""Everything a decision reads, in one statement: rule facts, the active policy, the
application's decision counter and what the ring scorer needs.

A decision used to read five times (policy, rule facts, the ring scorer's neighbourhood,
latest detection run and rings of the strong neighbours), each a round trip that costs
Neo4j a millisecond or two of CPU even when it finds nothing. ``read_snapshot`` makes it
one. The ring scorer keeps calling ``rings.incremental.score_application`` unchanged: it
gets a :class:`SnapshotReader` as its runner, which answers the three ring queries from
the snapshot and sends anything else (or a ring query whose text no longer matches what
the snapshot mirrors) to the real runner, so a change in ``rings/`` costs speed, never
correctness.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graph.runner import Query, QueryRunner, Row, Transaction
from graph.schema import IDENTIFIER_RELS, Label, Rel
from lifecycle.errors import NotFound
from lifecycle.rules import FINANCED_STATES, RULE_FACTS_TEXT, RuleFacts

A, RUN, RING = Label.APPLICATION.value, Label.DETECTION_RUN.value, Label.RING.value
_TYPES = "|".join(rel.value for rel in IDENTIFIER_RELS)
_LATEST_RUN = (f"MATCH (d:{RUN}) WHERE coalesce(d.status, 'complete') = 'complete' "
               "RETURN d {.run_id, .started_at, .params_json, .counts_json} AS run "
               "ORDER BY d.started_at DESC, d.run_id DESC LIMIT 1")
_LATEST_RUN_ID = (f"MATCH (d:{RUN}) WHERE coalesce(d.status, 'complete') = 'complete' "
                  "RETURN d.run_id AS run_id ORDER BY d.started_at DESC, d.run_id DESC LIMIT 1")

# Appended to the rule-facts RETURN, so the rules stay defined once in lifecycle.rules.
# ring_links mirrors rings.incremental.NEIGHBOURHOOD row for row (hubs above the cap are
# not expanded); ring_members is every neighbour's ring in the latest run, from which
# rings.incremental.RINGS_OF is answered for whichever neighbours turn out strong.
_EXTRA = f""",
  a.status AS status, coalesce(a.decision_count, 0) AS decision_count,
  COLLECT {{ MATCH (p:{Label.POLICY}) WHERE p.active RETURN p.body LIMIT 1 }} AS policy_bodies,
  COLLECT {{ {_LATEST_RUN} }} AS ring_runs,
  COLLECT {{
    MATCH (a)-[r:{_TYPES}]->(n)
    WITH r, n, COUNT {{ (n)<-[:{_TYPES}]-() }} AS links
    CALL (a, n, links) {{
      WITH a, n, links WHERE links <= $ring_cap + 1
      MATCH (n)<-[x:{_TYPES}]-(b:{A}) WHERE b <> a
      RETURN collect([b.application_id, type(x)]) AS others, count(DISTINCT b) AS n_others
    }}
    RETURN {{rel: type(r), mobile: coalesce(n.is_mobile, false), links: links,
             others: others, n_others: n_others}} }} AS ring_links,
  COLLECT {{
    CALL () {{ {_LATEST_RUN_ID} }}
    MATCH (a)-[:{_TYPES}]->(n)
    WITH run_id, n WHERE COUNT {{ (n)<-[:{_TYPES}]-() }} <= $ring_cap + 1
    MATCH (n)<-[:{_TYPES}]-(b:{A})-[:{Rel.MEMBER_OF}]->(g:{RING})
    WHERE b <> a AND g.run_id = run_id
    RETURN DISTINCT {{app: b.application_id, ring_id: g.ring_id, score: g.score,
                      size: g.size, reasons: g.reasons}} }} AS ring_members
"""

SNAPSHOT = Query("lifecycle.decision_snapshot", RULE_FACTS_TEXT.rstrip() + _EXTRA)

#: The ring queries the snapshot answers, by name, with the sha256 of the text it
#: mirrors. A different text in rings/ means the mirror is stale: the real runner answers.
MIRRORED = {
    "rings.incremental_neighbourhood":
        "3de0db706862b20aeaacd2cbfd5073c6b586ad4d1ae393fd30d3d384b8087d47",
    "rings.latest_run": "ed7d91d36fcd3a8aa3bc23cd007ba2bb2fb2edd4c828b2a396223b48b4f6e4e5",
    "rings.incremental_rings_of":
        "f6a7c698e3464bc9f00f995ed8841a4c321a8e8952c2c80bffd97c1b8451c21b",
}


def text_hash(query: Query) -> str:
    return hashlib.sha256(query.text.encode()).hexdigest()


@dataclass
class Snapshot:
    """One decision's reads."""

    facts: RuleFacts
    status: str | None
    decision_count: int
    policy_body: str | None
    ring_run: dict[str, Any] | None
    ring_links: list[dict[str, Any]]
    ring_members: list[dict[str, Any]]
    hub_cap: int
    ring_cap: int


def read_snapshot(runner: QueryRunner | Transaction, application_id: str, *, hub_cap: int,
                  ring_cap: int) -> Snapshot:
    """The one read of a decision; ``hub_cap`` is the policy's, ``ring_cap`` the ring
    scorer's (identifiers on more applications are hubs and not expanded). ``runner`` may
    be the decision's own transaction, which sees the application it has just written."""
    found = read_snapshots(runner, [application_id], hub_cap=hub_cap, ring_cap=ring_cap)
    if application_id not in found:
        raise NotFound("application", application_id)
    return found[application_id]


def read_snapshots(runner: QueryRunner | Transaction, application_ids: list[str], *,
                   hub_cap: int, ring_cap: int) -> dict[str, Snapshot]:
    """``read_snapshot`` for several applications in one statement, by application id;
    an id not in the graph is not in the answer."""
    # read_plain: the answer holds lists and maps of plain values only (no nodes, no
    # relationships), which Record.data() would copy element by element for nothing
    # (a few hundred calls per decision, the largest share of its decoding time).
    rows = runner.read_plain(SNAPSHOT, application_ids=application_ids, hub_cap=hub_cap,
                             ring_cap=ring_cap, financed_states=list(FINANCED_STATES))
    return {row["application_id"]: Snapshot(
        facts=RuleFacts.model_validate(row), status=row["status"],
        decision_count=row["decision_count"],
        policy_body=(row["policy_bodies"] or [None])[0],
        ring_run=(row["ring_runs"] or [None])[0], ring_links=row["ring_links"],
        ring_members=row["ring_members"], hub_cap=hub_cap, ring_cap=ring_cap)
        for row in rows}


@dataclass
class GuardedReader:
    """The stand-in for the runner that scorers get. ``failure`` keeps the first
    exception a database call raised (inside a transaction it leaves the transaction
    unusable, so the decision must start again); with ``refused`` set, database calls
    raise it instead of running: the scorer sees the error it saw the first time,
    reports itself unavailable, and the transaction stays usable."""

    runner: QueryRunner | Transaction
    refused: Exception | None = field(default=None, kw_only=True)
    failure: Exception | None = field(default=None, kw_only=True)

    def read(self, query: Query, **params: Any) -> list[Row]:
        return self._database("read", query, params)

    def read_plain(self, query: Query, **params: Any) -> list[Row]:
        return self._database("read_plain", query, params)

    def write(self, query: Query, **params: Any) -> list[Row]:
        return self._database("write", query, params)

    def _database(self, method: str, query: Query, params: dict[str, Any]) -> list[Row]:
        if self.refused is not None:
            raise self.refused
        try:
            rows: list[Row] = getattr(self.runner, method)(query, **params)
        except Exception as exc:
            self.failure = self.failure or exc
            raise
        return rows

    def __getattr__(self, name: str) -> Any:
        # stream, transaction...: whatever else a scorer uses goes to the real runner.
        return getattr(self.runner, name)


@dataclass
class SnapshotReader(GuardedReader):
    """A ``GuardedReader`` for one application's decision that answers the ring queries
    from its snapshot, everything else from ``runner`` (the runner, or the decision's own
    transaction). ``served`` counts answers given."""

    snapshot: Snapshot
    application_id: str
    served: int = 0
    _answers: dict[str, Callable[[dict[str, Any]], list[Row] | None]] = field(
        default_factory=dict)

    def __post_init__(self) -> None:
        self._answers = {"rings.incremental_neighbourhood": self._neighbourhood,
                         "rings.latest_run": self._latest_run,
                         "rings.incremental_rings_of": self._rings_of}

    def read(self, query: Query, **params: Any) -> list[Row]:
        answer = self._answers.get(query.name)
        if answer is not None and MIRRORED.get(query.name) == text_hash(query):
            rows = answer(params)
            if rows is not None:
                self.served += 1
                return rows
        return self._database("read", query, params)

    def _neighbourhood(self, params: dict[str, Any]) -> list[Row] | None:
        if (params.get("app") != self.application_id
                or params.get("cap") != self.snapshot.ring_cap):
            return None
        return [dict(link) for link in self.snapshot.ring_links]

    def _latest_run(self, params: dict[str, Any]) -> list[Row] | None:
        run = self.snapshot.ring_run
        return [dict(run)] if run else []

    def _rings_of(self, params: dict[str, Any]) -> list[Row] | None:
        run = self.snapshot.ring_run
        if run is None or params.get("run_id") != run["run_id"]:
            return None
        apps = set(params.get("apps") or ())
        rings: dict[str, Row] = {}
        for m in self.snapshot.ring_members:
            if m["app"] in apps:
                rings.setdefault(m["ring_id"], {k: m[k] for k in
                                                ("ring_id", "score", "size", "reasons")})
        return list(rings.values())
