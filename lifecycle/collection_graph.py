"""Graph-assisted collection: a queue ordered by graph risk as well as amount, and the
contacts a collector may use, found through the network and masked by role."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from graph.runner import Query, QueryRunner
from graph.schema import IDENTIFIER_RELS, Label, Rel
from lifecycle import audit, rings_link
from lifecycle.context import Lifecycle
from lifecycle.errors import InvalidInput, NotFound
from lifecycle.states import LoanState
from rings.scoring import SCORE_MAX

A, PH = Label.APPLICATION.value, Label.PHONE.value

QUEUE = Query(
    "lifecycle.collection.queue",
    f"""
    MATCH (a:{A}) WHERE a.status = $delinquent
    WITH a,
      COLLECT {{ MATCH (a)-[:{rings_link.MEMBER_OF}]->(r:{rings_link.RING})
                 RETURN r.score / {SCORE_MAX} }} AS ring_scores,
      COUNT {{ MATCH (a)-[r1]->(n)<-[r2]-(o:{A})
               WHERE o <> a AND o.label = 'fraud' AND type(r1) IN $id_rels
                 AND type(r2) IN $id_rels }} AS fraud_neighbours
    RETURN a.application_id AS application_id, a.dpd AS dpd,
           a.collection_stage AS stage, coalesce(a.overdue_amount, 0.0) AS overdue_amount,
           a.loan_amount AS loan_amount, fraud_neighbours,
           coalesce(reduce(m = 0.0, s IN ring_scores | CASE WHEN s > m THEN s ELSE m END),
                    0.0) AS ring_score,
           coalesce(a.ring_score, 0.0) AS decision_ring_score,
           coalesce(a.gnn_score, 0.0) AS gnn_score,
           coalesce(a.early_warning, false) AS early_warning
    """,
)


class QueueItem(BaseModel):
    application_id: str
    stage: str | None
    dpd: int | None
    overdue_amount: float
    graph_risk: float
    priority: float
    why: list[str]


def graph_risk(row: dict[str, Any]) -> tuple[float, list[str]]:
    """A 0..1 graph risk from ring scores, the GNN score and confirmed-fraud neighbours."""
    parts = {
        "ring score": max(row["ring_score"], row["decision_ring_score"]),
        "graph model score": row["gnn_score"],
        "links to confirmed fraud": min(1.0, 0.25 * row["fraud_neighbours"]),
        "ring early warning": 0.5 if row["early_warning"] else 0.0,
    }
    risk = max(parts.values())
    why = [f"{name} {value:.2f}" for name, value in
           sorted(parts.items(), key=lambda kv: -kv[1]) if value > 0]
    return risk, why


def collection_queue(runner: QueryRunner, limit: int = 100) -> list[QueueItem]:
    """Delinquent loans, highest priority first: overdue amount weighted by graph risk
    (``overdue * (1 + 2 * risk)``), so a risky small debt can pass a quiet larger one."""
    items = []
    for row in runner.read(QUEUE, delinquent=LoanState.DELINQUENT.value,
                           id_rels=[r.value for r in IDENTIFIER_RELS]):
        risk, why = graph_risk(row)
        overdue = float(row["overdue_amount"])
        items.append(QueueItem(application_id=row["application_id"], stage=row["stage"],
                               dpd=row["dpd"], overdue_amount=overdue,
                               graph_risk=round(risk, 3),
                               priority=round(overdue * (1 + 2 * risk), 2), why=why))
    items.sort(key=lambda i: (-i.priority, i.application_id))
    return items[:limit]


CONTACTS = Query(
    "lifecycle.collection.contacts",
    f"""
    MATCH (a:{A} {{application_id: $application_id}})
    OPTIONAL MATCH (a)-[:{Rel.APPLICANT}]->(me:{Label.PERSON})
    OPTIONAL MATCH (a)-[:{Rel.APPLICANT_PHONE}]->(own:{PH})
    RETURN a.status AS status, a.collection_stage AS stage,
      COLLECT {{ MATCH (a)-[:{Rel.CONTACT_PHONE}]->(p:{PH})
        RETURN {{relation: 'emergency_contact', via: a.application_id,
                 name: a.contact_name_masked, phone: p.masked, token: p.key,
                 address: null}} }} AS emergency,
      COLLECT {{ MATCH (me)<-[:{Rel.APPLICANT}]-(o:{A})-[r]->(p:{PH})
        WHERE o <> a AND type(r) IN $phone_rels AND p <> own
        RETURN DISTINCT {{relation: CASE type(r) WHEN $contact_rel
                            THEN 'emergency_contact_on_other_application'
                            ELSE 'own_phone_on_other_application' END,
                 via: o.application_id, name: null, phone: p.masked, token: p.key,
                 address: null}} }} AS own_other,
      COLLECT {{ MATCH (a)-[:{Rel.HOME_ADDRESS}]->(ad:{Label.ADDRESS})
                       <-[:{Rel.HOME_ADDRESS}]-(o:{A})-[:{Rel.APPLICANT_PHONE}]->(p:{PH})
        WHERE o <> a AND NOT (o)-[:{Rel.APPLICANT}]->(me)
        RETURN DISTINCT {{relation: 'co_resident_applicant', via: o.application_id,
                 name: o.applicant_name_masked, phone: p.masked, token: p.key,
                 address: ad.masked}} }} AS household,
      COLLECT {{ MATCH (own)<-[:{Rel.CONTACT_PHONE}]-(o:{A})-[:{Rel.APPLICANT_PHONE}]->(p:{PH})
        WHERE o <> a AND NOT (o)-[:{Rel.APPLICANT}]->(me)
        RETURN DISTINCT {{relation: 'names_borrower_as_contact', via: o.application_id,
                 name: o.applicant_name_masked, phone: p.masked, token: p.key,
                 address: null}} }} AS named_by
    """,
)

#: What each collection role may see. Nobody sees a clear number here: the dialer calls
#: by ``token``; unmasked export is a four-eyes action.
ROLES: dict[str, frozenset[str]] = {
    "collector": frozenset({"relation", "name", "phone", "token"}),
    "field_collector": frozenset({"relation", "name", "phone", "token", "address"}),
    "legal": frozenset({"relation", "name", "phone", "token", "address", "via"}),
}
COLLECTION_STAGES = ("m1", "m2", "m3", "severe")


class Contact(BaseModel):
    relation: str
    name: str | None = None
    phone: str | None = None
    token: str | None = None
    address: str | None = None
    via: str | None = None


def reachable_contacts(ctx: Lifecycle, application_id: str, *, role: str,
                       actor: str) -> list[Contact]:
    """Contacts for a loan in collection: emergency contacts (this and the borrower's other
    applications), co-resident applicants, and applicants who named the borrower as their
    contact; fields the role may not see are left out."""
    allowed = ROLES.get(role)
    if allowed is None:
        raise InvalidInput("role", f"{role!r} is not one of {', '.join(ROLES)}")
    rows = ctx.runner.read(CONTACTS, application_id=application_id,
                           phone_rels=[Rel.APPLICANT_PHONE.value, Rel.CONTACT_PHONE.value],
                           contact_rel=Rel.CONTACT_PHONE.value)
    if not rows:
        raise NotFound("application", application_id)
    row = rows[0]
    if row["status"] != LoanState.DELINQUENT or row["stage"] not in COLLECTION_STAGES:
        raise InvalidInput("application_id", f"{application_id!r} is not in collection "
                                             f"(status {row['status']}, stage {row['stage']})")
    seen: set[tuple[str, str | None]] = set()
    out = []
    for group in ("emergency", "own_other", "household", "named_by"):
        for item in row[group]:
            if (item["relation"], item["token"]) in seen:
                continue
            seen.add((item["relation"], item["token"]))
            out.append(Contact(**{k: v for k, v in item.items() if k in allowed}))
    audit.record(ctx.runner, actor=actor, at=ctx.clock(), action="collection.contacts_view",
                 target=application_id, params={"role": role, "contacts": len(out)})
    return out
