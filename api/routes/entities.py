from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.deps import PseudoDep, RunnerDep, require
from api.problems import ApiProblem
from api.roles import Permission
from api.schemas import (
    EntityView,
    GraphView,
    LookupRequest,
    RevealedValue,
    RevealRequest,
)
from api.security import User
from graph import explore
from graph.explore import BadReference, NodeRef
from graph.normalise import InvalidValue
from graph.privacy import Pseudonymiser
from graph.schema import LINKS, Label
from lifecycle import audit

router = APIRouter(prefix="/v1", tags=["entities"])

_KINDS = {link.kind.name: link.kind for link in LINKS}
# An employer's phone may be a landline: look phones up with the normaliser that takes both.
_KINDS["phone"] = next(link.kind for link in LINKS if link.column == "employer_phone")
_LENDER_IDS = {"dealer": Label.DEALER, "sales_agent": Label.SALES_AGENT,
               "application": Label.APPLICATION}


def _ref(text: str) -> NodeRef:
    try:
        return NodeRef.parse(text)
    except BadReference as exc:
        raise ApiProblem(422, "Invalid node reference", str(exc)) from None


def reference_for(kind: str, value: str, pseudo: Pseudonymiser) -> NodeRef:
    """The node a typed value lands on, normalised and hashed exactly as ingest does."""
    if kind in _LENDER_IDS:
        return NodeRef(_LENDER_IDS[kind], value.strip())
    identifier = _KINDS[kind]
    try:
        normalised = identifier.normaliser(value)
    except InvalidValue as exc:
        raise ApiProblem(422, "Invalid value", f"value: {exc}") from None
    key = pseudo.token(identifier.name, normalised) if identifier.personal else normalised
    return NodeRef(identifier.label, key)


@router.post("/entities/lookup", response_model=EntityView)
def lookup(body: LookupRequest, runner: RunnerDep, pseudo: PseudoDep,
           _: Annotated[User, Depends(require(Permission.LOOKUP_ENTITY))]) -> EntityView:
    """Find an entity by kind and value (POST, so personal values stay out of URLs and
    access logs) with the applications linked to it."""
    ref = reference_for(body.kind, body.value, pseudo)
    node = explore.get_node(runner, ref)
    if node is None:
        raise ApiProblem(404, "Not found", f"no {body.kind} with that value is in the graph")
    return EntityView.model_validate(
        {"node": node, "applications": explore.linked_applications(runner, ref)})


@router.get("/graph/neighbourhood", response_model=GraphView)
def neighbourhood(runner: RunnerDep,
                  _: Annotated[User, Depends(require(Permission.EXPLORE_GRAPH))],
                  node: Annotated[str, Query(description="Node reference 'Label:key'")],
                  hops: Annotated[int, Query(ge=1, le=3)] = 1,
                  limit: Annotated[int, Query(ge=1, le=500)] = 100) -> GraphView:
    """The k-hop neighbourhood of a node, at most ``limit`` nodes."""
    ref = _ref(node)
    graph = explore.neighbourhood(runner, ref, hops=hops, limit=limit)
    if not graph.nodes:
        raise ApiProblem(404, "Not found", f"node {node!r} does not exist")
    return GraphView.model_validate({"nodes": list(graph.nodes.values()), "edges": graph.edges,
                                     "truncated": graph.truncated})


@router.get("/graph/path", response_model=GraphView)
def path(runner: RunnerDep, _: Annotated[User, Depends(require(Permission.EXPLORE_GRAPH))],
         source: Annotated[str, Query(alias="from")],
         target: Annotated[str, Query(alias="to")]) -> GraphView:
    """The shortest path (at most 8 links) between two nodes; empty when there is none."""
    graph = explore.shortest_path(runner, _ref(source), _ref(target))
    return GraphView.model_validate({"nodes": list(graph.nodes.values()), "edges": graph.edges})


@router.post("/entities/reveal", response_model=RevealedValue)
def reveal(body: RevealRequest, runner: RunnerDep, pseudo: PseudoDep,
           user: Annotated[User, Depends(require(Permission.REVEAL_PII))]) -> RevealedValue:
    """The clear value of a personal identifier or of an applicant's name ('Application:ID'),
    written to the audit log with the reason."""
    ref = _ref(body.node)
    rows = explore.encrypted_value(runner, ref)
    if rows is None:
        raise ApiProblem(404, "Not found", f"{body.node!r} has no stored personal value")
    event = audit.record(runner, actor=user.username, at=datetime.now(UTC),
                         action="reveal_pii", target=str(ref), params={"reason": body.reason})
    return RevealedValue(node=str(ref), value=pseudo.decrypt(rows), audit_event=event)
